"""Errors of the reference platform: domain refusals and start-up configuration problems."""

from __future__ import annotations

from core.errors import ConfigError


class PlatformError(Exception):
    """Root of the platform's own errors."""


# A start-up setting or file is invalid: the same one-line error as the harness's (``core``).
__all__ = ["ConfigError"]


class DomainError(PlatformError):
    """A business refusal shown to a user: a stable code, a French message, an HTTP status.

    The code is what clients branch on; the message is what a person reads.
    """

    status = 409
    field: str | None = None

    def __init__(self, code: str, message: str, *, status: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        if field is not None:
            self.field = field


class NotFound(DomainError):
    status = 404


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class InvalidInput(DomainError):
    """Input to correct: ``field`` names it (``details.postcode``) and is the code unless one is given."""

    status = 422

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(code or field, message, field=field)


class Throttled(DomainError):
    status = 429
