"""The applicant's journeys through the French pages: login, password reset, renewal.

Each journey is a function of ``(run, page)`` registered with ``@browser_journey`` under the name
of the API journey it mirrors (``scenarios/journeys/applicant.py``): it reports the same step
names and updates the oracle the same way, so the funnel, the SLOs and the detectors read both
channels alike. Pages are judged like API answers: an absent procedure is ``missing``, a French
refusal shown to an entitled applicant is ``blocked``, any other unexpected page is ``error`` and
a browser wait that runs out is ``timeout``. Every navigation puts the page's load time
(Navigation Timing) in the step's evidence as ``page_load_ms``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FilePayload, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from scenarios.client import StepFailed
from scenarios.documents import make_document
from scenarios.events import Outcome
from scenarios.journeys import get_journey
from scenarios.journeys.applicant import REFUSALS, RENEWAL_DOCUMENTS, at_prefecture, new_password
from scenarios.journeys.runner import NotApplicable, Run

T = TypeVar("T")
log = logging.getLogger(__name__)
BrowserJourney = Callable[[Run, Page], None]

BROWSER_JOURNEYS: dict[str, BrowserJourney] = {}

DASHBOARD = r"/tableau-de-bord"
DOSSIER_ID = r"[0-9a-f]{32}"
# loadEventEnd is 0 until the load handlers have run; DOMContentLoaded is then the best we have.
LOAD_TIME_JS = """() => {
  const entry = performance.getEntriesByType('navigation')[0];
  if (!entry) return null;
  return entry.loadEventEnd > 0 ? entry.loadEventEnd : entry.domContentLoadedEventEnd;
}"""


def browser_journey(function: BrowserJourney) -> BrowserJourney:
    """Register a browser journey under its function's name, which must name an API journey
    (the step names, the eligibility and the SLOs are shared)."""
    get_journey(function.__name__)  # raises UnknownName, with "did you mean", for a typo
    BROWSER_JOURNEYS[function.__name__] = function
    return function


# --- steps and pages -------------------------------------------------------------------------


def step(run: Run, name: str, action: Callable[[], T], *, retry: bool = True) -> T:
    """``run.step`` with every failure turned into the step's outcome: a browser wait that runs
    out is ``timeout``; anything else the browser raises (a crashed page, a closed browser) is
    ``error``, and so is an unexpected exception (logged with its traceback): every attempted
    step ends in one recorded outcome, and the next journey still runs."""

    def guarded() -> T:
        try:
            return action()
        except (StepFailed, NotApplicable):
            raise
        except PlaywrightTimeout as exc:
            raise StepFailed(Outcome.TIMEOUT, f"browser: {first_line(exc)}") from None
        except PlaywrightError as exc:
            raise StepFailed(Outcome.ERROR, f"browser: {first_line(exc)}") from None
        except Exception as exc:
            log.exception("%s.%s: unexpected failure", run.journey, name)
            raise StepFailed(Outcome.ERROR, f"harness: {exc.__class__.__name__}: {first_line(exc)}") from None

    return run.step(name, guarded, retry=retry)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else exc.__class__.__name__)[:300]


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def open_page(run: Run, page: Page, url: str, expected: str | None = None) -> None:
    """Go to a page as if typing its address, and judge where the browser landed."""
    landed(run, page, page.goto(url), expected or re.escape(urlsplit(url).path))


def ensure_on(run: Run, page: Page, path: str) -> None:
    """Open the page unless the browser shows it already (a retried step starts from anywhere)."""
    if path_of(page) != path:
        open_page(run, page, path)


def submit(run: Run, page: Page, button: str, expected: str) -> None:
    """Click a form's button and judge the page the browser lands on (after any redirect)."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button, exact=True).click()
    landed(run, page, navigation.value, expected)


def landed(run: Run, page: Page, response: Response | None, expected: str) -> None:
    """Record the page's load time, then judge it: a refusal message, an error status or a page
    other than ``expected`` (a regular expression on the path) ends the step."""
    path = path_of(page)
    run.evidence(page=path)
    load = page.evaluate(LOAD_TIME_JS)
    if isinstance(load, int | float):
        run.evidence(page_load_ms=f"{load:.1f}")
    if response is None:
        raise StepFailed(Outcome.ERROR, f"no answer for {path}")
    refused(page, response.status)
    if response.status >= 400:
        raise StepFailed(
            Outcome.ERROR, f"{path} answered {response.status}: {body_start(page)}", status=response.status
        )
    if not re.fullmatch(expected, path):
        raise StepFailed(Outcome.ERROR, f"landed on {path}, expected {expected}", status=response.status)


def refused(page: Page, status: int) -> None:
    """A French refusal message on the page: ``blocked`` when it is a business refusal (the
    journeys only act for entitled applicants), ``error`` for anything else it says."""
    alert = page.get_by_role("alert")
    if alert.count() == 0:
        return
    message = alert.first.inner_text().strip()
    code = alert.first.get_attribute("data-code") or ""
    if status in REFUSALS:
        raise StepFailed(Outcome.BLOCKED, f"refused though entitled: {message}", status=status, evidence={"code": code})
    raise StepFailed(Outcome.ERROR, f"the page says: {message}", status=status, evidence={"code": code})


