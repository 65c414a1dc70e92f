"""Request and response bodies of the JSON API (what the OpenAPI schema documents)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from reference_platform.domain.procedures import Procedure


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; SQLite can. Refuse it at the edge on both.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Free text from a user: any character but NUL."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Body):
    code: str
    message: str
    field: str | None = None


class ErrorBody(Body):
    error: ErrorDetail


class Credentials(Body):
    identifier: Text = Field(min_length=1, max_length=254, description="e-mail or foreign-national number")
    password: Text = Field(min_length=1, max_length=1024)


class AgentCredentials(Body):
    login: Text = Field(min_length=1, max_length=120)
    password: Text = Field(min_length=1, max_length=1024)


class LoginResult(Body):
    token: str
    applicant_id: str | None = None
    agent_id: str | None = None


class CsrfToken(Body):
    """For a browser calling the API on its session cookie: send it back as ``X-CSRF-Token``."""

    token: str


class ResetRequest(Body):
    email: EmailStr


class ResetConfirm(Body):
    token: Text = Field(min_length=1, max_length=200)
    password: Text = Field(min_length=1, max_length=1024)


class Message(Body):
    message: str


class CardOut(Body):
    id: str
    kind: str
    motif: str
    valid_from: date
    valid_until: date
    state: Literal["produced", "available", "handed_over"]


class ProfileOut(Body):
    id: str
    foreign_number: str
    email: str
    given_name: str
    family_name: str
    birth_date: date
    nationality: str
    address: str
    postcode: str
    city: str
    prefecture: str
    card: CardOut | None


class ProcedureOut(Body):
    id: Procedure
    label: str
    available: bool
    reason: str | None


class DossierCreate(Body):
    procedure: Procedure
    details: dict[Text, Text] = Field(default_factory=dict, description="address_change: address, postcode, city")


class DocumentOut(Body):
    id: str
    kind: str
    filename: str | None = None
    content_type: str
    size: int
    sha256: str
    acknowledged_at: datetime | None = None
    received_at: datetime | None = None


class AgentRequestOut(Body):
    id: str
    dossier_id: str
    message: str
    requested_at: datetime
    answer: str | None
    answered_at: datetime | None


class DossierOut(Body):
    id: str
    procedure: Procedure
    state: str
    state_label: str
    details: dict[str, Any]
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    receipt_number: str | None
    decision: str | None
    documents: list[DocumentOut] = Field(default_factory=list)
    missing_documents: list[str] = Field(default_factory=list)


class ReceiptOut(Body):
    title: Literal["Attestation de dépôt"] = "Attestation de dépôt"
    receipt_number: str
    dossier_id: str
    procedure: Procedure
    submitted_at: datetime
    applicant: str
    foreign_number: str
    notice: str


class AnswerIn(Body):
    answer: Text = Field(min_length=1, max_length=5000)


class AgentDossierOut(DossierOut):
    applicant_id: str
    foreign_number: str
    applicant_name: str
    received_at: datetime
    requests: list[AgentRequestOut] = Field(default_factory=list)
    card: CardOut | None = None


class ComplementRequestIn(Body):
    message: Text = Field(min_length=1, max_length=5000)


class DecisionIn(Body):
    decision: Literal["accepted", "refused"]


class AgentCardOut(CardOut):
    applicant_id: str
    dossier_id: str | None
