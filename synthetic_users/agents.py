"""Synthetic prefecture agents: who they are, how fast they work, and a worker that works a queue.

An agent's identity is a pure function of (seed, prefecture, rank), so every process of a
distributed campaign derives the same logins and passwords without shipping a file. The worker
talks to the platform only over HTTP, as a real agent's browser would, and sees only its own
prefecture (the platform enforces it). It keeps lifecycles moving during a campaign: review,
request complements, decide, produce the card, make it available, hand it over.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
import string
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from faker import Faker
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import HarnessError

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
    """What an agent did: the keys of ``AgentStats.actions``."""

    REVIEW = "review"
    REQUEST_COMPLEMENTS = "request_complements"
    ACCEPT = "accept"
    REFUSE = "refuse"
    PRODUCE_CARD = "produce_card"
    MAKE_AVAILABLE = "make_available"
    HAND_OVER = "hand_over"


@dataclass(frozen=True)
class AgentStats:
    """A snapshot of a worker's counters. ``errors`` keys: ``http_<status>``, ``transport``,
    ``login``, ``bad_response``, ``unexpected``."""

    actions: Mapping[str, int]
    errors: Mapping[str, int]
    logins: int
    passes: int

    @property
    def action_count(self) -> int:
        return sum(self.actions.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class AgentLoginError(HarnessError):
    """The platform refused the agent's credentials or could not be reached to check them."""


