"""Column helpers and the outbox/inbox pair that each side of the seam owns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Integer, Select, String, Table, TypeDecorator, bindparam, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, mapped_column

from reference_platform.storage.direct import Direct, Snapshots

Row = TypeVar("Row")


def new_id() -> str:
    """A fresh identifier, unique across both sides of the seam."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class OutboxColumns:
    """A durable message waiting to cross the seam; delivered at least once, in order."""

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    # Messages with the same key (the applicant) are applied in order: a held-back message
    # holds back the later ones of the same applicant, and only those.
    ordering_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class ThrottleColumns:
    """Failed logins of one account in the current window, for throttling."""

    key: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxColumns:
    """The ids of messages already applied on this side: what makes delivery idempotent."""

    message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@cache
def _insert(table: Table) -> Direct:
    return Direct(insert(table))


def insert_row(session: Session, row: Any) -> None:
    """Write one new mapped object's row with a single INSERT, without the unit of work (whose
    flush costs several times the statement on a request's path). Python-side column defaults
    (ids, timestamps) are set on the object first, so it reads as it would after a flush; the
    object stays out of the session."""
    table: Table = row.__table__
    values: dict[str, Any] = {}
    for column in table.columns:
        value = getattr(row, column.key)
        default = column.default
        if value is None and default is not None:
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
            setattr(row, column.key, value)
        if value is not None:  # a column left out is NULL, or numbered by the database
            values[column.key] = value
    _insert(table).run(session, values)


@cache
def _by_key(model: type[Any], lock: bool) -> Select[Any]:
    (key,) = model.__table__.primary_key.columns
    statement = select(model).where(key == bindparam("key"))
    return statement.with_for_update() if lock else statement


def get_row(session: Session, model: type[Row], key: str, *, lock: bool = False) -> Row | None:
    """``session.get(model, key)`` through a statement built once per model: ``Session.get`` builds
    its SELECT and that statement's cache key on every call, a third of a lookup's cost. ``lock``:
    SELECT … FOR UPDATE (see ``db.locking``). The row is tracked: a change to it is written."""
    statement = _by_key(model, lock)  # type: ignore[arg-type]  # a mapped class is hashable
    found: Row | None = session.scalar(statement, {"key": key})
    return found


@cache
def _snapshot_by_key(model: type[Any], lock: bool) -> Snapshots[Any]:
    (key,) = model.__table__.primary_key.columns
    statement = select(*model.__table__.columns).where(key == bindparam("key"))
    return Snapshots(model, statement.with_for_update() if lock else statement)


def read_row(session: Session, model: type[Row], key: str, *, lock: bool = False) -> Row | None:
    """A row by its key as a snapshot (``direct.Snapshots``): for reading, at a fifth of
    ``get_row``'s cost; a change to it is not written."""
    found: Row | None = _snapshot_by_key(model, lock).first(session, {"key": key})  # type: ignore[arg-type]
    return found
