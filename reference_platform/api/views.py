"""Turning stored rows into API bodies (shared by the JSON API and the HTML pages)."""

from __future__ import annotations

from reference_platform.api import schemas
from reference_platform.domain.procedures import REQUIRED_DOCUMENTS, STATE_LABELS, DossierState, Procedure
from reference_platform.storage import back, front


def card_out(card: front.Card | back.CardRecord | None) -> schemas.CardOut | None:
    if card is None:
        return None
    return schemas.CardOut(
        id=card.id,
        kind=card.kind,
        motif=card.motif,
        valid_from=card.valid_from,
        valid_until=card.valid_until,
        state=card.state,
    )


def profile_out(applicant: front.Applicant, card: front.Card | None) -> schemas.ProfileOut:
    return schemas.ProfileOut(
        id=applicant.id,
        foreign_number=applicant.foreign_number,
        email=applicant.email,
        given_name=applicant.given_name,
        family_name=applicant.family_name,
        birth_date=applicant.birth_date,
        nationality=applicant.nationality,
        address=applicant.address,
        postcode=applicant.postcode,
        city=applicant.city,
        prefecture=applicant.prefecture,
        card=card_out(card),
    )


def document_out(document: front.Document | back.DocumentRecord) -> schemas.DocumentOut:
    if isinstance(document, front.Document):
        return schemas.DocumentOut(
            id=document.id,
            kind=document.kind,
            filename=document.filename,
            content_type=document.content_type,
            size=document.size,
            sha256=document.sha256,
            acknowledged_at=document.acknowledged_at,
        )
    return schemas.DocumentOut(
        id=document.id,
        kind=document.kind,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        received_at=document.received_at,
    )


def dossier_out(dossier: front.Dossier, documents: list[front.Document]) -> schemas.DossierOut:
    kinds = {d.kind for d in documents}
    return schemas.DossierOut(
        id=dossier.id,
        procedure=Procedure(dossier.procedure),
        state=dossier.state,
        state_label=STATE_LABELS[DossierState(dossier.state)],
        details=dossier.details,
        created_at=dossier.created_at,
        submitted_at=dossier.submitted_at,
        receipt_number=dossier.receipt_number,
        decision=dossier.decision,
        documents=[document_out(d) for d in documents],
        missing_documents=[k for k in REQUIRED_DOCUMENTS[Procedure(dossier.procedure)] if k not in kinds],
    )


def request_out(request: front.AgentRequest | back.AgentRequestRecord) -> schemas.AgentRequestOut:
    return schemas.AgentRequestOut(
        id=request.id,
        dossier_id=request.dossier_id,
        message=request.message,
        requested_at=request.requested_at,
        answer=request.answer,
        answered_at=request.answered_at,
    )
