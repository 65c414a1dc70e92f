"""The applicant's French HTML pages (connexion, mot de passe oublié, tableau de bord, choix
de la démarche, dépôt des pièces, suivi du dossier), plain forms for a real browser.

Every form carries a CSRF token bound to an HttpOnly cookie (signed double submit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from reference_platform.api import views
from reference_platform.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Caller,
    Context,
    ObjectId,
    bearer_or_cookie,
    client_of,
    route_of,
)
from reference_platform.api.one_hop import OneHopRoute
from reference_platform.api.routes.applicant import RESET_ANSWER, receipt_of, set_session_cookie
from reference_platform.api.uploads import read_upload_form
from reference_platform.domain import accounts, documents, front_office
from reference_platform.domain.procedures import DOCUMENT_KINDS, LABELS, Procedure
from reference_platform.domain.security import csrf_token, csrf_valid, new_token
from reference_platform.errors import DomainError, Forbidden, Unauthorized
from reference_platform.storage.front import Applicant

router = APIRouter(route_class=OneHopRoute, include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "templates")

NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL in text
CARD_KINDS = {
    "carte_temporaire": "Carte de séjour temporaire",
    "carte_pluriannuelle": "Carte de séjour pluriannuelle",
    "carte_resident": "Carte de résident",
    "certificat_residence_algerien": "Certificat de résidence algérien",
}
CARD_STATES = {"produced": "en production", "available": "disponible en préfecture", "handed_over": "remis"}


async def submitted_csrf(request: Request) -> str:
    """The form's ``csrf`` field, "" when absent: a missing token is refused like a wrong one (403)."""
    value = (await request.form()).get("csrf")
    return value if isinstance(value, str) else ""


Csrf = Annotated[str, Depends(submitted_csrf)]


def render(request: Request, ctx: Context, name: str, title: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    nonce = request.cookies.get(CSRF_COOKIE) or new_token()
    context = {
        "title": title,
        "csrf": csrf_token(ctx.settings.secret_key, nonce),
        "labels": LABELS,
        "document_kinds": DOCUMENT_KINDS,
        "card_kinds": CARD_KINDS,
        "card_states": CARD_STATES,
        "applicant": None,
        **values,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies, path="/"
        )
    return response


def check_csrf(request: Request, ctx: Context, submitted: str) -> None:
    if not csrf_valid(ctx.settings.secret_key, request.cookies.get(CSRF_COOKIE), submitted):
        raise Forbidden("csrf", "Le formulaire a expiré ou ne provient pas de ce site. Rechargez la page.")


def signed_in(request: Request, ctx: Context) -> Applicant:
    """The applicant behind the page's session cookie (a form's CSRF token is checked by its route)."""
    return Caller(ctx, request.cookies.get(SESSION_COOKIE), route_of(request)).applicant()


def refusal_page(request: Request, ctx: Context, error: DomainError, applicant: Applicant | None = None) -> Response:
    if isinstance(error, Unauthorized) and applicant is None and error.code != "bad_credentials":
        return RedirectResponse("/connexion", status_code=303)
    return render(
        request,
        ctx,
        "erreur.html",
        "Démarche impossible",
        status=error.status,
        error=error.message,
        error_code=error.code,
        applicant=applicant,
    )


@router.get("/")
def home(request: Request) -> RedirectResponse:
    return RedirectResponse(
        "/tableau-de-bord" if request.cookies.get(SESSION_COOKIE) else "/connexion", status_code=303
    )


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, ctx: Context) -> Response:
    return render(request, ctx, "connexion.html", "Connexion à mon espace")


@router.post("/connexion", response_class=HTMLResponse)
def login_submit(
    request: Request,
    ctx: Context,
    csrf: Csrf,
    identifiant: Annotated[str, Form(max_length=254, pattern=NO_NUL)],
    mot_de_passe: Annotated[str, Form(max_length=1024, pattern=NO_NUL)],
) -> Response:
    check_csrf(request, ctx, csrf)
    try:
        _, token = accounts.login(ctx, identifiant, mot_de_passe, route_of(request), client_of(request))
    except DomainError as error:
        return render(
            request,
            ctx,
            "connexion.html",
            "Connexion à mon espace",
            status=error.status,
            error=error.message,
            error_code=error.code,
        )
    response = RedirectResponse("/tableau-de-bord", status_code=303)
    set_session_cookie(response, ctx, token)
    return response


