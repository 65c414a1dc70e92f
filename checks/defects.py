"""Defect detectors: the documented ANEF defects recognised from what applicants and agents see.

Each detector is a plain function of one step event, registered with ``@detector`` under the
defect id it recognises; it returns the evidence (a short sentence) or None. Detection never
reads the platform's ledger (DESIGN.md, principle 3): only outcomes, messages and the evidence
the journeys recorded (dossier, document, what a watch was still waiting for).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Detector = Callable[[Mapping[str, Any]], str | None]
DETECTORS: dict[str, Detector] = {}


def detector(function: Detector) -> Detector:
    """Register a detector; its function name is the defect id."""
    DETECTORS[function.__name__] = function
    return function


def _is(event: Mapping[str, Any], outcome: str, suffix: str) -> bool:
    return event.get("outcome") == outcome and str(event.get("step", "")).endswith(suffix)


def _code(event: Mapping[str, Any]) -> str:
    return str((event.get("evidence") or {}).get("code", ""))


def _refusal(event: Mapping[str, Any], code: str, words: str) -> bool:
    """A wrong refusal, by its error code or (a procedure offered as unavailable) its French words."""
    if event.get("outcome") != "blocked":
        return False
    reason = str((event.get("evidence") or {}).get("reason", ""))
    return _code(event) == code or words in reason


def _waiting_for(event: Mapping[str, Any]) -> str:
    return str((event.get("evidence") or {}).get("waiting_for", ""))


@detector
def title_not_marked_delivered(event: Mapping[str, Any]) -> str | None:
    if _is(event, "lost", "card_handover.visible"):
        return "card handed over at the prefecture, still not handed over on the applicant's dashboard"
    if _refusal(event, "card_not_handed_over", "n'a pas été remis"):
        return "renewal refused: previous card 'not handed over', though it was"
    return None


@detector
def phantom_pending_request(event: Mapping[str, Any]) -> str | None:
    if _refusal(event, "request_in_progress", "déjà en cours"):
        return "'a request is already under review' with no procedure in progress"
    return None


@detector
def reset_email_lost(event: Mapping[str, Any]) -> str | None:
    if _is(event, "lost", "password_reset.email"):
        return "reset link announced, never received"
    return None


@detector
def agent_request_hidden(event: Mapping[str, Any]) -> str | None:
    if _is(event, "lost", "agent_request.visible"):
        return "the prefecture's request for complements never shows on the applicant's dashboard"
    return None


@detector
def document_lost(event: Mapping[str, Any]) -> str | None:
    if _is(event, "lost", ".reconcile") and _waiting_for(event).startswith("documents"):
        return f"acknowledged document(s) never received by the prefecture ({_waiting_for(event)})"
    return None


@detector
def procedure_not_forwarded(event: Mapping[str, Any]) -> str | None:
    if _is(event, "lost", ".reconcile") and _waiting_for(event) == "dossier":
        return "procedure filed on the dashboard, unknown to the prefecture"
    return None


@detector
def procedure_not_selectable(event: Mapping[str, Any]) -> str | None:
    if _is(event, "missing", ".choose_procedure"):
        return "the procedure is absent from the list the applicant can choose from"
    return None


@dataclass
class Findings:
    """Defects detected in a campaign's events: counts, first time seen, a few samples."""

    counts: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, event: Mapping[str, Any], *, max_samples: int = 5) -> None:
        if event.get("kind") != "step" or event.get("outcome") == "ok":
            return
        for defect, detect in DETECTORS.items():
            why = detect(event)
            if why is None:
                continue
            self.counts[defect] += 1
            moment = float(event.get("time", 0.0))
            self.first_seen[defect] = min(self.first_seen.get(defect, moment), moment)
            kept = self.samples.setdefault(defect, [])
            if len(kept) < max_samples:
                kept.append(
                    {
                        "why": why,
                        "step": event.get("step"),
                        "applicant": event.get("applicant"),
                        "time": moment,
                        "message": event.get("message", ""),
                        "evidence": dict(event.get("evidence") or {}),
                    }
                )

    def extend(self, events: Iterable[Mapping[str, Any]]) -> Findings:
        for event in events:
            self.add(event)
        return self
