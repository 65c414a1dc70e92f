"""Defect detectors: the catalogue's defects recognised from what applicants and agents see.

Each detector is a plain function of one step event (a mapping shaped like a JSON line of
``events/*.jsonl``), registered with ``@detector(title=…, denominator=…, description=…)``; its
function name is the defect id (the fault catalogue's id). It returns a ``Detection`` (the
defect, its human title, the evidence and the ids the ledger would name) or None. Detection never
reads the platform's ledger (DESIGN.md, principle 3): only outcomes, statuses, messages,
durations and the evidence the journeys recorded (dossier, document, request, card, what a watch
was still waiting for, the platform's applicant id on failures).

One platform incident often shows several times (a retried refusal, a card never marked handed
over that later blocks the renewal): ``Findings`` counts *symptoms* (events) and *incidents*
(symptoms grouped per detector: by object, by applicant, by journey or one per attempt).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from core.errors import ConfigError
from scenarios.events import Event, StepEvent
from scenarios.journeys import watch_kind

# How the symptoms of one defect group into platform incidents:
#   object    one incident per id the ledger names (a document lost twice is one loss)
#   applicant one per applicant (the card never marked handed over, then every refused renewal)
#   journey   one per journey (a dropped session answers 401 to every retry that follows)
#   attempt   one per step attempt (each attempt is a new draw of the fault)
Grouping = Literal["object", "applicant", "journey", "attempt"]


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds of the detectors that judge durations, in seconds.

    On the reference platform an uncontended request answers in tens of milliseconds and a
    change crosses the seam or an e-mail reaches the mailbox in well under a second (p99 about
    0.4 s in the shipped campaigns), so these are an order of magnitude above normal.
    """

    latency_s: float = 5.0
    email_delay_s: float = 10.0
    sync_delay_s: float = 5.0

    @property
    def shortest_s(self) -> float:
        return min(self.latency_s, self.email_delay_s, self.sync_delay_s)


DEFAULT_SETTINGS = DetectorSettings()


@dataclass(frozen=True)
class Evidence:
    """What the harness saw: who, where, when, which ids."""

    step: str
    time: float  # when the attempt started (epoch seconds)
    duration_s: float
    journey_id: str
    attempt: int
    channel: str
    applicant: int | None  # the population's index
    applicant_id: str | None  # the platform's id (recorded on failures once logged in)
    dossier: str | None
    document: str | None
    request: str | None
    card: str | None
    message: str
    status: int | None

    @property
    def ended(self) -> float:
        """When the harness knew: the end of the attempt (a watch's deadline for ``lost``)."""
        return self.time + self.duration_s


@dataclass(frozen=True)
class Detection:
    """One event recognised as a symptom of one defect."""

    defect: str
    title: str
    why: str  # this symptom, in one sentence
    evidence: Evidence
    objects: tuple[str, ...] = ()  # ids the ledger would name (dossier, document, request, card, procedure)

    def sample(self) -> dict[str, Any]:
        """JSON-ready, for ``summary.json`` and reports."""
        e = self.evidence
        ids = {"dossier": e.dossier, "document": e.document, "request": e.request, "card": e.card}
        return {
            "title": self.title,
            "why": self.why,
            "step": e.step,
            "applicant": e.applicant,
            "applicant_id": e.applicant_id,
            "time": round(e.time, 6),
            "message": e.message,
            "objects": list(self.objects),
            "evidence": {key: value for key, value in ids.items() if value},
        }


@dataclass(frozen=True)
class Symptom:
    """What a detector's body returns; the registry adds the defect's id, title and evidence."""

    why: str
    objects: tuple[str, ...] = ()


class DetectorFunction(Protocol):
    def __call__(self, event: StepEvent, settings: DetectorSettings = DEFAULT_SETTINGS, /) -> Detection | None: ...


Body = Callable[[StepEvent, DetectorSettings], Symptom | None]


@dataclass(frozen=True)
class Detector:
    """A registered detector and what scoring needs to know about it."""

    id: str
    title: str
    description: str
    # Steps (globs; "!glob" excludes) whose attempts are the events where the defect may fire:
    # the denominator of the estimated rate (``checks.score``).
    denominator: tuple[str, ...]
    grouping: Grouping
    detect: DetectorFunction
    unit: Literal["attempts", "documents", "procedures"] = "attempts"


DETECTORS: dict[str, Detector] = {}