@router.post("/deconnexion")
def logout_submit(request: Request, ctx: Context, csrf: Csrf) -> Response:
    check_csrf(request, ctx, csrf)
    token = bearer_or_cookie(request)
    if token:
        with ctx.stores.front.write() as db:
            accounts.logout(db, token)
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/mot-de-passe-oublie", response_class=HTMLResponse)
def reset_page(request: Request, ctx: Context) -> Response:
    return render(request, ctx, "mot_de_passe_oublie.html", "Mot de passe oublié")


@router.post("/mot-de-passe-oublie", response_class=HTMLResponse)
def reset_submit(
    request: Request, ctx: Context, csrf: Csrf, courriel: Annotated[str, Form(max_length=254, pattern=NO_NUL)]
) -> Response:
    check_csrf(request, ctx, csrf)
    title = "Mot de passe oublié"
    try:
        with ctx.stores.front.write() as db:
            disclosure = accounts.request_password_reset(ctx, db, courriel, route_of(request), client_of(request))
        accounts.disclose(disclosure, accounts.unknown_email)
    except DomainError as error:
        return render(
            request,
            ctx,
            "mot_de_passe_oublie.html",
            title,
            status=error.status,
            error=error.message,
            error_code=error.code,
        )
    return render(request, ctx, "mot_de_passe_oublie.html", title, info=RESET_ANSWER)


@router.get("/mot-de-passe/nouveau", response_class=HTMLResponse)
def new_password_page(request: Request, ctx: Context, jeton: str = "") -> Response:
    return render(request, ctx, "mot_de_passe_nouveau.html", "Choisir un nouveau mot de passe", token=jeton)


@router.post("/mot-de-passe/nouveau", response_class=HTMLResponse)
def new_password_submit(
    request: Request,
    ctx: Context,
    csrf: Csrf,
    jeton: Annotated[str, Form(max_length=200, pattern=NO_NUL)],
    mot_de_passe: Annotated[str, Form(max_length=1024, pattern=NO_NUL)],
) -> Response:
    check_csrf(request, ctx, csrf)
    title = "Choisir un nouveau mot de passe"
    try:
        with ctx.stores.front.write() as db:
            accounts.confirm_password_reset(ctx, db, jeton, mot_de_passe, route_of(request))
    except DomainError as error:
        return render(
            request,
            ctx,
            "mot_de_passe_nouveau.html",
            title,
            status=error.status,
            token=jeton,
            error=error.message,
            error_code=error.code,
        )
    return render(
        request,
        ctx,
        "mot_de_passe_nouveau.html",
        title,
        done=True,
        info="Votre mot de passe a été modifié. Vous pouvez vous connecter.",
    )


@router.get("/tableau-de-bord", response_class=HTMLResponse)
def dashboard(request: Request, ctx: Context) -> Response:
    try:
        applicant = signed_in(request, ctx)
    except DomainError as error:
        return refusal_page(request, ctx, error)
    with ctx.stores.front.read() as db:
        card = front_office.current_card(db, applicant)
        dossiers = [views.dossier_out(d, []) for d in front_office.list_dossiers(db, applicant)]
        requests = front_office.list_agent_requests(db, applicant)
    return render(
        request,
        ctx,
        "tableau_de_bord.html",
        "Tableau de bord",
        applicant=applicant,
        card=card,
        dossiers=dossiers,
        requests=requests,
    )


@router.get("/demarches", response_class=HTMLResponse)
def procedures_page(request: Request, ctx: Context) -> Response:
    try:
        applicant = signed_in(request, ctx)
    except DomainError as error:
        return refusal_page(request, ctx, error)
    with ctx.stores.front.read() as db:
        offers = front_office.list_procedures(ctx, db, applicant, route_of(request))
    return render(request, ctx, "demarches.html", "Choix de la démarche", applicant=applicant, offers=offers)


