"""Procedures, dossier states and the rules that govern them (CESEDA references inline)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from reference_platform.errors import DomainError


class Procedure(StrEnum):
    RENEWAL = "renewal"
    ADDRESS_CHANGE = "address_change"
    DUPLICATE = "duplicate"


LABELS = {
    Procedure.RENEWAL: "Renouvellement de titre de séjour",
    Procedure.ADDRESS_CHANGE: "Changement d'adresse",
    Procedure.DUPLICATE: "Demande de duplicata (perte, vol, détérioration)",
}


class DossierState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    COMPLEMENT_REQUESTED = "complement_requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CARD_PRODUCED = "card_produced"
    CARD_AVAILABLE = "card_available"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


STATE_LABELS = {
    DossierState.DRAFT: "Brouillon",
    DossierState.SUBMITTED: "Déposé",
    DossierState.UNDER_REVIEW: "En cours d'instruction",
    DossierState.COMPLEMENT_REQUESTED: "Compléments demandés",
    DossierState.ACCEPTED: "Décision favorable",
    DossierState.REFUSED: "Décision défavorable",
    DossierState.CARD_PRODUCED: "Titre en production",
    DossierState.CARD_AVAILABLE: "Titre disponible en préfecture",
    DossierState.HANDED_OVER: "Titre remis",
    DossierState.CLOSED: "Clôturé",
}

# The back office's transitions; the front office only mirrors them through the seam.
TRANSITIONS: dict[DossierState, frozenset[DossierState]] = {
    DossierState.DRAFT: frozenset({DossierState.SUBMITTED, DossierState.CLOSED}),
    DossierState.SUBMITTED: frozenset({DossierState.UNDER_REVIEW}),
    DossierState.UNDER_REVIEW: frozenset(
        {DossierState.COMPLEMENT_REQUESTED, DossierState.ACCEPTED, DossierState.REFUSED}
    ),
    DossierState.COMPLEMENT_REQUESTED: frozenset({DossierState.UNDER_REVIEW}),
    DossierState.ACCEPTED: frozenset({DossierState.CARD_PRODUCED, DossierState.CLOSED}),
    DossierState.CARD_PRODUCED: frozenset({DossierState.CARD_AVAILABLE}),
    DossierState.CARD_AVAILABLE: frozenset({DossierState.HANDED_OVER}),
    DossierState.REFUSED: frozenset(),
    DossierState.HANDED_OVER: frozenset(),
    DossierState.CLOSED: frozenset(),
}

# "Only one procedure at a time" (Défenseure des droits): these states block a new one.
IN_PROGRESS = frozenset(
    {
        DossierState.SUBMITTED,
        DossierState.UNDER_REVIEW,
        DossierState.COMPLEMENT_REQUESTED,
        DossierState.ACCEPTED,
        DossierState.CARD_PRODUCED,
        DossierState.CARD_AVAILABLE,
    }
)

DOCUMENT_KINDS = {
    "passport": "Passeport",
    "residence_card": "Titre de séjour en cours (recto verso)",
    "proof_of_address": "Justificatif de domicile de moins de 6 mois",
    "proof_of_resources": "Justificatif de ressources",
    "photo": "Photographie d'identité",
    "loss_declaration": "Déclaration de perte ou de vol",
    "complement": "Pièce complémentaire",
}

REQUIRED_DOCUMENTS: dict[Procedure, tuple[str, ...]] = {
    Procedure.RENEWAL: ("passport", "residence_card", "proof_of_address", "proof_of_resources"),
    Procedure.ADDRESS_CHANGE: ("proof_of_address",),
    Procedure.DUPLICATE: ("passport", "loss_declaration"),
}

# CESEDA R.431-5: a renewal is filed between the 120th and the 60th day before expiry.
RENEWAL_OPENS_DAYS = 120
RENEWAL_CLOSES_DAYS = 60


def renewal_window(valid_until: date) -> tuple[date, date]:
    return (
        valid_until - timedelta(days=RENEWAL_OPENS_DAYS),
        valid_until - timedelta(days=RENEWAL_CLOSES_DAYS),
    )


def check_renewal_window(valid_until: date, today: date) -> None:
    opens, closes = renewal_window(valid_until)
    if not opens <= today <= closes:
        raise DomainError(
            "outside_renewal_window",
            "Le renouvellement se demande entre le 120e et le 60e jour avant l'expiration de "
            f"votre titre (article R.431-5 du CESEDA) : du {opens:%d/%m/%Y} au "
            f"{closes:%d/%m/%Y}.",
        )


def check_transition(current: str, target: DossierState) -> None:
    """Refuse an invalid state change with a clear message (a 409, never a 500)."""
    state = DossierState(current)
    if target not in TRANSITIONS[state]:
        raise DomainError(
            "invalid_transition",
            f"Le dossier est « {STATE_LABELS[state]} » : il ne peut pas passer à « {STATE_LABELS[target]} ».",
        )


def request_in_progress() -> DomainError:
    """The refusal of the "one procedure at a time" rule, worded as ANEF words it."""
    return DomainError("request_in_progress", "Une demande est déjà en cours d'instruction.")