def detector(
    *,
    title: str,
    denominator: tuple[str, ...],
    description: str,
    grouping: Grouping = "attempt",
    unit: Literal["attempts", "documents", "procedures"] = "attempts",
) -> Callable[[Body], DetectorFunction]:
    """Register a detector; its function name is the defect id."""

    def register(body: Body) -> DetectorFunction:
        name = body.__name__
        if name in DETECTORS:
            raise ValueError(f"detector {name!r} registered twice")

        def detect(event: StepEvent, settings: DetectorSettings = DEFAULT_SETTINGS, /) -> Detection | None:
            symptom = body(event, settings)
            if symptom is None:
                return None
            return Detection(name, title, symptom.why, evidence_of(event), symptom.objects)

        detect.__name__ = detect.__qualname__ = name
        detect.__module__, detect.__doc__ = body.__module__, description
        DETECTORS[name] = Detector(name, title, description, denominator, grouping, detect, unit)
        return detect

    return register


def get_detector(name: str) -> Detector:
    """A detector by defect id; an unknown name gets "did you mean"."""
    try:
        return DETECTORS[name]
    except KeyError:
        close = difflib.get_close_matches(name, DETECTORS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(sorted(DETECTORS))}"
        raise ConfigError("detectors", f"unknown defect {name!r}; {hint}") from None


# --- reading one event -------------------------------------------------------------------------


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def evidence_of(event: StepEvent) -> Evidence:
    ids = event.evidence
    return Evidence(
        step=event.step,
        time=event.time,
        duration_s=event.seconds,
        journey_id=event.journey_id,
        attempt=event.attempt,
        channel=event.channel,
        applicant=event.applicant,
        applicant_id=_text(ids.get("applicant_id")),
        dossier=_text(ids.get("dossier")),
        document=_text(ids.get("document")),
        request=_text(ids.get("request")),
        card=_text(ids.get("card")),
        message=event.message,
        status=event.status,
    )


def _code(event: StepEvent) -> str:
    return event.evidence.get("code") or ""


def _waiting_for(event: StepEvent) -> str:
    return event.evidence.get("waiting_for") or ""


def _procedure(event: StepEvent) -> str:
    """The procedure a step is about: named in the evidence, else the journey (renewal, …)."""
    return event.evidence.get("procedure") or event.step.split(".", 1)[0]


def _is_watch(step: str) -> bool:
    return watch_kind(step) is not None


def _refused(event: StepEvent, code: str, words: str) -> bool:
    """A wrong refusal, by the platform's error code or (a procedure offered as unavailable, where
    the API gives a reason and the pages only a text) by its French words."""
    if event.outcome != "blocked":
        return False
    reason = str(event.evidence.get("reason") or "")
    return _code(event) == code or words in reason or words in event.message


def _objects(*ids: str | None) -> tuple[str, ...]:
    return tuple(i for i in ids if i)


def _watched_ids(event: StepEvent) -> tuple[str, ...]:
    """Every id a watch names: its dossier, document, request, card, and what it waited for."""
    ids = event.evidence
    found = [str(ids[key]) for key in ("dossier", "document", "request", "card") if ids.get(key)]
    waiting = _waiting_for(event)
    if waiting.startswith("documents "):
        found += [d for d in waiting.removeprefix("documents ").split(",") if d]
    return tuple(dict.fromkeys(found))


# --- the seven documented defects (Défenseure des droits, 2024) ------------------------------------


