"""The fault catalogue: every fault id the platform can inject, with the model of its parameters.

Each entry is registered with ``@fault(id)`` on the pydantic model of its parameters, so that
a profile or an admin request is validated against the right fields. Ids are a contract shared
with the harness (DESIGN.md, "The fault catalogue").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.registry import Registry

ProcedureName = Literal["renewal", "address_change", "duplicate"]
PROCEDURES: tuple[ProcedureName, ...] = ("renewal", "address_change", "duplicate")


class FaultParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class FaultKind:
    id: str
    summary: str
    documented: bool
    params: type[FaultParams]
    security: bool = False


CATALOGUE: Registry[FaultKind] = Registry("fault id")


def fault(
    fault_id: str, *, summary: str, documented: bool = False, security: bool = False
) -> Callable[[type[FaultParams]], type[FaultParams]]:
    """Register a fault id with the model of its parameters."""

    def register(params: type[FaultParams]) -> type[FaultParams]:
        CATALOGUE.add(fault_id, FaultKind(fault_id, summary, documented, params, security))
        return params

    return register


# --- the seven defects documented by the Défenseure des droits (December 2024 report;
# Assemblée nationale written question no. 4677) -----------------------------------------


@fault(
    "title_not_marked_delivered",
    documented=True,
    summary="the back office records the card as handed over; the front office never learns it",
)
class TitleNotMarkedDelivered(FaultParams):
    pass


@fault(
    "phantom_pending_request",
    documented=True,
    summary="a new procedure is refused: a request is already under review, though none is",
)
class PhantomPendingRequest(FaultParams):
    pass


@fault(
    "reset_email_lost",
    documented=True,
    summary="the reset link is announced as sent but never arrives (or arrives too late)",
)
class ResetEmailLost(FaultParams):
    late_seconds: float | None = Field(
        None, gt=0, description="deliver this late instead of never (past the link's expiry)"
    )


@fault(
    "agent_request_hidden",
    documented=True,
    summary="the agent's request for complements never appears on the applicant's dashboard",
)
class AgentRequestHidden(FaultParams):
    pass


@fault(
    "document_lost",
    documented=True,
    summary="the upload is acknowledged; the prefecture never receives the document",
)
class DocumentLost(FaultParams):
    pass


@fault(
    "procedure_not_forwarded",
    documented=True,
    summary="the procedure shows on the applicant's dashboard; the prefecture never gets it",
)
class ProcedureNotForwarded(FaultParams):
    procedures: list[ProcedureName] = Field(default_factory=lambda: list(PROCEDURES), min_length=1)


@fault(
    "procedure_not_selectable",
    documented=True,
    summary="the procedure is missing from the list the applicant can choose from",
)
class ProcedureNotSelectable(FaultParams):
    procedure: ProcedureName = "renewal"


# --- security faults: each breaks one guarantee of the platform's security (docs/platform.md, "Security") --


@fault(
    "idor_leak",
    security=True,
    summary="an applicant can read another applicant's dossier and its documents",
)
class IdorLeak(FaultParams):
    pass


@fault(
    "reset_token_reusable",
    security=True,
    summary="a reset link already used sets the password again",
)
class ResetTokenReusable(FaultParams):
    pass


@fault(
    "user_enumeration",
    security=True,
    summary="the reset or login answer reveals whether an account exists, by its content or its timing",
)
class UserEnumeration(FaultParams):
    """One spec at a time: with two, the first in scope decides every answer."""

    how: Literal["content", "timing"] = Field(
        "content",
        description="content: an identifier with no account is told so; timing: an existing account is answered late",
    )
    delay_ms: float = Field(300.0, gt=0, le=10_000, description="timing: how much later")


UploadCheck = Literal["type", "size"]
UPLOAD_CHECKS: tuple[UploadCheck, ...] = ("type", "size")


@fault(
    "upload_unchecked",
    security=True,
    summary="a file of a disallowed type or size is accepted",
)
class UploadUnchecked(FaultParams):
    checks: list[UploadCheck] = Field(default_factory=lambda: list(UPLOAD_CHECKS), min_length=1)


# --- generic faults (names after Toxiproxy and xk6-disruptor) ------------------------------


@fault("latency", summary="responses are delayed")
class Latency(FaultParams):
    mean_ms: float = Field(200.0, ge=0, le=120_000)
    jitter_ms: float = Field(0.0, ge=0, le=120_000)


@fault("http_error", summary="responses fail with an HTTP error status")
class HttpError(FaultParams):
    status: int = Field(500, ge=400, le=599)


@fault("outage", summary="the service answers 503 on the routes in scope")
class Outage(FaultParams):
    pass


@fault("timeout", summary="the response hangs, then the gateway gives up (504)")
class Timeout(FaultParams):
    hang_seconds: float = Field(30.0, gt=0, le=600)


@fault("connection_reset", summary="the connection is cut in the middle of the response")
class ConnectionReset(FaultParams):
    pass


@fault("email_delay", summary="outgoing e-mail is held back before it is sent")
class EmailDelay(FaultParams):
    delay_seconds: float = Field(120.0, gt=0, le=86_400)


@fault("session_drop", summary="the applicant's session is lost; they must log in again")
class SessionDrop(FaultParams):
    pass


@fault("sync_delay", summary="messages across the seam are held back before delivery")
class SyncDelay(FaultParams):
    delay_seconds: float = Field(30.0, gt=0, le=86_400)


DOCUMENTED = tuple(kind.id for kind in CATALOGUE.values() if kind.documented)
SECURITY = tuple(kind.id for kind in CATALOGUE.values() if kind.security)
