"""The platform's own tables: the fault ledger and small named state (clock, active faults)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reference_platform.storage.common import UTCDateTime, utcnow


class PlatformBase(DeclarativeBase):
    pass


class LedgerEntry(PlatformBase):
    """One firing of a fault. Used only to score the harness, never to detect."""

    __tablename__ = "ledger"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    fault: Mapped[str] = mapped_column(String(40), index=True)
    applicant: Mapped[str | None] = mapped_column(String(32), nullable=True)
    object: Mapped[str | None] = mapped_column(String(64), nullable=True)
    route: Mapped[str] = mapped_column(String(200))


class StateItem(PlatformBase):
    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