def body_start(page: Page) -> str:
    return " ".join(page.locator("body").inner_text().split())[:200] if page.locator("body").count() else ""


def text_of(page: Page, test_id: str) -> str | None:
    """The text of a ``data-testid`` element of the loaded page, None when it is absent (no
    waiting: the page is complete when this is called)."""
    found = page.get_by_test_id(test_id)
    return found.first.inner_text().strip() if found.count() else None


def require(page: Page, selector: str, what: str) -> None:
    """An element the applicant needs to go on must be on the page (``missing`` otherwise)."""
    if page.locator(selector).count() == 0:
        raise StepFailed(Outcome.MISSING, f"{what} absent from {path_of(page)}", evidence={"element": selector})


# --- shared steps ----------------------------------------------------------------------------


def sign_in(run: Run, page: Page, password: Callable[[], str]) -> None:
    """Fill and send the connexion form; the dashboard must follow. ``password`` is read when the
    step runs (a reset earlier in the journey changes it)."""
    open_page(run, page, "/connexion")
    page.locator("#identifiant").fill(run.ctx.applicant.email)
    page.locator("#mot_de_passe").fill(password())
    submit(run, page, "Se connecter", DASHBOARD)


def dashboard(run: Run, page: Page) -> None:
    """Open the dashboard with the session cookie: it must show the applicant's own number."""
    open_page(run, page, "/tableau-de-bord")
    shown = text_of(page, "numero-etranger")
    expected = run.ctx.applicant.foreign_number
    if shown != expected:
        raise StepFailed(Outcome.CORRUPT, f"dashboard shows {shown or 'no number'}, expected {expected}")


def choose(run: Run, page: Page, procedure: str) -> None:
    """``<journey>.choose_procedure``: the procedure must be listed on /demarches, and selectable."""
    open_page(run, page, "/demarches")
    option = page.locator(f"input[name=demarche][value={procedure}]")
    if option.count() == 0:
        offered = page.locator("input[name=demarche]").evaluate_all("inputs => inputs.map(i => i.value)")
        raise StepFailed(
            Outcome.MISSING,
            f"procedure {procedure!r} absent from the list; offered: {', '.join(sorted(offered)) or 'none'}",
            evidence={"procedure": procedure},
        )
    if option.is_disabled():
        reason = text_or_empty(page, f"#motif-{procedure}")
        raise StepFailed(Outcome.BLOCKED, f"procedure {procedure!r} offered as unavailable: {reason}", status=200)


def text_or_empty(page: Page, selector: str) -> str:
    found = page.locator(selector)
    return found.first.inner_text().strip() if found.count() else ""


def create(run: Run, page: Page, procedure: str) -> str:
    """Start the chosen procedure; the platform opens the new dossier's page."""
    ensure_on(run, page, "/demarches")
    require(page, f"input[name=demarche][value={procedure}]", f"procedure {procedure!r}")
    page.locator(f"input[name=demarche][value={procedure}]").check()
    submit(run, page, "Commencer la démarche", rf"/dossiers/{DOSSIER_ID}")
    dossier_id = path_of(page).rsplit("/", 1)[-1]
    run.ctx.oracle.dossier_created(run.ctx.applicant.index, dossier_id, procedure)
    run.evidence(dossier=dossier_id)
    return dossier_id


def upload(run: Run, page: Page, dossier_id: str, kind: str) -> None:
    """``<journey>.upload``: one document through the dossier page's form; it must be listed
    with the SHA-256 of what was sent."""
    ctx = run.ctx
    document = make_document(kind, ctx.rng, scale=ctx.settings.document_size_scale)
    payload = FilePayload(name=document.filename, mimeType=document.content_type, buffer=document.content)
    page_path = f"/dossiers/{dossier_id}"

    def action() -> None:
        run.evidence(dossier=dossier_id, kind=kind, sha256=document.sha256)
        ensure_on(run, page, page_path)
        require(page, "input#file", "the upload form")
        before = page.get_by_test_id("piece").count()
        page.locator("#kind").select_option(kind)
        page.locator("#file").set_input_files(payload)
        submit(run, page, "Déposer la pièce", re.escape(page_path))
        listed(page, document.sha256, before)
        document_id = acknowledged_id(page, dossier_id, document.sha256, set(ctx.truth.dossiers[dossier_id].documents))
        run.evidence(document=document_id)
        ctx.oracle.document_sent(ctx.applicant.index, dossier_id, document_id, document.sha256)

    step(run, "upload", action)


def listed(page: Page, sha256: str, before: int) -> None:
    """After the upload the dossier page must list the document with the same SHA-256."""
    if page.locator(f"[data-testid=piece][data-sha256='{sha256}']").count():
        return
    if page.get_by_test_id("piece").count() > before:
        raise StepFailed(Outcome.CORRUPT, f"a document was listed, but not with the SHA-256 sent ({sha256[:12]}…)")
    raise StepFailed(Outcome.LOST, "the upload was acknowledged, the document is not listed on the dossier page")


