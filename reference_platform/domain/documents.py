"""What a dossier accepts as a new document, decided before the file is stored.

A refusal after the store would leave a blob nobody references; the per-dossier and per-applicant
quotas bound the disk one applicant can fill.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.domain.procedures import DOCUMENT_KINDS, DossierState
from reference_platform.errors import DomainError, InvalidInput
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


def check_new(
    ctx: PlatformContext, db: Session, applicant: Applicant, dossier: Dossier, *, kind: str, size: int
) -> None:
    """Everything that can refuse a document, checked before its file is stored: a refusal after
    the store would leave a blob nobody references. The per-dossier and per-applicant quotas bound
    the disk an applicant can fill."""
    if kind not in DOCUMENT_KINDS:
        raise InvalidInput("kind", f"kind : type de pièce inconnu ; attendu l'un de {', '.join(DOCUMENT_KINDS)}.")
    settings = ctx.settings
    count = db.scalar(select(func.count()).select_from(Document).where(Document.dossier_id == dossier.id)) or 0
    if count >= settings.dossier_max_documents:
        raise DomainError("too_many_documents", f"Ce dossier compte déjà {count} pièces, le maximum.", status=409)
    stored = db.scalar(select(func.sum(Document.size)).where(Document.applicant_id == applicant.id)) or 0
    if stored + size > settings.applicant_storage_max_bytes:
        raise DomainError(
            "storage_quota",
            f"Vos pièces dépassent l'espace autorisé ({size_label(settings.applicant_storage_max_bytes)}).",
            status=413,
        )