@detector(
    title="Card handed over at the prefecture, never marked handed over for the applicant",
    denominator=("card_handover.handover",),
    grouping="applicant",
    description="card_handover.visible is lost (the front office never learns the handover), or a later "
    "renewal is refused because the previous card 'was not handed over' though the harness handed it over.",
)
def title_not_marked_delivered(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and event.step == "card_handover.visible":
        card = _text(event.evidence.get("card"))
        return Symptom(
            f"card {card or '?'} handed over at the prefecture, still not handed over on the applicant's dashboard",
            (card,) if card else (),
        )
    if _refused(event, "card_not_handed_over", "n'a pas été remis"):
        return Symptom("renewal refused: previous card 'not handed over', though the prefecture handed it over")
    return None


@detector(
    title="New procedure refused: 'a request is already under review', though none is",
    denominator=("*.create",),
    description="Creating a procedure is refused with request_in_progress (or the procedure is offered as "
    "unavailable for that reason) while the oracle knows no procedure of the applicant is open.",
)
def phantom_pending_request(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if _refused(event, "request_in_progress", "déjà en cours"):
        return Symptom("'a request is already under review' with no procedure in progress", (_procedure(event),))
    return None


@detector(
    title="Reset link announced as sent, never received",
    denominator=("password_reset.email",),
    description="After 'a message has been sent to your address', no reset link reaches the mailbox by the "
    "e-mail deadline (password_reset.email lost).",
)
def reset_email_lost(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and watch_kind(event.step) == "mail":
        return Symptom("reset link announced, not in the mailbox by the deadline")
    return None


@detector(
    title="Prefecture's request for complements never shown to the applicant",
    denominator=("agent_request.visible",),
    grouping="object",
    description="The agent's request exists at the prefecture; the applicant's dashboard does not show it by "
    "the deadline (agent_request.visible lost).",
)
def agent_request_hidden(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and event.step == "agent_request.visible":
        request = _text(event.evidence.get("request"))
        return Symptom(
            f"request {request or '?'} for complements never shows on the applicant's dashboard",
            (request,) if request else (),
        )
    return None


@detector(
    title="Document acknowledged, never received by the prefecture",
    denominator=("*.upload", "upload.document"),
    grouping="object",
    unit="documents",
    description="A reconciliation watch ends lost while the prefecture has the dossier but not every "
    "acknowledged document (waiting_for 'documents ID,…'); each missing document is one incident.",
)
def document_lost(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    waiting = _waiting_for(event)
    if event.outcome == "lost" and watch_kind(event.step) == "seam" and waiting.startswith("documents "):
        documents = tuple(d for d in waiting.removeprefix("documents ").split(",") if d)
        return Symptom(f"acknowledged document(s) never received by the prefecture: {', '.join(documents)}", documents)
    return None


@detector(
    title="Procedure filed on the dashboard, never received by the prefecture",
    denominator=("renewal.reconcile", "address_change.reconcile"),
    grouping="object",
    description="A submitted procedure (with its filing receipt) is still unknown to the prefecture at the "
    "deadline (a reconciliation watch lost, waiting_for 'dossier').",
)
def procedure_not_forwarded(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and watch_kind(event.step) == "seam" and _waiting_for(event) == "dossier":
        dossier = _text(event.evidence.get("dossier"))
        return Symptom(
            f"procedure {dossier or '?'} filed on the dashboard, unknown to the prefecture", _objects(dossier)
        )
    return None


@detector(
    title="Procedure missing from the list the applicant can choose from",
    denominator=("*.choose_procedure", "*.create"),
    unit="procedures",
    description="The procedure the applicant is entitled to is absent from the list (choose_procedure "
    "missing), or refused as 'not available' when created (create blocked, procedure_unavailable).",
)
def procedure_not_selectable(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "missing" and event.step.endswith(".choose_procedure"):
        return Symptom("the procedure is absent from the list the applicant can choose from", (_procedure(event),))
    if _refused(event, "procedure_unavailable", "n'est pas disponible"):
        return Symptom("the procedure is refused as 'not available'", (_procedure(event),))
    return None


# --- security weaknesses: what the security journey's probes find ------------------------------
# A probe asks for what the platform must refuse; its step ends corrupt when the platform does not
# (scenarios/journeys/security.py). Each attempt is a new draw of the fault: grouping by attempt.


def _probe_failed(event: StepEvent, step: str) -> bool:
    return event.outcome == "corrupt" and event.step == step


def _weakness(event: StepEvent) -> str:
    return str(event.evidence.get("weakness") or "")


@detector(
    title="Another applicant's dossier readable (IDOR)",
    denominator=("security.idor",),
    description="The security probe asks, as one applicant, for a dossier of another applicant (an id the "
    "harness knows from its oracle): the answer is the dossier instead of the 404 of a missing one "
    "(security.idor corrupt).",
)
def idor_leak(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if _probe_failed(event, "security.idor"):
        dossier = _text(event.evidence.get("dossier"))
        return Symptom(
            f"another applicant's dossier {dossier or '?'} readable: {event.message[:160]}", _objects(dossier)
        )
    return None


@detector(
    title="Reset link accepted a second time",
    denominator=("security.reset_reuse",),
    description="The security probe uses the reset link read from the mailbox, then uses it again: the second "
    "use sets the password again instead of being refused (security.reset_reuse corrupt).",
)
def reset_token_reusable(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if _probe_failed(event, "security.reset_reuse"):
        return Symptom(f"a used reset link worked again: {event.message[:160]}")
    return None


@detector(
    title="Reset or login answer tells whether an account exists",
    denominator=("security.enumeration",),
    description="The security probe compares the reset and login answers for the applicant's address and "
    "for an address with no account (in the same reserved example domain): their content differs, or "
    "their timings separate (an exact Mann-Whitney test and a Hodges-Lehmann shift of at least 100 ms over "
    "a few interleaved samples) (security.enumeration corrupt).",
)
def user_enumeration(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if _probe_failed(event, "security.enumeration"):
        ids = event.evidence
        asked = tuple(str(ids[key]).lower() for key in ("existing", "unknown") if ids.get(key))
        return Symptom(f"{_weakness(event) or 'enumeration'}: {event.message[:160]}", asked)
    return None


@detector(
    title="File of a disallowed type or size accepted",
    denominator=("security.upload_type",),
    description="The security probe uploads an executable and an HTML page (named and declared as a PDF "
    "and a JPEG) and a PDF over 10 MB: one of them is acknowledged instead of refused with 415 or 413 "
    "(security.upload_type corrupt).",
)
def upload_unchecked(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if _probe_failed(event, "security.upload_type"):
        dossier = _text(event.evidence.get("dossier"))
        return Symptom(f"{_weakness(event) or 'upload'} accepted: {event.message[:160]}", _objects(dossier))
    return None


# --- generic faults an applicant can observe ---------------------------------------------------

FAILED = frozenset({"error", "blocked", "timeout"})
# A connection cut mid-answer: httpx and urllib3 raise; Chromium names a net:: error; Locust's
# FastHttpUser (geventhttpclient) hands back the short body without raising, which the client
# reports as a 2xx answer that is not valid JSON (or as an unexpected 2xx with a cut body).
_RESET = re.compile(
    r"reset by peer|ConnectionReset|connection (?:was )?(?:reset|closed|aborted)|peer closed|RemoteProtocolError"
    r"|IncompleteRead|BrokenPipe|ServerDisconnected|ERR_CONNECTION_RESET|ERR_CONNECTION_CLOSED|ERR_EMPTY_RESPONSE"
    r"|ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE_CHUNKED_ENCODING",
    re.IGNORECASE,
)
_TRUNCATED = re.compile(
    r"answer is not a (?:valid|list of) \w+: (?:Expecting|Unterminated|Invalid)|: 2\d\d http_2\d\d: "
)


@detector(
    title="Server error (HTTP 5xx) on a step",
    denominator=("*",),
    description="A step attempt failed with a 5xx status other than 503 (outage) and 504 (timeout).",
)
def http_error(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    status = event.status
    if event.outcome in FAILED and status is not None and 500 <= status <= 599 and status not in (503, 504):
        return Symptom(f"HTTP {status}: {event.message[:160]}")
    return None


@detector(
    title="Service unavailable (HTTP 503)",
    denominator=("*",),
    description="A step attempt failed with 503: the service said it was unavailable.",
)
def outage(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome in FAILED and event.status == 503:
        return Symptom(f"HTTP 503: {event.message[:160]}")
    return None


@detector(
    title="No answer in time (timeout or HTTP 504)",
    denominator=("*",),
    description="A step attempt timed out on the client's side, or the gateway gave up (504).",
)
def timeout(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "timeout" or (event.outcome in FAILED and event.status == 504):
        return Symptom(f"no answer in time after {event.seconds:.1f} s: {event.message[:160]}")
    return None


@detector(
    title="Connection cut in the middle of an answer",
    denominator=("*",),
    description="A step attempt failed because the connection was reset or closed mid-answer, or the "
    "answer arrived cut short (a 2xx whose body is not the JSON it announces).",
)
def connection_reset(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome != "error":
        return None
    message = event.message
    status = event.status
    cut = status is not None and 200 <= status <= 299 and _TRUNCATED.search(message) is not None
    if _RESET.search(message) or cut:
        return Symptom(f"connection cut: {message[:160]}")
    return None


@detector(
    title="Step much slower than it should be",
    denominator=("*", "!*.reconcile", "!*.visible", "!*.email"),
    description="A step attempt that succeeded took longer than settings.latency_s (5 s by default). A fixed "
    "threshold, not a multiple of the step's median: a detector sees one event and keeps no state, so its "
    "verdict does not depend on the order events are read in, and a few seconds is what an applicant "
    "feels. Watches are left out (their duration is a time to consistency: sync_delay, email_delay); "
    "delays below the threshold show in the duration SLOs, not here. In the open model the first step's "
    "duration includes a late start, which counts (the applicant waited).",
)
def latency(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    step = event.step
    if event.outcome == "ok" and not _is_watch(step) and event.seconds >= settings.latency_s:
        return Symptom(f"{step} took {event.seconds:.1f} s (threshold {settings.latency_s:g} s)")
    return None


@detector(
    title="Session lost mid-journey ('session expired' after a successful login)",
    denominator=("*", "!*.login", "!login.submit"),
    grouping="journey",
    description="An authenticated step is refused with 401 session_expired: the journey logged in "
    "successfully before (a token is only sent after a login), so the platform dropped the session.",
)
def session_drop(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    step = event.step
    if event.status != 401 or event.outcome not in FAILED or step.endswith(".login") or step == "login.submit":
        return None
    message = event.message
    if _code(event) == "session_expired" or "session_expired" in message or "session a expiré" in message:
        return Symptom(f"session expired in the middle of the journey at {step}")
    return None


@detector(
    title="E-mail delivered late",
    denominator=("*.email",),
    description="The e-mail reached the mailbox, later than settings.email_delay_s (10 s by default; "
    "one past the e-mail deadline shows as reset_email_lost instead).",
)
def email_delay(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "ok" and watch_kind(event.step) == "mail" and event.seconds >= settings.email_delay_s:
        return Symptom(f"e-mail arrived after {event.seconds:.1f} s (threshold {settings.email_delay_s:g} s)")
    return None


@detector(
    title="Change across the seam visible only after a long delay",
    denominator=("*.reconcile", "*.visible"),
    description="A watch across the seam succeeded, later than settings.sync_delay_s (5 s by default; one "
    "past its deadline shows as lost, i.e. as the documented defect of that watch).",
)
def sync_delay(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    step = event.step
    if event.outcome == "ok" and watch_kind(step) == "seam" and event.seconds >= settings.sync_delay_s:
        return Symptom(
            f"{step} became visible after {event.seconds:.1f} s (threshold {settings.sync_delay_s:g} s)",
            _watched_ids(event),
        )
    return None


# --- findings ------------------------------------------------------------------------------------


@dataclass
class Incident:
    """The symptoms of one platform incident, as the detector's grouping sees it."""

    defect: str
    key: str
    detections: list[Detection] = field(default_factory=list)

    @property
    def first(self) -> Detection:
        return min(self.detections, key=lambda d: d.evidence.time)

    @property
    def first_seen(self) -> float:
        return min(d.evidence.ended for d in self.detections)


def incident_keys(found: Detection, grouping: Grouping) -> list[str]:
    """The incidents a detection belongs to (several when it names several objects)."""
    e = found.evidence
    # A journey may run a step several times (one upload per document): the start tells them apart.
    attempt = f"attempt:{e.journey_id}:{e.step}:{e.attempt}:{e.time:.6f}"
    if grouping == "object":
        return [f"object:{o}" for o in found.objects] or [attempt]
    if grouping == "applicant":
        who = e.applicant if e.applicant is not None else e.applicant_id
        return [f"applicant:{who}"] if who is not None else [f"journey:{e.journey_id}"]
    if grouping == "journey":
        return [f"journey:{e.journey_id}"]
    return [attempt]


@dataclass
class Findings:
    """Defects detected in a campaign's events.

    ``counts`` are symptoms (events recognised, as before incidents existed), ``incidents`` the
    platform incidents behind them; ``first_seen`` is when each defect was first observed (the end
    of the attempt that showed it); ``samples`` keep a few symptoms per defect.
    """

    settings: DetectorSettings = DEFAULT_SETTINGS
    max_samples: int = 5
    counts: Counter[str] = field(default_factory=Counter)
    incidents: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    grouped: dict[str, dict[str, Incident]] = field(default_factory=dict)

    def add(self, event: StepEvent | Event) -> list[Detection]:
        """Run every detector on one event; returns what it showed (nothing for an event that is
        not a step's outcome)."""
        if not isinstance(event, StepEvent):
            return []
        # Detectors of successful attempts all judge a duration: a quick success shows nothing.
        if event.outcome == "ok" and event.seconds < self.settings.shortest_s:
            return []
        found = []
        for name, registered in DETECTORS.items():
            detection = registered.detect(event, self.settings)
            if detection is None:
                continue
            found.append(detection)
            self._keep(name, registered.grouping, detection)
        return found

    def _keep(self, name: str, grouping: Grouping, detection: Detection) -> None:
        self.counts[name] += 1
        seen = detection.evidence.ended
        self.first_seen[name] = min(self.first_seen.get(name, seen), seen)
        kept = self.samples.setdefault(name, [])
        if len(kept) < self.max_samples:
            kept.append(detection.sample())
        groups = self.grouped.setdefault(name, {})
        for key in incident_keys(detection, grouping):
            incident = groups.get(key)
            if incident is None:
                incident = groups[key] = Incident(name, key)
                self.incidents[name] += 1
            incident.detections.append(detection)

    def extend(self, events: Iterable[StepEvent | Event]) -> Findings:
        for event in events:
            self.add(event)
        return self

    def of(self, defect: str) -> list[Incident]:
        """The incidents of one defect, in the order they were first observed."""
        return sorted(self.grouped.get(defect, {}).values(), key=lambda i: i.first_seen)
