"""The applicant's journeys: login, password reset, renewal, upload, address change."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import TypeVar

from scenarios.client import Dossier, PlatformError, StepFailed
from scenarios.documents import make_document
from scenarios.events import Outcome
from scenarios.journeys import journey
from scenarios.journeys.runner import JourneyContext, NotApplicable, Run
from synthetic_users.oracle import Truth
from synthetic_users.population import Applicant, Population

T = TypeVar("T")

# A refusal with these statuses is the platform saying "no" to the applicant; when the truth says
# the applicant is entitled, that is a wrong refusal (``blocked``), not a crash (``error``).
REFUSALS = frozenset({401, 403, 409})
RENEWAL_DOCUMENTS = ("passport", "residence_card", "proof_of_address", "proof_of_resources")
ACCEPTS_DOCUMENTS = frozenset({"draft", "submitted", "under_review", "complement_requested"})


def entitled(action: Callable[[], T]) -> T:
    """Run an action the applicant is entitled to: a business refusal is ``blocked``."""
    try:
        return action()
    except PlatformError as error:
        if error.status in REFUSALS:
            raise StepFailed(
                Outcome.BLOCKED,
                f"refused though entitled: {error.platform_message}",
                status=error.status,
                evidence={"code": error.code},
            ) from None
        raise


def sign_in(run: Run) -> None:
    """The journey's own login step (``<journey>.login``)."""
    ctx = run.ctx
    run.step("login", lambda: entitled(lambda: ctx.client.login(ctx.applicant.email, ctx.truth.password)))


# Every procedure of the platform is listed, available or not (with the reason): one absent from
# the list, whichever the applicant came for, is the documented defect "cannot be selected".
PROCEDURES = ("renewal", "address_change", "duplicate")


def choose(run: Run, procedure: str) -> None:
    """``<journey>.choose_procedure``: every procedure is listed, and this one is available."""

    def action() -> None:
        note_unseen_handover(run)
        offers = {offer.id: offer for offer in run.ctx.client.procedures()}
        absent = [p for p in PROCEDURES if p not in offers]
        if absent:
            # The one the applicant came for first: that is what they cannot do.
            missing = procedure if procedure in absent else absent[0]
            raise StepFailed(
                Outcome.MISSING,
                f"procedure {missing!r} absent from the list; offered: {', '.join(sorted(offers)) or 'none'}",
                evidence={"procedure": missing},
            )
        offer = offers[procedure]
        if not offer.available:
            raise StepFailed(
                Outcome.BLOCKED,
                f"procedure {procedure!r} offered as unavailable: {offer.reason}",
                status=200,
                evidence={"reason": offer.reason or ""},
            )

    run.step("choose_procedure", action)


def note_unseen_handover(run: Run) -> None:
    """Name, in the evidence of a step that may be refused as "a request is already under review", a
    handover of this applicant's card the front office was never seen to learn: the detectors then
    judge the refusal as that defect's consequence."""
    unseen = run.ctx.truth.handover_unseen
    if unseen is not None:
        run.evidence(handover_unseen=unseen)


def create(run: Run, procedure: str, details: dict[str, str] | None = None) -> Dossier:
    ctx = run.ctx

    def action() -> Dossier:
        note_unseen_handover(run)
        dossier = entitled(lambda: ctx.client.create_dossier(procedure, details))
        ctx.oracle.dossier_created(ctx.applicant.index, dossier.id, procedure)
        run.evidence(dossier=dossier.id)
        return dossier

    return run.step("create", action)


def upload_documents(run: Run, dossier_id: str, kinds: tuple[str, ...], step: str = "upload") -> None:
    """One step per document: acknowledged with the SHA-256 of what was sent."""
    for kind in kinds:
        upload_one(run, dossier_id, kind, step)


def upload_one(run: Run, dossier_id: str, kind: str, step: str, precheck: Callable[[], None] | None = None) -> None:
    ctx = run.ctx
    document = make_document(kind, ctx.rng, scale=ctx.settings.document_size_scale)

    def action() -> None:
        if precheck is not None:
            precheck()
        run.evidence(dossier=dossier_id, kind=kind, sha256=document.sha256)
        acknowledged = entitled(
            lambda: ctx.client.upload(dossier_id, kind, document.filename, document.content, document.content_type)
        )
        run.evidence(document=acknowledged.id)
        if acknowledged.sha256 != document.sha256 or acknowledged.size != len(document.content):
            raise StepFailed(
                Outcome.CORRUPT,
                f"acknowledged {acknowledged.sha256[:12]}… ({acknowledged.size} bytes), "
                f"sent {document.sha256[:12]}… ({len(document.content)} bytes)",
            )
        ctx.oracle.document_sent(ctx.applicant.index, dossier_id, acknowledged.id, document.sha256)

    run.step(step, action)


