"""Reading one step event the way the detectors need: error codes, refusals, watched ids, probes.

Detection never reads the platform's ledger (DESIGN.md, principle 3): only outcomes, statuses,
messages, durations and the evidence the journeys recorded.
"""

from __future__ import annotations

from scenarios.events import StepEvent

# The outcomes of an attempt that failed on the platform's side (a watch's lost is not one).
FAILED = frozenset({"error", "blocked", "timeout"})


def code(event: StepEvent) -> str:
    """The platform's error code, as the journey recorded it."""
    return event.evidence.get("code") or ""


def waiting_for(event: StepEvent) -> str:
    """What a watch was still waiting for at its deadline ("dossier", "documents ID,…")."""
    return event.evidence.get("waiting_for") or ""


def procedure(event: StepEvent) -> str:
    """The procedure a step is about: named in the evidence, else the journey (renewal, …)."""
    return event.evidence.get("procedure") or event.step.split(".", 1)[0]


def refused(event: StepEvent, error_code: str, words: str) -> bool:
    """A wrong refusal, by the platform's error code or (a procedure offered as unavailable, where
    the API gives a reason and the pages only a text) by its French words."""
    if event.outcome != "blocked":
        return False
    reason = str(event.evidence.get("reason") or "")
    return code(event) == error_code or words in reason or words in event.message


def objects(*ids: str | None) -> tuple[str, ...]:
    return tuple(i for i in ids if i)


def waited_documents(event: StepEvent) -> tuple[str, ...]:
    """The documents a watch still waited for ("documents ID,…"), none otherwise."""
    waiting = waiting_for(event)
    if not waiting.startswith("documents "):
        return ()
    return tuple(d for d in waiting.removeprefix("documents ").split(",") if d)


def watched_ids(event: StepEvent) -> tuple[str, ...]:
    """Every id a watch names: its dossier, document, request, card, the documents it watched and
    what it waited for."""
    ids = event.evidence
    found = [str(ids[key]) for key in ("dossier", "document", "request", "card") if ids.get(key)]
    documents = [d for d in str(ids.get("documents") or "").split(",") if d]
    return tuple(dict.fromkeys([*found, *documents, *waited_documents(event)]))


def probe_failed(event: StepEvent, step: str) -> bool:
    """A security probe found its weakness: the probe's step ended corrupt."""
    return event.outcome == "corrupt" and event.step == step


def weakness(event: StepEvent) -> str:
    return str(event.evidence.get("weakness") or "")
