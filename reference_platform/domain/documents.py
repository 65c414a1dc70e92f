"""What a dossier accepts as a new document, decided before the file is stored.

A refusal after the store would leave a blob nobody references; the per-dossier and per-applicant
quotas bound the disk one applicant can fill.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.domain.procedures import DOCUMENT_KINDS, DossierState
from reference_platform.errors import DomainError, InvalidInput
from reference_platform.storage.direct import Direct
from reference_platform.storage.front import Applicant, Document, Dossier


def size_label(size: int) -> str:
    """A size as the pages write it: "10 Mo", "500 Ko"."""
    return f"{size // 1_000_000} Mo" if size >= 1_000_000 else f"{max(1, size // 1_000)} Ko"


UPLOADABLE = frozenset(
    {DossierState.DRAFT, DossierState.SUBMITTED, DossierState.UNDER_REVIEW, DossierState.COMPLEMENT_REQUESTED}
)


def check_accepts(dossier: Dossier) -> None:
    """A dossier takes documents until it is decided or closed."""
    if DossierState(dossier.state) not in UPLOADABLE:
        raise DomainError("dossier_closed", "Ce dossier n'accepte plus de pièces.")


@dataclass(frozen=True)
class Room:
    """How full the dossier and the applicant's storage are, read before the upload's body."""

    documents: int  # already in the dossier
    stored: int  # bytes the applicant's documents take


# Built once, on every upload's path (see front_office for why).
ROOM = Direct(
    select(
        func.count(Document.id).filter(Document.dossier_id == bindparam("dossier")),
        func.coalesce(func.sum(Document.size), 0),
    ).where(Document.applicant_id == bindparam("applicant"))
)


def room(db: Session, applicant: Applicant, dossier: Dossier) -> Room:
    """One query over the applicant's documents: those of this dossier, and the bytes of all."""
    found = ROOM.first(db, {"dossier": dossier.id, "applicant": applicant.id})
    assert found is not None  # an aggregate without GROUP BY gives one row
    count, stored = found
    return Room(int(count), int(stored))


def check_kind(kind: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput("kind", f"kind : type de pièce inconnu ; attendu l'un de {', '.join(DOCUMENT_KINDS)}.")


def check_room(ctx: PlatformContext, space: Room, *, size: int = 0) -> None:
    """The per-dossier and per-applicant quotas, which bound the disk one applicant can fill.
    Checked before the file is stored (two uploads at the same instant may pass by one file)."""
    settings = ctx.settings
    if space.documents >= settings.dossier_max_documents:
        raise DomainError(
            "too_many_documents", f"Ce dossier compte déjà {space.documents} pièces, le maximum.", status=409
        )
    if space.stored + size > settings.applicant_storage_max_bytes:
        raise DomainError(
            "storage_quota",
            f"Vos pièces dépassent l'espace autorisé ({size_label(settings.applicant_storage_max_bytes)}).",
            status=413,
        )
