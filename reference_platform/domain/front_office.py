"""The applicant's front office: procedures, dossiers, documents, agent requests (accounts are in
``accounts``)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import filetype
from filetype.types import archive, image
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from contracts.faults import (
    ProcedureNotSelectable,
    UploadCheck,
    UploadUnchecked,
)
from reference_platform.context import PlatformContext
from reference_platform.domain.accounts import queue_email
from reference_platform.domain.documents import Room, check_accepts, check_kind, check_room, room, size_label
from reference_platform.domain.outbox import enqueue
from reference_platform.domain.procedures import (
    DOCUMENT_KINDS,
    IN_PROGRESS,
    LABELS,
    REQUIRED_DOCUMENTS,
    DossierState,
    Procedure,
    check_renewal_window,
    check_transition,
    request_in_progress,
)
from reference_platform.errors import (
    DomainError,
    InvalidInput,
    NotFound,
)
from reference_platform.storage.common import get_row, insert_row, read_row, utcnow
from reference_platform.storage.db import locking
from reference_platform.storage.direct import Direct, Snapshots
from reference_platform.storage.front import (
    AgentRequest,
    Applicant,
    Card,
    Document,
    Dossier,
)

# The queries on every request's path are built once and run on the driver's cursor
# (``storage.direct``): the rows they give are snapshots, changed only by statements.
CURRENT_CARD = Snapshots(
    Card,
    select(*Card.__table__.c)
    .where(Card.applicant_id == bindparam("applicant"))
    .order_by(Card.valid_until.desc())
    .limit(1),
)
OPEN_DOSSIER = Snapshots(
    Dossier,
    select(*Dossier.__table__.c)
    .where(Dossier.applicant_id == bindparam("applicant"), Dossier.state.in_([s.value for s in IN_PROGRESS]))
    .limit(1),
)
DOCUMENTS = Snapshots(
    Document,
    select(*Document.__table__.c).where(Document.dossier_id == bindparam("dossier")).order_by(Document.acknowledged_at),
)
UPDATE_DOSSIER = Direct(update(Dossier.__table__).where(Dossier.__table__.c.id == bindparam("dossier")))  # type: ignore[arg-type]

ACCEPTED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# The accepted types' matchers tried first (an animated PNG also reads as a PNG, so it comes
# before): the same answer as ``filetype.guess``'s eighty matchers, at a fifth of the cost.
LIKELY_TYPES = [image.Jpeg(), image.Apng(), image.Png(), archive.Pdf()]


# --- procedures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcedureOffer:
    id: str
    label: str
    available: bool
    reason: str | None


def current_card(db: Session, applicant: Applicant) -> Card | None:
    return CURRENT_CARD.first(db, {"applicant": applicant.id})


def open_dossier(db: Session, applicant: Applicant) -> Dossier | None:
    return OPEN_DOSSIER.first(db, {"applicant": applicant.id})


@dataclass(frozen=True)
class Situation:
    """What decides which procedures an applicant may start: read once, judged per procedure."""

    card: Card | None
    busy: bool


def situation(db: Session, applicant: Applicant) -> Situation:
    return Situation(card=current_card(db, applicant), busy=open_dossier(db, applicant) is not None)


def _eligibility(
    ctx: PlatformContext, db: Session, applicant: Applicant, procedure: Procedure, known: Situation | None = None
) -> None:
    """Raise the refusal an applicant would read, or return when the procedure may start."""
    known = known or situation(db, applicant)
    card = known.card
    if procedure in (Procedure.RENEWAL, Procedure.DUPLICATE) and card is None:
        raise DomainError("no_card", "Aucun titre de séjour n'est associé à votre compte.")
    if procedure is Procedure.RENEWAL:
        assert card is not None
        if card.state != "handed_over":
            raise DomainError(
                "card_not_handed_over",
                "Votre titre de séjour précédent n'a pas été remis : le renouvellement ne peut pas être demandé.",
            )
        check_renewal_window(card.valid_until, ctx.clock.today())
    if known.busy:
        raise request_in_progress()


def _not_selectable(ctx: PlatformContext, applicant: Applicant, procedure: Procedure, route: str) -> bool:
    spec = (
        ctx.faults.fire("procedure_not_selectable", route=route, applicant=applicant.id, obj=procedure.value)
        if _targets(ctx, procedure)
        else None
    )
    return spec is not None


def _targets(ctx: PlatformContext, procedure: Procedure) -> bool:
    """Whether an active ``procedure_not_selectable`` names this procedure."""
    return any(
        isinstance(spec.params, ProcedureNotSelectable) and spec.params.procedure == procedure.value
        for spec in ctx.faults.specs("procedure_not_selectable")
    )


def list_procedures(ctx: PlatformContext, db: Session, applicant: Applicant, route: str) -> list[ProcedureOffer]:
    offers = []
    known = situation(db, applicant)
    for procedure in Procedure:
        if _not_selectable(ctx, applicant, procedure, route):
            continue  # the defect: the procedure is simply not in the list
        try:
            _eligibility(ctx, db, applicant, procedure, known)
        except DomainError as refusal:
            offers.append(ProcedureOffer(procedure.value, LABELS[procedure], False, refusal.message))
        else:
            offers.append(ProcedureOffer(procedure.value, LABELS[procedure], True, None))
    return offers


def create_dossier(
    ctx: PlatformContext,
    db: Session,
    applicant: Applicant,
    procedure: Procedure,
    details: dict[str, Any],
    route: str,
) -> Dossier:
    serialize(db, applicant)
    if _not_selectable(ctx, applicant, procedure, route):
        raise DomainError("procedure_unavailable", "Cette démarche n'est pas disponible.")
    _eligibility(ctx, db, applicant, procedure)
    if procedure is Procedure.ADDRESS_CHANGE:
        details = _address_details(details)
    elif details:
        raise InvalidInput("details", f"La démarche « {LABELS[procedure]} » ne prend pas de détails.")
    if ctx.faults.fire("phantom_pending_request", route=route, applicant=applicant.id, obj=procedure.value):
        raise request_in_progress()
    dossier = Dossier(
        applicant_id=applicant.id, procedure=procedure.value, state=DossierState.DRAFT.value, details=details
    )
    insert_row(db, dossier)
    return dossier


def _address_details(details: dict[str, Any]) -> dict[str, Any]:
    address = str(details.get("address", "")).strip()
    postcode = str(details.get("postcode", "")).strip()
    city = str(details.get("city", "")).strip()
    if not address or len(address) > 250:
        raise InvalidInput("details.address", "details.address : adresse attendue (250 caractères au plus).")
    if not re.fullmatch(r"\d{5}", postcode):
        raise InvalidInput("details.postcode", "details.postcode : code postal à 5 chiffres attendu.")
    if not city or len(city) > 120:
        raise InvalidInput("details.city", "details.city : commune attendue (120 caractères au plus).")
    return {"address": address, "postcode": postcode, "city": city}


def serialize(db: Session, applicant: Applicant) -> None:
    """Lock the applicant's row so that "one procedure at a time" holds under concurrency (on
    PostgreSQL; SQLite's writers already run one at a time)."""
    if locking(db):
        db.get(Applicant, applicant.id, with_for_update=True, populate_existing=True)


