"""What each message kind does on the receiving side, and which faults may swallow it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from contracts.faults import ProcedureNotForwarded
from reference_platform.context import PlatformContext
from reference_platform.domain.procedures import DossierState, Procedure
from reference_platform.storage import back, front

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


def _fires(ctx: PlatformContext, fault_id: str, kind: str, payload: dict[str, Any], obj: str) -> bool:
    spec = ctx.faults.fire(fault_id, route=f"sync:{kind}", applicant=payload.get("applicant_id"), obj=obj)
    return spec is not None


# --- front office → prefecture -----------------------------------------------------------------


@handles("dossier.submitted")
def dossier_submitted(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    applicant = db.get(back.ApplicantRecord, payload["applicant_id"])
    if applicant is None:
        raise Deferred(f"applicant {payload['applicant_id']} unknown to the prefecture")
    if db.get(back.DossierRecord, payload["id"]) is not None:
        return
    if any(
        isinstance(spec.params, ProcedureNotForwarded) and payload["procedure"] in spec.params.procedures
        for spec in ctx.faults.specs("procedure_not_forwarded")
    ) and _fires(ctx, "procedure_not_forwarded", "dossier.submitted", payload, payload["id"]):
        return
    db.add(
        back.DossierRecord(
            id=payload["id"],
            applicant_id=applicant.id,
            prefecture=applicant.prefecture,
            procedure=payload["procedure"],
            state=DossierState.SUBMITTED.value,
            details=payload["details"],
            receipt_number=payload["receipt_number"],
        )
    )
    db.flush()
    for document in payload["documents"]:
        _receive_document(ctx, db, "dossier.submitted", payload, payload["id"], document, new_dossier=True)


@handles("document.added")
def document_added(ctx: PlatformContext, db: Session, payload: dict[str, Any]) -> None:
    if db.get(back.DossierRecord, payload["dossier_id"]) is None:
        raise Deferred(f"dossier {payload['dossier_id']} not yet at the prefecture")
    _receive_document(ctx, db, "document.added", payload, payload["dossier_id"], payload["document"])


def _receive_document(
    ctx: PlatformContext,
    db: Session,
    kind: str,
    payload: dict[str, Any],
    dossier_id: str,
    document: dict[str, Any],
    *,
    new_dossier: bool = False,
) -> None:
    # A document of a dossier created by this very message cannot be there yet.
    if not new_dossier and db.get(back.DocumentRecord, document["id"]) is not None:
        return
    if _fires(ctx, "document_lost", kind, payload, document["id"]):
        return
    db.add(
        back.DocumentRecord(
            id=document["id"],
            dossier_id=dossier_id,
            kind=document["kind"],
            content_type=document["content_type"],
            size=document["size"],
            sha256=document["sha256"],
        )
    )


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