def submit(run: Run, dossier_id: str) -> None:
    ctx = run.ctx

    def action() -> None:
        run.evidence(dossier=dossier_id)
        dossier = entitled(lambda: ctx.client.submit(dossier_id))
        if dossier.state != "submitted" or not dossier.receipt_number:
            raise StepFailed(Outcome.CORRUPT, f"after submission the dossier is {dossier.state!r} without receipt")
        ctx.oracle.dossier_state(ctx.applicant.index, dossier_id, "submitted", dossier.receipt_number)

    run.step("submit", action)


def receipt(run: Run, dossier_id: str) -> None:
    ctx = run.ctx

    def action() -> None:
        run.evidence(dossier=dossier_id)
        found = ctx.client.receipt(dossier_id)
        expected = ctx.truth.dossiers[dossier_id].receipt_number
        if found.receipt_number != expected or found.dossier_id != dossier_id:
            raise StepFailed(
                Outcome.CORRUPT,
                f"attestation de dépôt {found.receipt_number} for {found.dossier_id}, expected {expected}",
            )

    run.step("receipt", action)


def at_prefecture(run: Run, dossier_id: str, step: str = "reconcile") -> None:
    """Watch the back office until the dossier and every acknowledged document are there, with
    the same SHA-256 (``lost`` past the deadline, ``corrupt`` if a hash differs)."""
    ctx = run.ctx
    expected = dict(ctx.truth.dossiers[dossier_id].documents)

    def probe() -> bool:
        run.evidence(dossier=dossier_id, documents=",".join(sorted(expected)))  # what the watch looks for
        seen = ctx.agent().dossier(dossier_id, missing_ok=True)
        # Each look that got an answer says what it still waits for (an ``ok`` waits for nothing); a
        # look that failed to answer leaves what the last answer said.
        run.forget("waiting_for")
        if seen is None:
            run.evidence(dossier=dossier_id, waiting_for="dossier")
            return False
        hashes = {d.id: d.sha256 for d in seen.documents}
        for document_id, sha in expected.items():
            if document_id in hashes and hashes[document_id] != sha:
                raise StepFailed(
                    Outcome.CORRUPT,
                    f"document {document_id} at the prefecture has SHA-256 {hashes[document_id][:12]}…, "
                    f"sent {sha[:12]}…",
                    evidence={"dossier": dossier_id, "document": document_id},
                )
        absent = sorted(set(expected) - set(hashes))
        if absent:
            run.evidence(dossier=dossier_id, waiting_for=f"documents {','.join(absent)}")
            return False
        return True

    run.watch(step, probe)
    ctx.oracle.dossier_at_prefecture(ctx.applicant.index, dossier_id)


# --- eligibility -----------------------------------------------------------------------------


def anyone(applicant: Applicant, truth: Truth, population: Population) -> bool:
    return True


def reachable_by_email(applicant: Applicant, truth: Truth, population: Population) -> bool:
    return not truth.email_bounces


def may_renew(applicant: Applicant, truth: Truth, population: Population) -> bool:
    """Entitled to file a renewal today: card handed over, in the R.431-5 window (the seeded card's,
    unless the run already renewed it), nothing open."""
    return (
        truth.card_state == "handed_over"
        and not truth.card_renewed
        and population.in_renewal_window(applicant)
        and not truth.open_dossiers
    )


def may_start_procedure(applicant: Applicant, truth: Truth, population: Population) -> bool:
    return not truth.open_dossiers


def has_filed_dossier(applicant: Applicant, truth: Truth, population: Population) -> bool:
    return filed_dossier(truth) is not None


def filed_dossier(truth: Truth) -> str | None:
    """A dossier the prefecture has, still waiting for instruction (as far as the harness knows)."""
    for dossier_id, dossier in truth.dossiers.items():
        if dossier.at_prefecture and dossier.state == "submitted" and not dossier.requests:
            return dossier_id
    return None


# --- the journeys ----------------------------------------------------------------------------


@journey(eligible=anyone, steps=("submit", "dashboard"))
def login(run: Run) -> None:
    """Sign in and see one's dashboard."""
    ctx = run.ctx
    run.step("submit", lambda: entitled(lambda: ctx.client.login(ctx.applicant.email, ctx.truth.password)))
    run.step("dashboard", lambda: dashboard(ctx))


