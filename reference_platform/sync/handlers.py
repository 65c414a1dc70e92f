"""What each message kind does on the receiving side, and which faults may swallow it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from contracts.faults import ProcedureNotForwarded
from reference_platform.context import PlatformContext
from reference_platform.domain.procedures import DossierState, Procedure
from reference_platform.storage import back, front
from reference_platform.storage.direct import Direct

Handler = Callable[[PlatformContext, Session, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}


class Deferred(Exception):
    """The message's target does not exist on this side (its parent message was swallowed).
    Raised before the handler changes anything: the bridge applies a batch without a savepoint
    per message and drops the orphan alone."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


# The prefecture's side of the hot messages is written with statements run on the driver's
# cursor (``storage.direct``: an INSERT each, no unit of work), and their parents are read once
# per batch (``Known``): a submission's message costs a few statements instead of an ORM flush
# and a lookup per row.
INSERT_DOSSIER = Direct(insert(back.DossierRecord.__table__))  # type: ignore[arg-type]
INSERT_DOCUMENT = Direct(insert(back.DocumentRecord.__table__))  # type: ignore[arg-type]
APPLICANTS = select(back.ApplicantRecord.id, back.ApplicantRecord.prefecture)
DOSSIERS = select(back.DossierRecord.id)


@dataclass
class Known:
    """What the prefecture already holds of a batch's parents, read in one query each; an id the
    batch did not announce is looked up on its own. Only valid in the transaction that read it."""

    applicants: dict[str, str] = field(default_factory=dict)  # id → prefecture
    dossiers: set[str] = field(default_factory=set)
    checked_applicants: set[str] = field(default_factory=set)
    checked_dossiers: set[str] = field(default_factory=set)

    KEY = "sync_known"

    @classmethod
    def load(cls, db: Session, messages: Iterable[tuple[str, dict[str, Any]]]) -> Known:
        """Read the parents the batch's messages name, and keep them for the handlers."""
        applicants: set[str] = set()
        dossiers: set[str] = set()
        for kind, payload in messages:
            if kind == "dossier.submitted":
                applicants.add(payload["applicant_id"])
                dossiers.add(payload["id"])
            elif kind == "document.added":
                dossiers.add(payload["dossier_id"])
        known = cls(checked_applicants=applicants, checked_dossiers=dossiers)
        if applicants:
            rows = db.execute(APPLICANTS.where(back.ApplicantRecord.id.in_(applicants)))
            known.applicants = {row.id: row.prefecture for row in rows}
        if dossiers:
            known.dossiers = set(db.scalars(DOSSIERS.where(back.DossierRecord.id.in_(dossiers))))
        db.info[cls.KEY] = known
        return known

    @classmethod
    def of(cls, db: Session) -> Known:
        known = db.info.get(cls.KEY)
        if not isinstance(known, Known):
            known = db.info[cls.KEY] = cls()
        return known

    @classmethod
    def forget(cls, db: Session) -> None:
        """Drop what was read (a savepoint rolled back: it may no longer hold)."""
        db.info.pop(cls.KEY, None)

    def prefecture(self, db: Session, applicant_id: str) -> str | None:
        if applicant_id not in self.checked_applicants:
            found = db.execute(APPLICANTS.where(back.ApplicantRecord.id == applicant_id)).first()
            if found is not None:
                self.applicants[found.id] = found.prefecture
            self.checked_applicants.add(applicant_id)
        return self.applicants.get(applicant_id)

    def has_dossier(self, db: Session, dossier_id: str) -> bool:
        if dossier_id not in self.checked_dossiers:
            if db.scalar(DOSSIERS.where(back.DossierRecord.id == dossier_id)) is not None:
                self.dossiers.add(dossier_id)
            self.checked_dossiers.add(dossier_id)
        return dossier_id in self.dossiers


def _fires(ctx: PlatformContext, fault_id: str, kind: str, payload: dict[str, Any], obj: str) -> bool:
    spec = ctx.faults.fire(fault_id, route=f"sync:{kind}", applicant=payload.get("applicant_id"), obj=obj)
    return spec is not None


# --- front office → prefecture -----------------------------------------------------------------


