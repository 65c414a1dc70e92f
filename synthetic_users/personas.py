"""Personas: how a synthetic applicant behaves, read by the journeys.

Registered by name with ``@persona``; a population spec mixes them by weight. Think time is a
tiny function like Locust's ``between`` so journeys can draw from it with their own random.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from core.registry import Registry

Channel = Literal["api", "browser"]


@dataclass(frozen=True)
class Persona:
    name: str
    think_time: tuple[float, float]  # seconds between two steps, drawn uniformly
    patience: int  # retries of a failing step before giving up
    abandonment: float  # probability of dropping the journey at each step
    channel: Channel
    answers_agent_requests: float  # probability of answering a request for complements

    def think(self, rng: random.Random) -> float:
        low, high = self.think_time
        return rng.uniform(low, high)


PERSONAS: Registry[Persona] = Registry("persona")
"""Every persona, by the name population specs use."""


def persona(factory: Callable[[], Persona]) -> Callable[[], Persona]:
    """Register the persona a factory builds; its function name is the key used in YAML."""
    built = factory()
    if built.name != factory.__name__:
        raise ValueError(f"persona {built.name!r} must be built by a function of the same name")
    PERSONAS.add(built.name, built)
    return factory


def get_persona(name: str) -> Persona:
    """The persona named ``name``; ``UnknownName`` (a ``KeyError``) with "did you mean" if none."""
    return PERSONAS.get_or_fail(name)


@persona
def methodical() -> Persona:
    """Reads every page, retries calmly, answers the prefecture."""
    return Persona("methodical", (3.0, 12.0), patience=3, abandonment=0.01, channel="api", answers_agent_requests=0.95)


@persona
def hurried() -> Persona:
    """Clicks through fast and gives up quickly."""
    return Persona("hurried", (0.5, 2.0), patience=1, abandonment=0.05, channel="api", answers_agent_requests=0.8)


@persona
def anxious() -> Persona:
    """Retries again and again when something fails (the load a defect causes)."""
    return Persona("anxious", (1.0, 4.0), patience=8, abandonment=0.01, channel="api", answers_agent_requests=0.99)


@persona
def browser_user() -> Persona:
    """Uses the French pages in a browser rather than the API."""
    return Persona(
        "browser_user", (2.0, 8.0), patience=2, abandonment=0.03, channel="browser", answers_agent_requests=0.9
    )


@persona
def unresponsive() -> Persona:
    """Files and then rarely comes back: agent requests mostly go unanswered."""
    return Persona("unresponsive", (2.0, 10.0), patience=1, abandonment=0.08, channel="api", answers_agent_requests=0.2)


DEFAULT_PERSONA_MIX: dict[str, float] = {
    "methodical": 0.40,
    "hurried": 0.25,
    "anxious": 0.15,
    "browser_user": 0.10,
    "unresponsive": 0.10,
}
