"""The applicant's JSON API (front office)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from reference_platform.api import schemas, views
from reference_platform.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ApiCaller,
    Context,
    ObjectId,
    bearer_or_cookie,
    client_of,
    route_of,
)
from reference_platform.api.one_hop import OneHopRoute
from reference_platform.api.routes import ERRORS
from reference_platform.api.uploads import UPLOAD_FORM, read_form
from reference_platform.context import PlatformContext
from reference_platform.domain import accounts, documents, front_office
from reference_platform.domain.documents import Room
from reference_platform.domain.procedures import Procedure
from reference_platform.domain.security import csrf_token, new_token
from reference_platform.storage.front import Applicant

router = APIRouter(route_class=OneHopRoute, prefix="/api", tags=["usager"], responses=ERRORS)

RESET_ANSWER = (
    "Si un compte correspond à cette adresse, un message contenant un lien de "
    "réinitialisation vient de lui être envoyé."
)


def set_session_cookie(response: Response, ctx: Context, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
        max_age=ctx.settings.session_ttl_seconds,
        path="/",
    )


@router.post("/auth/login", response_model=schemas.LoginResult)
def login(body: schemas.Credentials, request: Request, response: Response, ctx: Context) -> schemas.LoginResult:
    applicant, token = accounts.login(ctx, body.identifier, body.password, route_of(request), client_of(request))
    set_session_cookie(response, ctx, token)
    return schemas.LoginResult(token=token, applicant_id=applicant.id)


@router.get("/auth/csrf", response_model=schemas.CsrfToken)
def csrf(request: Request, response: Response, ctx: Context) -> schemas.CsrfToken:
    """The token a cookie-authenticated call that changes something must carry in ``X-CSRF-Token``."""
    nonce = request.cookies.get(CSRF_COOKIE) or new_token()
    if request.cookies.get(CSRF_COOKIE) != nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies, path="/"
        )
    return schemas.CsrfToken(token=csrf_token(ctx.settings.secret_key, nonce))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, ctx: Context) -> None:
    token = bearer_or_cookie(request)
    if token:
        with ctx.stores.front.write() as db:
            accounts.logout(db, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.post("/auth/password-reset", status_code=status.HTTP_202_ACCEPTED, response_model=schemas.Message)
def request_reset(body: schemas.ResetRequest, request: Request, ctx: Context) -> schemas.Message:
    with ctx.stores.front.write() as db:
        disclosure = accounts.request_password_reset(ctx, db, body.email, route_of(request), client_of(request))
    accounts.disclose(disclosure, accounts.unknown_email)
    return schemas.Message(message=RESET_ANSWER)


@router.post("/auth/password-reset/confirm", response_model=schemas.Message)
def confirm_reset(body: schemas.ResetConfirm, request: Request, ctx: Context) -> schemas.Message:
    with ctx.stores.front.write() as db:
        accounts.confirm_password_reset(ctx, db, body.token, body.password, route_of(request))
    return schemas.Message(message="Votre mot de passe a été modifié. Vous pouvez vous connecter.")


@router.get("/me", response_model=schemas.ProfileOut)
def profile(caller: ApiCaller, ctx: Context) -> schemas.ProfileOut:
    with ctx.stores.front.read() as db:
        applicant = caller.applicant(db)
        return views.profile_out(applicant, front_office.current_card(db, applicant))


@router.get("/me/procedures", response_model=list[schemas.ProcedureOut])
def procedures(caller: ApiCaller, request: Request, ctx: Context) -> list[schemas.ProcedureOut]:
    with ctx.stores.front.read() as db:
        applicant = caller.applicant(db)
        offers = front_office.list_procedures(ctx, db, applicant, route_of(request))
    return [
        schemas.ProcedureOut(id=Procedure(o.id), label=o.label, available=o.available, reason=o.reason) for o in offers
    ]


@router.get("/me/dossiers", response_model=list[schemas.DossierOut])
def dossiers(caller: ApiCaller, ctx: Context) -> list[schemas.DossierOut]:
    with ctx.stores.front.read() as db:
        applicant = caller.applicant(db)
        return [
            views.dossier_out(d, front_office.documents_of(db, d)) for d in front_office.list_dossiers(db, applicant)
        ]


@router.post("/me/dossiers", status_code=status.HTTP_201_CREATED, response_model=schemas.DossierOut)
def create_dossier(
    body: schemas.DossierCreate, caller: ApiCaller, request: Request, ctx: Context
) -> schemas.DossierOut:
    applicant = caller.applicant()
    with ctx.stores.front.write() as db:
        dossier = front_office.create_dossier(ctx, db, applicant, body.procedure, dict(body.details), route_of(request))
        return views.dossier_out(dossier, [])


@router.get("/me/dossiers/{dossier_id}", response_model=schemas.DossierOut)
def dossier(dossier_id: ObjectId, caller: ApiCaller, request: Request, ctx: Context) -> schemas.DossierOut:
    with ctx.stores.front.read() as db:
        applicant = caller.applicant(db)
        found = front_office.read_dossier(ctx, db, applicant, dossier_id, route_of(request))
        return views.dossier_out(found, front_office.documents_of(db, found))


@router.delete("/me/dossiers/{dossier_id}", response_model=schemas.DossierOut)
def cancel_dossier(dossier_id: ObjectId, caller: ApiCaller, ctx: Context) -> schemas.DossierOut:
    applicant = caller.applicant()
    with ctx.stores.front.write() as db:
        found = front_office.get_dossier(db, applicant, dossier_id)
        front_office.cancel_draft(db, found)
        return views.dossier_out(found, front_office.documents_of(db, found))


@router.post(
    "/me/dossiers/{dossier_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.DocumentOut,
    openapi_extra=UPLOAD_FORM,
)
async def upload(dossier_id: ObjectId, caller: ApiCaller, request: Request, ctx: Context) -> schemas.DocumentOut:
    """Async so that the body is read on the event loop, after the caller and the dossier's room
    are known: the database work runs in the thread pool (two hops), and no worker thread is held
    while a large body arrives."""
    route = route_of(request)

    def caller_and_room() -> tuple[Applicant, Room]:
        with ctx.stores.front.read() as db:
            applicant = caller.applicant(db)
            return applicant, front_office.room_for_upload(ctx, db, applicant, dossier_id)

    applicant, space = await run_in_threadpool(caller_and_room)
    form = await read_form(request, ctx.settings.upload_max_bytes)
    documents.check_kind(form.kind)  # every refusal before the file is stored: no orphan blob
    documents.check_room(ctx, space, size=len(form.content))
    document = await run_in_threadpool(
        front_office.acknowledge_upload, ctx, applicant, dossier_id, form.kind, form.filename, form.content, route
    )
    return views.document_out(document)


@router.post("/me/dossiers/{dossier_id}/submit", response_model=schemas.DossierOut)
def submit(dossier_id: ObjectId, caller: ApiCaller, request: Request, ctx: Context) -> schemas.DossierOut:
    applicant = caller.applicant()
    with ctx.stores.front.write() as db:
        found = front_office.get_dossier(db, applicant, dossier_id)
        filed = front_office.submit_dossier(ctx, db, applicant, found, route_of(request))
        return views.dossier_out(found, filed)


@router.get("/me/dossiers/{dossier_id}/receipt", response_model=schemas.ReceiptOut)
def receipt(dossier_id: ObjectId, caller: ApiCaller, request: Request, ctx: Context) -> schemas.ReceiptOut:
    with ctx.stores.front.read() as db:
        return receipt_of(ctx, db, caller.applicant(db), dossier_id, route_of(request))


def receipt_of(
    ctx: PlatformContext, db: Session, applicant: Applicant, dossier_id: str, route: str
) -> schemas.ReceiptOut:
    """The filing receipt of a submitted dossier (the API's answer, and the page's content)."""
    found = front_office.read_dossier(ctx, db, applicant, dossier_id, route)
    front_office.require_submitted(found)
    assert found.receipt_number is not None
    assert found.submitted_at is not None
    return schemas.ReceiptOut(
        receipt_number=found.receipt_number,
        dossier_id=found.id,
        procedure=Procedure(found.procedure),
        submitted_at=found.submitted_at,
        applicant=f"{applicant.given_name} {applicant.family_name}",
        foreign_number=applicant.foreign_number,
        notice="Cette attestation de dépôt ne vaut pas preuve de la régularité du séjour.",
    )


@router.get("/me/requests", response_model=list[schemas.AgentRequestOut])
def agent_requests(caller: ApiCaller, ctx: Context) -> list[schemas.AgentRequestOut]:
    with ctx.stores.front.read() as db:
        applicant = caller.applicant(db)
        return [views.request_out(r) for r in front_office.list_agent_requests(db, applicant)]


@router.post("/me/requests/{request_id}/answer", response_model=schemas.AgentRequestOut)
def answer(request_id: ObjectId, body: schemas.AnswerIn, caller: ApiCaller, ctx: Context) -> schemas.AgentRequestOut:
    applicant = caller.applicant()
    with ctx.stores.front.write() as db:
        return views.request_out(front_office.answer_agent_request(ctx, db, applicant, request_id, body.answer))
