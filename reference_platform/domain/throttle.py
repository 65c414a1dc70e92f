"""Login throttling, the same for applicants and agents: after ``login_max_failures`` failed
attempts on one account, every attempt is refused until ``login_lockout_seconds`` have passed
since the first failure, even with the right password."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.errors import Throttled, Unauthorized
from reference_platform.settings import Settings
from reference_platform.storage.common import ThrottleColumns, utcnow
from reference_platform.storage.db import Store


def _current(record: ThrottleColumns | None, settings: Settings) -> ThrottleColumns | None:
    window = timedelta(seconds=settings.login_lockout_seconds)
    return record if record is not None and utcnow() - record.window_start <= window else None


def check(db: Session, table: type[ThrottleColumns], key: str, settings: Settings) -> None:
    """Refuse a locked account (reads only)."""
    record = _current(db.get(table, key), settings)
    if record is not None and record.failures >= settings.login_max_failures:
        raise Throttled("too_many_attempts", "Trop de tentatives de connexion. Réessayez dans quelques minutes.")


def failed(db: Session, table: type[ThrottleColumns], key: str, settings: Settings) -> None:
    """Count a failure (in a write transaction); an expired window starts again."""
    record = db.get(table, key)
    if record is None:
        db.add(table(key=key, failures=1, window_start=utcnow()))  # type: ignore[call-arg]
    elif _current(record, settings) is None:
        record.failures, record.window_start = 1, utcnow()
    else:
        record.failures += 1


def verify(
    ctx: PlatformContext, store: Store, table: type[ThrottleColumns], key: str, password_hash: str | None, password: str
) -> None:
    """Check a password outside any write transaction (it is the slow part); a failure is
    counted and committed before the refusal is raised. ``password_hash`` None: no account,
    answered in the same time as a wrong password."""
    if password_hash is None:
        ctx.passwords.dummy_verify()
    if password_hash is None or not ctx.passwords.verify(password_hash, password):
        with store.write() as db:
            failed(db, table, key, ctx.settings)
        raise Unauthorized("bad_credentials", "Identifiant ou mot de passe incorrect.")


def clear(db: Session, table: type[ThrottleColumns], key: str) -> None:
    db.execute(delete(table).where(table.key == key))