def get_dossier(db: Session, applicant: Applicant, dossier_id: str) -> Dossier:
    """The applicant's dossier, as a snapshot (change it with ``UPDATE_DOSSIER``)."""
    dossier = read_row(db, Dossier, dossier_id, lock=locking(db))
    if dossier is None or dossier.applicant_id != applicant.id:
        # Another applicant's dossier is indistinguishable from a missing one.
        raise NotFound("dossier_not_found", "Dossier introuvable.")
    return dossier


def read_dossier(ctx: PlatformContext, db: Session, applicant: Applicant, dossier_id: str, route: str) -> Dossier:
    """A dossier the applicant reads (never writes): theirs; under ``idor_leak``, another's too."""
    try:
        return get_dossier(db, applicant, dossier_id)
    except NotFound:
        # Another applicant's dossier is the eligible event: the ownership check is skipped.
        other = read_row(db, Dossier, dossier_id)
        if other is not None and ctx.faults.fire("idor_leak", route=route, applicant=applicant.id, obj=other.id):
            return other
        raise


def list_dossiers(db: Session, applicant: Applicant) -> list[Dossier]:
    return list(db.scalars(select(Dossier).where(Dossier.applicant_id == applicant.id).order_by(Dossier.created_at)))


def documents_of(db: Session, dossier: Dossier) -> list[Document]:
    return DOCUMENTS.all(db, {"dossier": dossier.id})


