"""Synthetic prefecture agents: who they are, how fast they work, and what they do next with a dossier.

An agent's identity is a pure function of (seed, prefecture, rank), so every process of a
distributed campaign derives the same logins and passwords without shipping a file. ``plan``
keeps lifecycles moving during a campaign: review, request complements, decide, produce the card,
make it available, hand it over. The agents that act on it over HTTP, each action a recorded step
watched on the applicant's side, are ``scenarios.journeys.background.BackgroundAgent``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from faker import Faker
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

# The platform's own rules for agent records (AgentSeed): checked here so a bad campaign fails
# before any load is sent, not as a rejected seed batch.
_PREFECTURE = re.compile(r"^(\d{2,3}|2A|2B)$")
_LOGIN_PREFIX = re.compile(r"^[a-z0-9_-]+$")

# Demandes de compléments as prefectures word them; the worker picks one per request.
COMPLEMENT_MESSAGES = (
    "Merci de fournir un justificatif de domicile de moins de 6 mois.",
    "Le justificatif de ressources transmis est illisible : merci d'en déposer une nouvelle copie.",
    "Merci de transmettre une photographie d'identité conforme (code e-photo).",
    "Merci de joindre la copie intégrale de votre passeport, toutes pages comprises.",
    "Merci de préciser votre situation professionnelle actuelle et d'en joindre un justificatif.",
)


# --- identities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentIdentity:
    """One synthetic agent of one prefecture, with the password the harness seeds for it."""

    login: str
    name: str
    prefecture: str
    password: str


def agent_identities(
    prefectures: Iterable[str], per_prefecture: int, seed: int, *, prefix: str = "agent"
) -> list[AgentIdentity]:
    """``per_prefecture`` agents for each prefecture, logins ``agent.75.1``, ``agent.75.2``, …

    Names and passwords derive from (seed, login) only, so any process gets the same list.
    ``prefix`` namespaces the logins: the platform seeds agents idempotently by login, so agents
    re-seeded with another seed keep their first password unless their logins differ.
    """
    if per_prefecture < 0:
        raise ValueError(f"per_prefecture must be >= 0, got {per_prefecture}")
    if not _LOGIN_PREFIX.match(prefix):
        raise ValueError(f"prefix must match {_LOGIN_PREFIX.pattern}, got {prefix!r}")
    identities = []
    for prefecture in dict.fromkeys(prefectures):  # a repeated prefecture would repeat logins
        if not _PREFECTURE.match(prefecture):
            raise ValueError(f"prefecture must be a département code such as '75' or '2A', got {prefecture!r}")
        for rank in range(1, per_prefecture + 1):
            login = f"{prefix}.{prefecture.lower()}.{rank}"
            identities.append(
                AgentIdentity(
                    login=login,
                    name=_french_name(_digest("name", seed, login)),
                    prefecture=prefecture,
                    password=_password(_digest("password", seed, login)),
                )
            )
    return identities


def to_seed_record(identity: AgentIdentity) -> dict[str, str]:
    """The identity as one record of the platform's bulk seed (``AgentSeed``, NDJSON line)."""
    return {
        "type": "agent",
        "login": identity.login,
        "name": identity.name,
        "prefecture": identity.prefecture,
        "password": identity.password,
    }


def _digest(purpose: str, seed: int, login: str) -> bytes:
    # hashlib, never hash(): str hashes are salted per process (PYTHONHASHSEED).
    return hashlib.sha256(f"anef-harness/agent/{purpose}\0{seed}\0{login}".encode()).digest()


def _password(digest: bytes) -> str:
    """15 characters, always letters and digits: passes any usual password policy."""
    letters = "".join(string.ascii_letters[b % len(string.ascii_letters)] for b in digest[:8])
    return f"{letters}-{int.from_bytes(digest[8:12], 'big') % 10**6:06d}"


_faker_lock = threading.Lock()


@functools.cache
def _faker() -> Faker:
    return Faker("fr_FR")


def _french_name(digest: bytes) -> str:
    # One shared Faker (building one costs tens of ms), reseeded per name: the lock keeps another
    # thread from drawing between the reseed and the draw.
    with _faker_lock:
        fake = _faker()
        fake.seed_instance(int.from_bytes(digest[:8], "big"))
        return f"{fake.first_name()} {fake.last_name()}"


# --- behaviour -------------------------------------------------------------------------------


class AgentPace(BaseModel):
    """How an agent works. The shares are assumptions (no published figure), tuned per campaign."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actions_per_minute: float = Field(
        6.0, gt=0, description="average rate of actions; a campaign compresses weeks of instruction into hours"
    )
    complement_share: float = Field(
        0.2, ge=0, le=1, description="share of dossiers under review that get one request for complements"
    )
    refusal_share: float = Field(0.05, ge=0, le=1, description="share of decisions that are refusals")
    hand_over_cards: bool = Field(
        True, description="accepted renewals and duplicates go on: card produced, available, handed over"
    )
    max_batch: int = Field(10, ge=1, le=500, description="at most this many actions in one pass over the queue")
    queue_page: int = Field(
        100, ge=1, le=500, description="dossiers read per pass; those waiting for an answer take room in it"
    )


class AgentAction(StrEnum):
    """What an agent does to a dossier (or its card), as ``plan`` decides it."""

    REVIEW = "review"
    REQUEST_COMPLEMENTS = "request_complements"
    ACCEPT = "accept"
    REFUSE = "refuse"
    PRODUCE_CARD = "produce_card"
    MAKE_AVAILABLE = "make_available"
    HAND_OVER = "hand_over"


_CARD_PROCEDURES = frozenset({"renewal", "duplicate"})  # an address change gives no new card


@dataclass(frozen=True)
class Planned:
    """The next action on one dossier, as ``plan`` decides it."""

    action: AgentAction
    message: str | None = None  # a request for complements: its wording
    decision: str | None = None  # a decision: accepted or refused


def actionable(state: str, procedure: str, pace: AgentPace) -> bool:
    """Whether ``plan`` has something to do with a dossier in this state (without drawing anything)."""
    if state in ("submitted", "under_review"):
        return True
    cards = pace.hand_over_cards and procedure in _CARD_PROCEDURES
    return cards and state in ("accepted", "card_produced", "card_available")


def plan(state: str, procedure: str, *, has_requests: bool, pace: AgentPace, rng: random.Random) -> Planned | None:
    """What an agent does next with a dossier in ``state``: review, ask once for complements, decide,
    then for a card (renewal, duplicate) produce it, make it available and hand it over. None while
    the dossier waits on someone else (the applicant's answer) or is finished."""
    cards = pace.hand_over_cards and procedure in _CARD_PROCEDURES
    if state == "submitted":
        return Planned(AgentAction.REVIEW)
    if state == "under_review":
        # Once per dossier: after the applicant's answer the dossier comes back for a decision.
        if not has_requests and rng.random() < pace.complement_share:
            return Planned(AgentAction.REQUEST_COMPLEMENTS, message=rng.choice(COMPLEMENT_MESSAGES))
        if rng.random() < pace.refusal_share:
            return Planned(AgentAction.REFUSE, decision="refused")
        return Planned(AgentAction.ACCEPT, decision="accepted")
    if not cards:
        return None
    following = {"accepted": AgentAction.PRODUCE_CARD, "card_produced": AgentAction.MAKE_AVAILABLE}
    if state in following:
        return Planned(following[state])
    if state == "card_available":
        return Planned(AgentAction.HAND_OVER)
    return None  # complement_requested: the applicant's answer comes back through the seam
