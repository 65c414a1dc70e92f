"""Writing a message for the other side of the seam, in the same transaction as the change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from contracts.faults import SyncDelay
from reference_platform.faults.injector import FaultInjector
from reference_platform.storage import back, front
from reference_platform.storage.common import utcnow
from reference_platform.storage.direct import Direct

INSERTS = {
    "front": Direct(insert(front.Outbox.__table__)),  # type: ignore[arg-type]
    "back": Direct(insert(back.Outbox.__table__)),  # type: ignore[arg-type]
}


def enqueue(
    session: Session,
    faults: FaultInjector,
    *,
    side: str,
    kind: str,
    payload: dict[str, Any],
    applicant: str | None,
) -> None:
    """Add a message to this side's outbox; ``sync_delay`` may hold it back."""
    now = utcnow()
    not_before = None
    delayed = faults.fire("sync_delay", route=f"sync:{kind}", applicant=applicant, obj=payload.get("id"))
    if delayed is not None:
        assert isinstance(delayed.params, SyncDelay)
        not_before = now + timedelta(seconds=delayed.params.delay_seconds)
    # Every message names its applicant: the receiving side's faults record it in the ledger.
    body = {**payload, "applicant_id": applicant}
    # One INSERT, no unit of work: messages are numbered (``seq``) in the order they are written.
    INSERTS[side].run(
        session,
        {"kind": kind, "ordering_key": applicant, "payload": body, "created_at": now, "not_before": not_before},
    )
