"""The prefecture agent's JSON API (back office)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session

from reference_platform.api import schemas, views
from reference_platform.api.deps import ApiCaller, Context, ObjectId, client_of
from reference_platform.api.one_hop import OneHopRoute
from reference_platform.api.routes import ERRORS
from reference_platform.domain import prefecture
from reference_platform.domain.procedures import STATE_LABELS, DossierState, Procedure
from reference_platform.errors import NotFound
from reference_platform.storage import back
from reference_platform.storage.common import get_row, read_row

router = APIRouter(route_class=OneHopRoute, prefix="/api/agent", tags=["préfecture"], responses=ERRORS)


@router.post("/login", response_model=schemas.LoginResult)
def login(body: schemas.AgentCredentials, request: Request, ctx: Context) -> schemas.LoginResult:
    agent, token = prefecture.login(ctx, body.login, body.password, client_of(request))
    return schemas.LoginResult(token=token, agent_id=agent.id)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: ApiCaller, ctx: Context) -> None:
    """End the agent's session (the token stops working at once)."""
    caller.agent()
    assert caller.token is not None  # agent() authenticated it
    with ctx.stores.back.write() as db:
        prefecture.logout(db, caller.token)


def dossier_out(db: Session, dossier: back.DossierRecord) -> schemas.AgentDossierOut:
    applicant = read_row(db, back.ApplicantRecord, dossier.applicant_id)
    assert applicant is not None
    card = prefecture.CARD.first(db, {"dossier": dossier.id})
    return schemas.AgentDossierOut(
        id=dossier.id,
        procedure=Procedure(dossier.procedure),
        state=dossier.state,
        state_label=STATE_LABELS[DossierState(dossier.state)],
        details=dossier.details,
        receipt_number=dossier.receipt_number,
        decision=dossier.decision,
        documents=[views.document_out(d) for d in prefecture.documents_of(db, dossier)],
        applicant_id=applicant.id,
        foreign_number=applicant.foreign_number,
        applicant_name=f"{applicant.given_name} {applicant.family_name}",
        received_at=dossier.received_at,
        requests=[views.request_out(r) for r in prefecture.requests_of(db, dossier)],
        card=views.card_out(card),
    )


@router.get("/queue", response_model=list[schemas.AgentDossierOut])
def queue(
    caller: ApiCaller, ctx: Context, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[schemas.AgentDossierOut]:
    with ctx.stores.back.read() as db:
        agent = caller.agent(db)
        return [dossier_out(db, d) for d in prefecture.queue(db, agent, limit)]


@router.get("/dossiers/{dossier_id}", response_model=schemas.AgentDossierOut)
def dossier(dossier_id: ObjectId, caller: ApiCaller, ctx: Context) -> schemas.AgentDossierOut:
    with ctx.stores.back.read() as db:
        agent = caller.agent(db)
        return dossier_out(db, prefecture.get_dossier(db, agent, dossier_id, snapshot=True))


@router.get(
    "/dossiers/{dossier_id}/documents/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
def document_content(dossier_id: ObjectId, document_id: ObjectId, caller: ApiCaller, ctx: Context) -> Response:
    with ctx.stores.back.read() as db:
        agent = caller.agent(db)
        found = prefecture.get_dossier(db, agent, dossier_id)
        document = get_row(db, back.DocumentRecord, document_id)
    if document is None or document.dossier_id != found.id:
        raise NotFound("document_not_found", "Pièce introuvable dans ce dossier.")
    # An attachment, never rendered inline in the agent's browser: an applicant's file is untrusted
    # content (the guard adds nosniff and a CSP that runs nothing).
    disposition = f'attachment; filename="piece-{document.id}"'
    return Response(
        ctx.blobs.get(document.sha256), media_type=document.content_type, headers={"Content-Disposition": disposition}
    )


@router.post("/dossiers/{dossier_id}/review", response_model=schemas.AgentDossierOut)
def review(dossier_id: ObjectId, caller: ApiCaller, ctx: Context) -> schemas.AgentDossierOut:
    agent = caller.agent()
    with ctx.stores.back.write() as db:
        found = prefecture.get_dossier(db, agent, dossier_id)
        prefecture.start_review(ctx, db, found)
        return dossier_out(db, found)


@router.post(
    "/dossiers/{dossier_id}/requests", status_code=status.HTTP_201_CREATED, response_model=schemas.AgentRequestOut
)
def request_complements(
    dossier_id: ObjectId, body: schemas.ComplementRequestIn, caller: ApiCaller, ctx: Context
) -> schemas.AgentRequestOut:
    agent = caller.agent()
    with ctx.stores.back.write() as db:
        found = prefecture.get_dossier(db, agent, dossier_id)
        return views.request_out(prefecture.request_complements(ctx, db, agent, found, body.message))


@router.post("/dossiers/{dossier_id}/decision", response_model=schemas.AgentDossierOut)
def decide(dossier_id: ObjectId, body: schemas.DecisionIn, caller: ApiCaller, ctx: Context) -> schemas.AgentDossierOut:
    agent = caller.agent()
    with ctx.stores.back.write() as db:
        found = prefecture.get_dossier(db, agent, dossier_id)
        prefecture.decide(ctx, db, found, body.decision)
        return dossier_out(db, found)


@router.post("/dossiers/{dossier_id}/card/produce", response_model=schemas.AgentCardOut)
def produce_card(dossier_id: ObjectId, caller: ApiCaller, ctx: Context) -> schemas.AgentCardOut:
    agent = caller.agent()
    with ctx.stores.back.write() as db:
        found = prefecture.get_dossier(db, agent, dossier_id)
        return agent_card_out(prefecture.produce_card(ctx, db, found, ctx.clock.today()))


@router.post("/dossiers/{dossier_id}/card/available", response_model=schemas.AgentCardOut)
def card_available(dossier_id: ObjectId, caller: ApiCaller, ctx: Context) -> schemas.AgentCardOut:
    agent = caller.agent()
    with ctx.stores.back.write() as db:
        found = prefecture.get_dossier(db, agent, dossier_id)
        return agent_card_out(prefecture.make_card_available(ctx, db, found))


@router.get("/cards", response_model=list[schemas.AgentCardOut])
def cards(
    caller: ApiCaller,
    ctx: Context,
    state: Literal["produced", "available", "handed_over"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    applicant: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{32}$", description="only this applicant's cards")
    ] = None,
) -> list[schemas.AgentCardOut]:
    with ctx.stores.back.read() as db:
        agent = caller.agent(db)
        return [agent_card_out(c) for c in prefecture.cards_of_prefecture(db, agent, state, limit, applicant)]


@router.post("/cards/{card_id}/handover", response_model=schemas.AgentCardOut)
def hand_over(card_id: ObjectId, caller: ApiCaller, ctx: Context) -> schemas.AgentCardOut:
    agent = caller.agent()
    with ctx.stores.back.write() as db:
        return agent_card_out(prefecture.hand_over(ctx, db, agent, card_id))


def agent_card_out(card: back.CardRecord) -> schemas.AgentCardOut:
    return schemas.AgentCardOut(
        id=card.id,
        kind=card.kind,
        motif=card.motif,
        valid_from=card.valid_from,
        valid_until=card.valid_until,
        state=card.state,
        applicant_id=card.applicant_id,
        dossier_id=card.dossier_id,
    )