# The harness reads only the fields it acts on and ignores the rest, so that a field added to
# the platform's answers does not stop every agent of a campaign.
class _Card(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    state: str
    applicant_id: str | None = None


class _Dossier(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    procedure: str
    state: str
    requests: list[dict[str, Any]] = Field(default_factory=list)
    card: _Card | None = None


@dataclass(frozen=True)
class _Step:
    action: AgentAction
    path: str
    body: dict[str, str] | None = None


class _Failed(Exception):
    """A request failed; the failure is already counted."""


_CARD_PROCEDURES = frozenset({"renewal", "duplicate"})  # an address change gives no new card
_PATHS = {
    AgentAction.REVIEW: "review",
    AgentAction.PRODUCE_CARD: "card/produce",
    AgentAction.MAKE_AVAILABLE: "card/available",
}


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


# --- the worker ------------------------------------------------------------------------------


class AgentWorker:
    """One synthetic agent working its prefecture's queue over HTTP; one thread per worker."""

    def __init__(
        self,
        base_url: str,
        identity: AgentIdentity,
        pace: AgentPace | None = None,
        rng: random.Random | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.identity = identity
        self.pace = pace or AgentPace()
        # Seeded from the login by default so that a rerun makes the same decisions.
        self.rng = rng or random.Random(int.from_bytes(_digest("decisions", 0, identity.login)[:8], "big"))
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._token: str | None = None
        self._lock = threading.Lock()
        self._actions: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._logins = 0
        self._passes = 0

    def __enter__(self) -> AgentWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def stats(self) -> AgentStats:
        with self._lock:
            return AgentStats(dict(self._actions), dict(self._errors), self._logins, self._passes)

    def login(self) -> None:
        """Open a session; raises ``AgentLoginError`` (and counts it) when that fails."""
        credentials = {"login": self.identity.login, "password": self.identity.password}
        try:
            response = self._http.post("/api/agent/login", json=credentials)
        except httpx.HTTPError as exc:
            self._count_error("transport")
            raise AgentLoginError(f"{self.identity.login}: {self._http.base_url} unreachable ({exc})") from exc
        if response.status_code != 200:
            self._count_error("login")
            raise AgentLoginError(
                f"{self.identity.login}: login refused by {self._http.base_url}, expected 200, got "
                f"{response.status_code} {response.text[:200]} (is the agent seeded with this seed?)"
            )
        try:
            self._token = str(response.json()["token"])
        except (ValueError, KeyError, TypeError) as exc:
            self._count_error("bad_response")
            raise AgentLoginError(
                f"{self.identity.login}: login answer without a token: {response.text[:200]}"
            ) from exc
        with self._lock:
            self._logins += 1

    def run_once(self) -> int:
        """One pass over the queue, one action at most per dossier; returns the actions taken."""
        return self._pass(None)[0]

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, at ``actions_per_minute`` on average (bursts of a pass)."""
        interval = 60.0 / self.pace.actions_per_minute
        while not stop.is_set():
            started = time.monotonic()
            try:
                attempted = self._pass(stop)[1]
            except Exception:  # a worker thread that dies silently would stall every lifecycle
                log.exception("agent %s: unexpected failure in a pass", self.identity.login)
                self._count_error("unexpected")
                attempted = 0
            # Attempts, not successes, set the wait, so a failing platform is not hammered; an
            # empty queue waits one interval too.
            stop.wait(max(0.0, max(attempted, 1) * interval - (time.monotonic() - started)))

    def hand_over_available(self, *, applicant_id: str | None = None, limit: int = 50) -> list[str]:
        """Hand over cards waiting at the prefecture (seeded ones have no dossier in the queue),
        optionally only one applicant's: the card_handover journey. Returns the card ids."""
        try:
            found = self._send("GET", "/api/agent/cards", params={"state": "available", "limit": limit})
            cards = [_Card.model_validate(c) for c in found.json()]
        except (_Failed, AgentLoginError):
            return []
        except (ValueError, ValidationError):
            self._count_error("bad_response")
            return []
        handed = []
        for card in cards:
            if applicant_id is not None and card.applicant_id != applicant_id:
                continue
            try:
                if self._execute(_Step(AgentAction.HAND_OVER, f"/api/agent/cards/{card.id}/handover")):
                    handed.append(card.id)
            except AgentLoginError:
                break
        return handed

    # --- one pass ----------------------------------------------------------------------------

    def _pass(self, stop: threading.Event | None) -> tuple[int, int]:
        """(actions taken, actions attempted); never raises for an HTTP failure."""
        with self._lock:
            self._passes += 1
        try:
            answer = self._send("GET", "/api/agent/queue", params={"limit": self.pace.queue_page})
            queue = [_Dossier.model_validate(d) for d in answer.json()]
        except (_Failed, AgentLoginError):
            return 0, 0
        except (ValueError, ValidationError):
            self._count_error("bad_response")
            return 0, 0
        done = attempted = 0
        for dossier in queue:
            if attempted >= self.pace.max_batch or (stop is not None and stop.is_set()):
                break
            step = self._plan(dossier)
            if step is None:
                continue
            attempted += 1
            try:
                if self._execute(step):
                    done += 1
            except AgentLoginError:
                break  # the session is gone and cannot be reopened: the next pass retries
        return done, attempted

    def _plan(self, dossier: _Dossier) -> _Step | None:
        """The next action on a dossier, by its state; None while it waits on someone else."""
        planned = plan(
            dossier.state, dossier.procedure, has_requests=bool(dossier.requests), pace=self.pace, rng=self.rng
        )
        base = f"/api/agent/dossiers/{dossier.id}"
        if planned is None:
            return None
        if planned.action is AgentAction.REQUEST_COMPLEMENTS:
            return _Step(planned.action, f"{base}/requests", {"message": str(planned.message)})
        if planned.action in (AgentAction.ACCEPT, AgentAction.REFUSE):
            return _Step(planned.action, f"{base}/decision", {"decision": str(planned.decision)})
        if planned.action is AgentAction.HAND_OVER:
            card = dossier.card
            return None if card is None else _Step(planned.action, f"/api/agent/cards/{card.id}/handover")
        return _Step(planned.action, f"{base}/{_PATHS[planned.action]}")

    def _execute(self, step: _Step) -> bool:
        try:
            self._send("POST", step.path, json=step.body)
        except _Failed:
            return False
        with self._lock:
            self._actions[step.action.value] += 1
        return True

    # --- HTTP --------------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, json: dict[str, str] | None = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A request in the agent's session; a 401 re-logs in once and resends. Raises
        ``_Failed`` (counted) for an error answer, ``AgentLoginError`` when no session opens."""
        if self._token is None:
            self.login()
        response = self._request(method, path, json, params)
        if response.status_code == 401:
            self._token = None
            self.login()
            response = self._request(method, path, json, params)
        if response.is_error:
            self._count_error(f"http_{response.status_code}")
            raise _Failed(f"{method} {path}: {response.status_code}")
        return response

    def _request(
        self, method: str, path: str, json: dict[str, str] | None, params: dict[str, Any] | None
    ) -> httpx.Response:
        try:
            return self._http.request(
                method, path, json=json, params=params, headers={"Authorization": f"Bearer {self._token}"}
            )
        except httpx.HTTPError as exc:
            self._count_error("transport")
            raise _Failed(f"{method} {path}: {exc}") from exc

    def _count_error(self, kind: str) -> None:
        with self._lock:
            self._errors[kind] += 1
