"""The oracle: what is true about each applicant, as the harness made it happen.

It starts from the generated population and changes only when a journey step really
succeeded (the harness saw the effect where it must be). Detection compares what the platform
says with this truth; the platform's fault ledger is never consulted.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthetic_users.population import Applicant, Population


@dataclass(slots=True)
class DossierTruth:
    procedure: str
    state: str
    receipt_number: str | None = None
    documents: dict[str, str] = field(default_factory=dict)  # document id → SHA-256
    at_prefecture: bool = False  # the harness saw the dossier in the back office
    requests: set[str] = field(default_factory=set)  # agent requests made on it


@dataclass(slots=True)
class Truth:
    """One applicant's true administrative state."""

    card_state: str
    password: str
    email_bounces: bool
    card_id: str | None = None
    # The card is one the prefecture produced for a renewal during the run: its validity starts
    # where the old one ended, so the applicant is out of the R.431-5 renewal window for years.
    card_renewed: bool = False
    # A card the harness handed over whose handover the applicant's side never showed (its watch
    # ended without seeing it): the front office may still hold its dossier open, so a later
    # "a request is already under review" is that defect's consequence, not another defect.
    handover_unseen: str | None = None
    dossiers: dict[str, DossierTruth] = field(default_factory=dict)
    pending_requests: set[str] = field(default_factory=set)

    @property
    def open_dossiers(self) -> list[str]:
        """Dossiers filed and not finished: what makes "a request is already under review" true."""
        finished = {"draft", "refused", "handed_over", "closed"}
        return [key for key, d in self.dossiers.items() if d.state not in finished]


class Oracle:
    """Truth per applicant, derived from the population until the run changes it; thread-safe.

    Only the truths the run changed are kept: a look at an applicant (every journey looks at
    several to find one that fits) gives a truth made from the population and then forgotten, so
    the load process's memory grows with what the run did, not with the applicants it looked at."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self._truths: dict[int, Truth] = {}
        self._lock = threading.Lock()

    def truth(self, index: int) -> Truth:
        """The applicant's truth, to read (changes go through the methods below)."""
        with self._lock:
            found = self._truths.get(index)
        return found if found is not None else self._derived(self.population.applicant(index))

    def truth_of(self, applicant: Applicant) -> Truth:
        """``truth(applicant.index)``, for a caller that has the applicant already: a first look
        does not generate it again."""
        with self._lock:
            found = self._truths.get(applicant.index)
        return found if found is not None else self._derived(applicant)

    @property
    def changed(self) -> int:
        """How many applicants' truths the run changed (and this oracle keeps)."""
        with self._lock:
            return len(self._truths)

    @staticmethod
    def _derived(applicant: Applicant) -> Truth:
        return Truth(
            card_state=applicant.card.state, password=applicant.password, email_bounces=applicant.email_bounces
        )

    def _kept(self, index: int) -> Truth:
        with self._lock:
            return self._truths_of(index)

    def _truths_of(self, index: int) -> Truth:
        """The kept truth of one applicant, made on its first change (the caller holds the lock)."""
        found = self._truths.get(index)
        if found is None:
            found = self._truths[index] = self._derived(self.population.applicant(index))
        return found

    # Updates, each after a step whose effect the harness has seen.

    def password_changed(self, index: int, password: str) -> None:
        self._kept(index).password = password

    def card_handed_over(self, index: int, card_id: str | None = None) -> None:
        truth = self._kept(index)
        truth.card_state = "handed_over"
        truth.card_id = card_id or truth.card_id

    def handover_not_seen(self, index: int, card_id: str) -> None:
        """The watch of a handover the harness made ended without the applicant's side showing it."""
        self._kept(index).handover_unseen = card_id

    def dossier_created(self, index: int, dossier_id: str, procedure: str) -> None:
        self._kept(index).dossiers[dossier_id] = DossierTruth(procedure=procedure, state="draft")

    def document_sent(self, index: int, dossier_id: str, document_id: str, sha256: str) -> None:
        self._kept(index).dossiers[dossier_id].documents[document_id] = sha256

    def dossier_state(self, index: int, dossier_id: str, state: str, receipt_number: str | None = None) -> None:
        dossier = self._kept(index).dossiers[dossier_id]
        dossier.state = state
        dossier.receipt_number = receipt_number or dossier.receipt_number

    def dossier_moved(self, index: int, dossier_id: str, procedure: str, state: str) -> None:
        """A prefecture agent moved the dossier on (review, decision, card, handover). The dossier
        may be one the harness did not file in this run (seeded, or filed by another run): it is
        learnt here, as the agent saw it."""
        with self._lock:
            dossiers = self._truths_of(index).dossiers
            dossier = dossiers.setdefault(dossier_id, DossierTruth(procedure=procedure, state=state))
            dossier.state = state
            dossier.at_prefecture = True

    def card_available(self, index: int, card_id: str, *, procedure: str = "") -> None:
        """The prefecture made a new card available: the applicant's card is now that one (a
        renewal's card is valid for years: no renewal is due on it in this run)."""
        truth = self._kept(index)
        truth.card_state = "available"
        truth.card_id = card_id
        truth.card_renewed = truth.card_renewed or procedure == "renewal"

    def dossier_at_prefecture(self, index: int, dossier_id: str) -> None:
        self._kept(index).dossiers[dossier_id].at_prefecture = True

    def request_sent(self, index: int, dossier_id: str, request_id: str, *, procedure: str = "") -> None:
        """An agent asked for complements: the request exists, whatever the dashboard shows."""
        truth = self._kept(index)
        dossier = truth.dossiers.setdefault(dossier_id, DossierTruth(procedure=procedure, state="complement_requested"))
        dossier.requests.add(request_id)
        truth.pending_requests.add(request_id)

    def request_received(self, index: int, request_id: str) -> None:
        self._kept(index).pending_requests.add(request_id)

    def request_answered(self, index: int, request_id: str) -> None:
        self._kept(index).pending_requests.discard(request_id)

    def snapshot(self) -> dict[str, Any]:
        """The truths the run changed, JSON-ready (sets as sorted lists)."""
        with self._lock:
            items = sorted(self._truths.items())
        return {
            str(index): {
                "card_state": t.card_state,
                "card_id": t.card_id,
                "card_renewed": t.card_renewed,
                "handover_unseen": t.handover_unseen,
                "password_changed": t.password != self.population.applicant(index).password,
                "email_bounces": t.email_bounces,
                "pending_requests": sorted(t.pending_requests),
                "dossiers": {
                    key: {
                        "procedure": d.procedure,
                        "state": d.state,
                        "receipt_number": d.receipt_number,
                        "at_prefecture": d.at_prefecture,
                        "requests": sorted(d.requests),
                        "documents": dict(sorted(d.documents.items())),
                    }
                    for key, d in sorted(t.dossiers.items())
                },
            }
            for index, t in items
        }

    def save(self, path: Path) -> None:
        # With workers, the master makes ``oracle/`` when the first worker's oracle comes: the
        # browser process, beside them, may end first.
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
