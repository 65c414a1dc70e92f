"""Back office tables (the prefecture side). Only the back office writes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from reference_platform.storage.common import (
    InboxColumns,
    OutboxColumns,
    ThrottleColumns,
    UTCDateTime,
    new_id,
    utcnow,
)


class BackBase(DeclarativeBase):
    pass


class Agent(BackBase):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    login: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    prefecture: Mapped[str] = mapped_column(String(3), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentSession(BackBase):
    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # for the idle timeout


class ApplicantRecord(BackBase):
    """The prefecture's record of an applicant."""

    __tablename__ = "applicants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    foreign_number: Mapped[str] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    prefecture: Mapped[str] = mapped_column(String(3), index=True)
    address: Mapped[str] = mapped_column(String(250))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(120))


class CardRecord(BackBase):
    __tablename__ = "cards"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"), index=True)
    dossier_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    motif: Mapped[str] = mapped_column(String(60))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20))
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DossierRecord(BackBase):
    __tablename__ = "dossiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"), index=True)
    prefecture: Mapped[str] = mapped_column(String(3), index=True)
    procedure: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(30), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    receipt_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DocumentRecord(BackBase):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentRequestRecord(BackBase):
    __tablename__ = "agent_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginThrottle(ThrottleColumns, BackBase):
    __tablename__ = "login_throttle"


class Outbox(OutboxColumns, BackBase):
    __tablename__ = "outbox"


class Inbox(InboxColumns, BackBase):
    __tablename__ = "inbox"
