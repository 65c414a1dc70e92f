"""One module per audience: applicant, agent, admin, pages, operations."""

from __future__ import annotations

from typing import Any

from reference_platform.api.schemas import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 413, 415, 422, 429, 503, 504)
}