def dashboard(ctx: JourneyContext) -> None:
    profile = ctx.client.profile()
    if profile.foreign_number != ctx.applicant.foreign_number:
        raise StepFailed(
            Outcome.CORRUPT, f"dashboard shows {profile.foreign_number}, expected {ctx.applicant.foreign_number}"
        )
    ctx.client.dossiers()


@journey(
    eligible=reachable_by_email,
    steps=("request", "email", "confirm", "login"),
    watches={"email": "mail"},
    needs_mailbox=True,
)
def password_reset(run: Run) -> None:
    """Forget one's password, follow the e-mailed link, set a new one, sign in with it."""
    ctx = run.ctx
    email = ctx.applicant.email
    token = emailed_reset_token(run, "request")
    password = new_password(ctx)

    def confirm() -> None:
        entitled(lambda: ctx.client.confirm_reset(token, password))
        ctx.oracle.password_changed(ctx.applicant.index, password)

    run.step("confirm", confirm, retry=False)  # a reset link is single-use
    run.step("login", lambda: entitled(lambda: ctx.client.login(email, ctx.truth.password)))


def emailed_reset_token(run: Run, request_step: str) -> str:
    """Ask for a reset link (step ``request_step``), then read it from the mailbox (step
    ``email``, a watch with the e-mail deadline): the link's token."""
    ctx = run.ctx
    mailbox = ctx.mailbox
    if mailbox is None:
        raise StepFailed(Outcome.ERROR, f"{run.journey} needs a mailbox (campaign: mailbox URL)")
    email = ctx.applicant.email
    seen: set[str] = set()
    token: list[str] = []

    def request() -> None:
        seen.update(mailbox.message_ids(email))
        ctx.client.request_reset(email)

    def arrived() -> bool:
        found = mailbox.reset_token(email, seen)
        if found:
            token.append(found)
        return found is not None

    run.step(request_step, request)
    run.watch("email", arrived)
    return token[0]


def new_password(ctx: JourneyContext) -> str:
    alphabet = string.ascii_letters + string.digits
    return "Nv-" + "".join(ctx.rng.choice(alphabet) for _ in range(14)) + "-7"


@journey(
    eligible=may_renew,
    steps=("login", "choose_procedure", "create", "upload", "submit", "reconcile", "receipt"),
    watches={"reconcile": "seam"},
)
def renewal(run: Run) -> None:
    """Renew one's residence card: choose, create, upload, submit, reach the prefecture, receipt."""
    sign_in(run)
    choose(run, "renewal")
    dossier = create(run, "renewal")
    upload_documents(run, dossier.id, RENEWAL_DOCUMENTS)
    submit(run, dossier.id)
    # Watched as soon as it is submitted: an applicant who leaves before the receipt (or a receipt
    # that fails) must not leave the dossier and its documents unwatched.
    at_prefecture(run, dossier.id)
    receipt(run, dossier.id)


@journey(eligible=has_filed_dossier, steps=("login", "document", "reconcile"), watches={"reconcile": "seam"})
def upload(run: Run) -> None:
    """Add a supporting document to a filed dossier; it must reach the prefecture."""
    ctx = run.ctx
    dossier_id = filed_dossier(ctx.truth)
    if dossier_id is None:
        raise NotApplicable()
    sign_in(run)

    def still_open() -> None:
        if ctx.client.dossier(dossier_id).state not in ACCEPTS_DOCUMENTS:
            raise NotApplicable()  # an agent decided meanwhile

    upload_one(run, dossier_id, "complement", "document", precheck=still_open)
    at_prefecture(run, dossier_id)


@journey(
    eligible=may_start_procedure,
    steps=("login", "choose_procedure", "create", "upload", "submit", "reconcile"),
    watches={"reconcile": "seam"},
)
def address_change(run: Run) -> None:
    """Declare a new address with a proof; the prefecture must receive it."""
    ctx = run.ctx
    sign_in(run)
    choose(run, "address_change")
    number = ctx.rng.randint(1, 180)
    street = ctx.rng.choice(("rue de la République", "avenue Jean-Jaurès", "rue Victor-Hugo", "boulevard Pasteur"))
    details = {"address": f"{number} {street}", "postcode": ctx.applicant.postcode, "city": ctx.applicant.city}
    dossier = create(run, "address_change", details)
    upload_documents(run, dossier.id, ("proof_of_address",))
    submit(run, dossier.id)
    at_prefecture(run, dossier.id)