def check_upload(
    ctx: PlatformContext, content: bytes, *, applicant: str | None = None, dossier: str | None = None, route: str = ""
) -> str:
    """Return the content type, judged by content, or refuse the file (unless ``upload_unchecked``
    skips the check that refuses it: the ledger names the uploader and the dossier)."""
    if not content:
        raise InvalidInput("file", "file : le fichier est vide.")

    def unchecked(check: UploadCheck) -> bool:
        if not any(
            isinstance(spec.params, UploadUnchecked) and check in spec.params.checks
            for spec in ctx.faults.specs("upload_unchecked")
        ):
            return False
        return ctx.faults.fire("upload_unchecked", route=route, applicant=applicant, obj=dossier) is not None

    if len(content) > ctx.settings.upload_max_bytes and not unchecked("size"):
        raise DomainError(
            "file_too_large",
            f"file : le fichier dépasse la taille maximale ({size_label(ctx.settings.upload_max_bytes)}).",
            status=413,
        )
    kind = filetype.match(content, LIKELY_TYPES) or filetype.guess(content)
    mime = kind.mime if kind is not None else None
    if mime not in ACCEPTED_TYPES:
        if not unchecked("type"):
            raise DomainError(
                "unsupported_type",
                "file : format non accepté ; PDF, JPEG ou PNG attendu.",
                status=415,
            )
        return (mime or "application/octet-stream")[:40]  # the column's width
    return str(mime)


@dataclass(frozen=True)
class StoredFile:
    """An upload checked and written durably (fsynced), not yet acknowledged."""

    content_type: str
    sha256: str
    size: int


def store_upload(
    ctx: PlatformContext, content: bytes, *, applicant: str | None = None, dossier: str | None = None, route: str = ""
) -> StoredFile:
    content_type = check_upload(ctx, content, applicant=applicant, dossier=dossier, route=route)
    return StoredFile(content_type, ctx.blobs.put(content), len(content))


def room_for_upload(ctx: PlatformContext, db: Session, applicant: Applicant, dossier_id: str) -> Room:
    """The dossier's room for one more file: not the caller's, closed or full is refused before
    the file is read (no orphan blob)."""
    found = get_dossier(db, applicant, dossier_id)
    check_accepts(found)
    space = room(db, applicant, found)
    check_room(ctx, space)
    return space


def acknowledge_upload(
    ctx: PlatformContext,
    applicant: Applicant,
    dossier_id: str,
    kind: str,
    filename: str,
    content: bytes,
    route: str,
) -> Document:
    """Store a checked file durably, then acknowledge it in one write transaction."""
    stored = store_upload(ctx, content, applicant=applicant.id, dossier=dossier_id, route=route)
    with ctx.stores.front.write() as db:
        found = get_dossier(db, applicant, dossier_id)
        return add_document(ctx, db, applicant, found, kind=kind, filename=filename, content=stored)


def add_document(
    ctx: PlatformContext,
    db: Session,
    applicant: Applicant,
    dossier: Dossier,
    *,
    kind: str,
    filename: str,
    content: bytes | StoredFile,
) -> Document:
    """Acknowledge a durably stored file; forward it if the dossier is already filed.

    Callers should store the file first (``store_upload``), outside the write transaction, so
    that the fsync does not hold other writers back; bytes are stored here otherwise.
    """
    check_accepts(dossier)
    check_kind(kind)
    if not isinstance(content, StoredFile):  # a file stored by the caller had its room checked before
        check_room(ctx, room(db, applicant, dossier), size=len(content))
    stored = content if isinstance(content, StoredFile) else store_upload(ctx, content)
    display = re.sub(r"[\x00-\x1f/\\]", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:255] or "piece"
    document = Document(
        dossier_id=dossier.id,
        applicant_id=applicant.id,
        kind=kind,
        filename=display,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
    )
    insert_row(db, document)
    if dossier.state != DossierState.DRAFT:
        enqueue(
            db,
            ctx.faults,
            side="front",
            kind="document.added",
            payload={
                "id": document.id,
                "dossier_id": dossier.id,
                "document": document_payload(document),
            },
            applicant=applicant.id,
        )
    return document