@router.post("/demarches", response_class=HTMLResponse)
def procedures_submit(
    request: Request,
    ctx: Context,
    csrf: Csrf,
    demarche: Annotated[str, Form(max_length=40, pattern=NO_NUL)],
    address: Annotated[str, Form(max_length=250, pattern=NO_NUL)] = "",
    postcode: Annotated[str, Form(max_length=10, pattern=NO_NUL)] = "",
    city: Annotated[str, Form(max_length=120, pattern=NO_NUL)] = "",
) -> Response:
    check_csrf(request, ctx, csrf)
    applicant: Applicant | None = None
    try:
        applicant = signed_in(request, ctx)
        procedure = Procedure(demarche) if demarche in Procedure.__members__.values() else None
        if procedure is None:
            raise DomainError("procedure_unavailable", "Cette démarche n'est pas disponible.")
        details = (
            {"address": address, "postcode": postcode, "city": city} if procedure is Procedure.ADDRESS_CHANGE else {}
        )
        with ctx.stores.front.write() as db:
            dossier = front_office.create_dossier(ctx, db, applicant, procedure, details, route_of(request))
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    return RedirectResponse(f"/dossiers/{dossier.id}", status_code=303)


@router.get("/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier_page(dossier_id: ObjectId, request: Request, ctx: Context) -> Response:
    applicant: Applicant | None = None
    try:
        applicant = signed_in(request, ctx)
        with ctx.stores.front.read() as db:
            found = front_office.read_dossier(ctx, db, applicant, dossier_id, route_of(request))
            dossier = views.dossier_out(found, front_office.documents_of(db, found))
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    uploadable = dossier.state in ("draft", "submitted", "under_review", "complement_requested")
    return render(
        request,
        ctx,
        "dossier.html",
        f"Suivi du dossier — {LABELS[dossier.procedure]}",
        applicant=applicant,
        dossier=dossier,
        uploadable=uploadable,
        max_size=documents.size_label(ctx.settings.upload_max_bytes),
    )


@router.post("/dossiers/{dossier_id}/pieces", response_class=HTMLResponse)
def upload_submit(dossier_id: ObjectId, request: Request, ctx: Context) -> Response:
    """The form is read only once the dossier is known to be the caller's (``api.uploads``), so its
    CSRF token is checked after that, before anything is stored."""
    applicant: Applicant | None = None
    try:
        applicant = signed_in(request, ctx)
        with ctx.stores.front.read() as db:
            space = front_office.room_for_upload(ctx, db, applicant, dossier_id)
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    form = read_upload_form(request, ctx.settings.upload_max_bytes)
    check_csrf(request, ctx, form.csrf)
    try:
        documents.check_kind(form.kind)  # every refusal before the file is stored: no orphan blob
        documents.check_room(ctx, space, size=len(form.content))
        front_office.acknowledge_upload(
            ctx, applicant, dossier_id, form.kind, form.filename, form.content, route_of(request)
        )
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)


@router.post("/dossiers/{dossier_id}/depot", response_class=HTMLResponse)
def submit_page(dossier_id: ObjectId, request: Request, ctx: Context, csrf: Csrf) -> Response:
    check_csrf(request, ctx, csrf)
    applicant: Applicant | None = None
    try:
        applicant = signed_in(request, ctx)
        with ctx.stores.front.write() as db:
            found = front_office.get_dossier(db, applicant, dossier_id)
            front_office.submit_dossier(ctx, db, applicant, found, route_of(request))
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    return RedirectResponse(f"/dossiers/{dossier_id}/attestation", status_code=303)


@router.get("/dossiers/{dossier_id}/attestation", response_class=HTMLResponse)
def receipt_page(dossier_id: ObjectId, request: Request, ctx: Context) -> Response:
    applicant: Applicant | None = None
    try:
        applicant = signed_in(request, ctx)
        with ctx.stores.front.read() as db:
            found = receipt_of(ctx, db, applicant, dossier_id, route_of(request))
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    return render(request, ctx, "attestation.html", "Attestation de dépôt", applicant=applicant, receipt=found)


@router.post("/demandes/{request_id}/reponse", response_class=HTMLResponse)
def answer_submit(
    request_id: ObjectId,
    request: Request,
    ctx: Context,
    csrf: Csrf,
    reponse: Annotated[str, Form(max_length=5000, pattern=NO_NUL)],
) -> Response:
    check_csrf(request, ctx, csrf)
    applicant: Applicant | None = None
    try:
        applicant = signed_in(request, ctx)
        with ctx.stores.front.write() as db:
            front_office.answer_agent_request(ctx, db, applicant, request_id, reponse)
    except DomainError as error:
        return refusal_page(request, ctx, error, applicant)
    return RedirectResponse("/tableau-de-bord", status_code=303)