@handles("dossier.submitted")
def dossier_submitted(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    known = Known.of(db)
    prefecture = known.prefecture(db, payload["applicant_id"])
    if prefecture is None:
        raise Deferred(f"applicant {payload['applicant_id']} unknown to the prefecture")
    if known.has_dossier(db, payload["id"]):
        return
    if any(
        isinstance(spec.params, ProcedureNotForwarded) and payload["procedure"] in spec.params.procedures
        for spec in ctx.faults.specs("procedure_not_forwarded")
    ) and _fires(ctx, "procedure_not_forwarded", "dossier.submitted", payload, payload["id"]):
        return
    INSERT_DOSSIER.run(
        db,
        {
            "id": payload["id"],
            "applicant_id": payload["applicant_id"],
            "prefecture": prefecture,
            "procedure": payload["procedure"],
            "state": DossierState.SUBMITTED.value,
            "details": payload["details"],
            "receipt_number": payload["receipt_number"],
        },
    )
    known.dossiers.add(payload["id"])
    rows = [
        row
        for document in payload["documents"]
        if (row := _receive_document(ctx, db, "dossier.submitted", payload, payload["id"], document, new_dossier=True))
    ]
    INSERT_DOCUMENT.run(db, rows)


@handles("document.added")
def document_added(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    if not Known.of(db).has_dossier(db, payload["dossier_id"]):
        raise Deferred(f"dossier {payload['dossier_id']} not yet at the prefecture")
    row = _receive_document(ctx, db, "document.added", payload, payload["dossier_id"], payload["document"])
    if row is not None:
        INSERT_DOCUMENT.run(db, row)


def _receive_document(
    ctx: PlatformContext,
    db: Session,
    kind: str,
    payload: dict[str, Any],
    dossier_id: str,
    document: dict[str, Any],
    *,
    new_dossier: bool = False,
) -> dict[str, Any] | None:
    """The prefecture's row for a forwarded document, or None: already there, or lost (a fault)."""
    # A document of a dossier created by this very message cannot be there yet.
    if not new_dossier and db.get(back.DocumentRecord, document["id"]) is not None:
        return None
    if _fires(ctx, "document_lost", kind, payload, document["id"]):
        return None
    return {
        "id": document["id"],
        "dossier_id": dossier_id,
        "kind": document["kind"],
        "content_type": document["content_type"],
        "size": document["size"],
        "sha256": document["sha256"],
    }


@handles("agent_request.answered")
def agent_request_answered(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    request = db.get(back.AgentRequestRecord, payload["id"])
    if request is None:
        raise Deferred(f"agent request {payload['id']} unknown")
    request.answer = payload["answer"]
    request.answered_at = datetime.fromisoformat(payload["answered_at"])
    dossier = db.get(back.DossierRecord, payload["dossier_id"])
    if dossier is not None and dossier.state == DossierState.COMPLEMENT_REQUESTED:
        dossier.state = DossierState.UNDER_REVIEW.value


# --- prefecture → front office -----------------------------------------------------------------


@handles("dossier.state_changed")
def dossier_state_changed(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    dossier = db.get(front.Dossier, payload["id"])
    if dossier is None:
        raise Deferred(f"dossier {payload['id']} unknown to the front office")
    dossier.state = payload["state"]
    dossier.decision = payload["decision"]
    if (
        payload["procedure"] == Procedure.ADDRESS_CHANGE
        and payload["decision"] == "accepted"
        and payload["state"] == DossierState.CLOSED
    ):
        applicant = db.get(front.Applicant, dossier.applicant_id)
        if applicant is not None:
            applicant.address = payload["details"]["address"]
            applicant.postcode = payload["details"]["postcode"]
            applicant.city = payload["details"]["city"]


@handles("agent_request.created")
def agent_request_created(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    dossier = db.get(front.Dossier, payload["dossier_id"])
    if dossier is None:
        raise Deferred(f"dossier {payload['dossier_id']} unknown to the front office")
    if db.get(front.AgentRequest, payload["id"]) is not None:
        return
    if _fires(ctx, "agent_request_hidden", "agent_request.created", payload, payload["id"]):
        return
    db.add(
        front.AgentRequest(
            id=payload["id"],
            dossier_id=dossier.id,
            applicant_id=payload["applicant_id"],
            message=payload["message"],
            requested_at=datetime.fromisoformat(payload["requested_at"]),
        )
    )
    dossier.state = DossierState.COMPLEMENT_REQUESTED.value


@handles("card.state_changed")
def card_state_changed(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    _upsert_card(db, payload["applicant_id"], payload["card"])


@handles("card.handed_over")
def card_handed_over(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    if _fires(ctx, "title_not_marked_delivered", "card.handed_over", payload, payload["id"]):
        return
    _upsert_card(db, payload["applicant_id"], payload["card"])
    if payload.get("dossier_id"):
        dossier = db.get(front.Dossier, payload["dossier_id"])
        if dossier is not None:
            dossier.state = DossierState.HANDED_OVER.value


def _upsert_card(db: Session, applicant_id: str, card: dict[str, str]) -> None:
    record = db.get(front.Card, card["id"])
    if record is None:
        record = front.Card(id=card["id"], applicant_id=applicant_id)
        db.add(record)
    record.kind = card["kind"]
    record.motif = card["motif"]
    record.valid_from = date.fromisoformat(card["valid_from"])
    record.valid_until = date.fromisoformat(card["valid_until"])
    record.state = card["state"]