def document_payload(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "kind": document.kind,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
    }


def submit_dossier(
    ctx: PlatformContext, db: Session, applicant: Applicant, dossier: Dossier, route: str
) -> list[Document]:
    """File a complete draft (forwarded to the prefecture, receipt e-mailed); returns its documents."""
    serialize(db, applicant)
    check_transition(dossier.state, DossierState.SUBMITTED)
    procedure = Procedure(dossier.procedure)
    documents = documents_of(db, dossier)
    missing = [k for k in REQUIRED_DOCUMENTS[procedure] if k not in {d.kind for d in documents}]
    if missing:
        raise DomainError(
            "missing_documents",
            "Pièces manquantes : " + ", ".join(DOCUMENT_KINDS[k] for k in missing) + ".",
        )
    other = open_dossier(db, applicant)
    if other is not None and other.id != dossier.id:
        raise request_in_progress()
    now = utcnow()
    filed = {
        "state": DossierState.SUBMITTED.value,
        "submitted_at": now,
        "updated_at": now,
        "receipt_number": f"ANEF-{applicant.prefecture}-{now:%Y%m%d}-{secrets.token_hex(4).upper()}",
    }
    change(db, dossier, filed)
    enqueue(
        db,
        ctx.faults,
        side="front",
        kind="dossier.submitted",
        payload={
            "id": dossier.id,
            "procedure": dossier.procedure,
            "details": dossier.details,
            "receipt_number": dossier.receipt_number,
            "documents": [document_payload(d) for d in documents],
        },
        applicant=applicant.id,
    )
    queue_email(
        ctx,
        db,
        to=applicant.email,
        applicant=applicant.id,
        route=route,
        subject="ANEF : votre demande a été déposée",
        body=(
            f"Bonjour {applicant.given_name} {applicant.family_name},\n\n"
            f"Votre demande ({LABELS[procedure]}) a été déposée. Numéro : {dossier.receipt_number}.\n"
            "Votre attestation de dépôt est disponible dans votre espace. Elle ne vaut pas "
            "preuve de la régularité du séjour.\n"
        ),
    )
    return documents


def cancel_draft(db: Session, dossier: Dossier) -> None:
    check_transition(dossier.state, DossierState.CLOSED)
    change(db, dossier, {"state": DossierState.CLOSED.value, "updated_at": utcnow()})


def change(db: Session, dossier: Dossier, values: dict[str, Any]) -> None:
    """Write some of a dossier's columns with one UPDATE; the snapshot reads as written."""
    UPDATE_DOSSIER.run(db, {**values, "dossier": dossier.id})
    for name, value in values.items():
        set_committed_value(dossier, name, value)


def require_submitted(dossier: Dossier) -> None:
    if dossier.receipt_number is None:
        raise DomainError("not_submitted", "Ce dossier n'a pas encore été déposé : pas d'attestation de dépôt.")


def list_agent_requests(db: Session, applicant: Applicant) -> list[AgentRequest]:
    return list(
        db.scalars(
            select(AgentRequest).where(AgentRequest.applicant_id == applicant.id).order_by(AgentRequest.requested_at)
        )
    )


def answer_agent_request(
    ctx: PlatformContext, db: Session, applicant: Applicant, request_id: str, answer: str
) -> AgentRequest:
    request = get_row(db, AgentRequest, request_id, lock=locking(db))
    if request is None or request.applicant_id != applicant.id:
        raise NotFound("request_not_found", "Demande introuvable.")
    if request.answered_at is not None:
        raise DomainError("already_answered", "Vous avez déjà répondu à cette demande.")
    if not answer.strip():
        raise InvalidInput("answer", "answer : réponse attendue.")
    request.answer = answer.strip()
    request.answered_at = utcnow()
    dossier = get_row(db, Dossier, request.dossier_id)
    if dossier is not None and dossier.state == DossierState.COMPLEMENT_REQUESTED:
        dossier.state = DossierState.UNDER_REVIEW.value
        dossier.updated_at = request.answered_at
    enqueue(
        db,
        ctx.faults,
        side="front",
        kind="agent_request.answered",
        payload={
            "id": request.id,
            "dossier_id": request.dossier_id,
            "answer": request.answer,
            "answered_at": request.answered_at.isoformat(),
        },
        applicant=applicant.id,
    )
    return request
