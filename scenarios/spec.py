"""The parts of a campaign file that the load processes read: load, journeys, agents, browser.

The whole campaign model (target, faults, SLOs, outputs) lives in ``anef_harness.campaign``
and extends ``ScenarioSpec``; a Locust process started by hand (``locust -f
scenarios/locustfile.py --campaign FILE``) validates only these sections, so it never needs
the conductor's parts.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from core.registry import suggest
from scenarios.journeys import drawable
from scenarios.journeys.runner import JourneySettings
from scenarios.shapes import SHAPES, ShapeError, check_shape
from synthetic_users.agents import AgentPace
from synthetic_users.spec import PopulationSpec

_SPAN = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")


def parse_seconds(value: Any) -> Any:
    """``90``, ``"90s"``, ``"5m"``, ``"1h30m"`` → seconds; anything else is left to fail validation."""
    if isinstance(value, str):
        found = _SPAN.match(value)
        if found and any(found.groups()):
            hours, minutes, seconds = (float(part) if part else 0.0 for part in found.groups())
            return hours * 3600 + minutes * 60 + seconds
        raise ValueError(f"expected a duration such as 90, '90s', '5m' or '1h30m', got {value!r}")
    return value


Seconds = Annotated[float, BeforeValidator(parse_seconds), Field(ge=0, allow_inf_nan=False)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoadSpec(_Section):
    """The workload model and its shape over time."""

    model: Literal["closed", "open"] = Field(
        "closed", description="closed: a number of users looping; open: journeys arrive at a rate"
    )
    shape: str = Field("constant", description="a registered shape (scenarios/shapes.py)")
    params: dict[str, float] = Field(default_factory=dict, validate_default=True, description="the shape's parameters")
    users: int = Field(10, ge=1, le=100_000, description="closed: peak users; open: virtual users available")
    spawn_rate: float = Field(10.0, gt=0, description="closed: users started per second")
    rate: float | None = Field(None, gt=0, validate_default=True, description="open: peak journeys started per second")

    # Field validators rather than one model validator, so an error names load.shape, load.params
    # or load.rate (and its line) instead of the whole section.
    @field_validator("shape")
    @classmethod
    def _known_shape(cls, value: str) -> str:
        if value not in SHAPES:
            _check_shape(value, {})  # raises, with "did you mean"
        return value

    @field_validator("params")
    @classmethod
    def _shape_params(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        if "shape" in info.data:  # else the shape itself was refused
            _check_shape(info.data["shape"], value)
        return value

    @field_validator("rate")
    @classmethod
    def _open_needs_rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None and info.data.get("model") == "open":
            raise ValueError("the open model needs a rate (journeys per second)")
        return value


def _check_shape(name: str, params: dict[str, float]) -> None:
    try:
        check_shape(name, params)
    except ShapeError as exc:
        raise ValueError(str(exc)) from None


class AgentsSpec(_Section):
    """Background prefecture agents working their queues while applicants run journeys."""

    users: int = Field(0, ge=0, le=10_000, description="agents working at once (0: only journeys act as agents)")
    pace: AgentPace = Field(default_factory=AgentPace)


class BrowserSpec(_Section):
    """The browser share: applicants using the French pages in Chromium, beside the protocol load."""

    users: int = Field(0, ge=0, le=16, description="browsers running journeys at once (0: none)")
    journeys: dict[str, float] = Field(
        default_factory=lambda: {"login": 1.0, "password_reset": 1.0, "renewal": 1.0},
        description="weights of the browser journeys",
    )

    @field_validator("journeys")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        return check_weights(value, {"login", "password_reset", "renewal"}, "browser journey")


def check_weights(value: dict[str, float], known: Collection[str], what: str) -> dict[str, float]:
    for name, weight in value.items():
        if name not in known:
            hint = suggest(name, sorted(known), listed=len(known))
            raise ValueError(f"unknown {what} {name!r}{hint}")
        if weight < 0:
            raise ValueError(f"{name}: weight must be >= 0, got {weight}")
    if value and sum(value.values()) <= 0:
        raise ValueError(f"the {what} weights are all zero")
    return value


class ScenarioSpec(_Section):
    """What a load process needs to run a campaign's journeys."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="names the results folder")
    seed: int = 1
    duration: Seconds = Field(description="how long load runs: 90, '90s', '5m', '1h30m'")
    population: PopulationSpec
    load: LoadSpec = Field(default_factory=LoadSpec)
    journeys: dict[str, float] = Field(default_factory=lambda: {"login": 1.0})
    journey_settings: JourneySettings = Field(default_factory=JourneySettings)
    agents: AgentsSpec = Field(default_factory=AgentsSpec)
    browser: BrowserSpec = Field(default_factory=BrowserSpec)

    @field_validator("journeys")
    @classmethod
    def _journeys(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("at least one journey is needed")
        return check_weights(value, drawable(), "journey")

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("expected a positive duration")
        return value


SCENARIO_KEYS = frozenset(ScenarioSpec.model_fields)