def acknowledged_id(page: Page, dossier_id: str, sha256: str, known: set[str]) -> str:
    """The platform's id of the document just listed. The dossier page shows hashes, not ids,
    so the browser asks the JSON API with its own session cookie, as the page's scripts would."""
    reply = page.request.get(f"/api/me/dossiers/{dossier_id}")
    if not reply.ok:
        raise StepFailed(Outcome.ERROR, f"/api/me/dossiers/{{id}} answered {reply.status}", status=reply.status)
    for document in reply.json().get("documents", []):
        if document.get("sha256") == sha256 and document.get("id") not in known:
            return str(document["id"])
    raise StepFailed(Outcome.ERROR, f"the dossier page lists {sha256[:12]}…, the dossier's API answer does not")


def submit_dossier(run: Run, page: Page, dossier_id: str) -> None:
    """Send the dossier; the platform answers with the attestation de dépôt."""
    ctx = run.ctx
    run.evidence(dossier=dossier_id)
    ensure_on(run, page, f"/dossiers/{dossier_id}")
    require(page, f"form[action='/dossiers/{dossier_id}/depot']", "the submit button")
    submit(run, page, "Déposer ma demande", rf"/dossiers/{dossier_id}/attestation")
    number = text_of(page, "numero-depot")
    if not number:
        raise StepFailed(Outcome.CORRUPT, "after submission the attestation shows no receipt number")
    ctx.oracle.dossier_state(ctx.applicant.index, dossier_id, "submitted", number)


def receipt(run: Run, page: Page, dossier_id: str) -> None:
    """Open the attestation de dépôt again: it must carry the number given at submission."""
    run.evidence(dossier=dossier_id)
    open_page(run, page, f"/dossiers/{dossier_id}/attestation")
    found = text_of(page, "numero-depot")
    expected = run.ctx.truth.dossiers[dossier_id].receipt_number
    if found != expected:
        raise StepFailed(Outcome.CORRUPT, f"attestation de dépôt {found or 'without number'}, expected {expected}")


# --- the journeys ----------------------------------------------------------------------------


@browser_journey
def login(run: Run, page: Page) -> None:
    """Sign in on /connexion and see one's dashboard."""
    step(run, "submit", lambda: sign_in(run, page, lambda: run.ctx.truth.password))
    step(run, "dashboard", lambda: dashboard(run, page))


@browser_journey
def password_reset(run: Run, page: Page) -> None:
    """Ask for a reset link on /mot-de-passe-oublie, open the e-mailed link, set a new password,
    sign in with it."""
    ctx = run.ctx
    email = ctx.applicant.email
    seen: set[str] = set()
    token: list[str] = []

    def request() -> None:
        if ctx.mailbox is None:
            raise StepFailed(Outcome.ERROR, "password_reset needs a mailbox (the --mailbox URL)")
        seen.update(ctx.mailbox.message_ids(email))
        open_page(run, page, "/mot-de-passe-oublie")
        page.locator("#courriel").fill(email)
        submit(run, page, "Recevoir un lien de réinitialisation", r"/mot-de-passe-oublie")
        if page.get_by_role("status").count() == 0:
            raise StepFailed(Outcome.ERROR, "no confirmation shown after asking for a reset link")

    def arrived() -> bool:
        assert ctx.mailbox is not None  # checked by the request step
        found = ctx.mailbox.reset_token(email, seen)
        if found:
            token.append(found)
        return found is not None

    step(run, "request", request)
    run.watch("email", arrived)
    password = new_password(ctx)

    def confirm() -> None:
        open_page(run, page, f"/mot-de-passe/nouveau?jeton={token[0]}")
        page.locator("#mot_de_passe").fill(password)
        submit(run, page, "Enregistrer le nouveau mot de passe", r"/mot-de-passe/nouveau")
        if page.get_by_role("status").count() == 0:
            raise StepFailed(Outcome.ERROR, "no confirmation shown after setting the new password")
        ctx.oracle.password_changed(ctx.applicant.index, password)

    step(run, "confirm", confirm, retry=False)  # a reset link is single-use
    step(run, "login", lambda: sign_in(run, page, lambda: ctx.truth.password))


@browser_journey
def renewal(run: Run, page: Page) -> None:
    """Renew one's residence card through the pages: choose, create, upload, submit, receipt;
    the prefecture must then have the dossier and every document (checked on the agent's side)."""
    step(run, "login", lambda: sign_in(run, page, lambda: run.ctx.truth.password))
    step(run, "choose_procedure", lambda: choose(run, page, "renewal"))
    dossier_id = step(run, "create", lambda: create(run, page, "renewal"))
    for kind in RENEWAL_DOCUMENTS:
        upload(run, page, dossier_id, kind)
    step(run, "submit", lambda: submit_dossier(run, page, dossier_id))
    at_prefecture(run, dossier_id)  # watched as soon as it is submitted, as in the API journey
    step(run, "receipt", lambda: receipt(run, page, dossier_id))


__all__ = ["BROWSER_JOURNEYS", "BrowserJourney", "browser_journey", "login", "password_reset", "renewal"]
