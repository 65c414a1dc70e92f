"""Login throttling, the same for applicants and agents.

Every attempt is counted *before* its password is checked, by one atomic upsert per counter, so
parallel guesses cannot all pass a check made before any of them failed. Three counters, each
over a window of ``login_lockout_seconds`` from its first attempt:
- the account from this client (``login_max_failures``, 5): the lockout an attacker imposes
  falls on the attacker's own client, not on the account's owner signing in from elsewhere;
- the account from anywhere (``login_account_max_failures``): guessing spread over many clients;
- the client on any account (``login_client_max_failures``): one client trying many accounts.
A successful login takes its attempt back and clears the account-from-this-client counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.errors import Throttled, Unauthorized
from reference_platform.settings import Settings
from reference_platform.storage.common import ThrottleColumns, utcnow
from reference_platform.storage.db import Store

TOO_MANY = "Trop de tentatives de connexion. Réessayez dans quelques minutes."


def counters(account: str, client: str, settings: Settings) -> list[tuple[str, int]]:
    """The keys an attempt on ``account`` from ``client`` counts against, with their limits."""
    return [
        (f"{account}|client:{client}", settings.login_max_failures),
        (account, settings.login_account_max_failures),
        (f"client:{client}", settings.login_client_max_failures),
    ]


def reserve(store: Store, table: type[ThrottleColumns], keys: Sequence[tuple[str, int]], settings: Settings) -> None:
    """Count one attempt against every key, atomically; refuse (429) if any is past its limit."""
    with store.write() as db:
        allowed = count(db, table, keys, settings.login_lockout_seconds)
    if not allowed:
        raise Throttled("too_many_attempts", TOO_MANY)


def count(db: Session, table: type[ThrottleColumns], keys: Sequence[tuple[str, int]], window_seconds: int) -> bool:
    """Count one event against every key (in the caller's write transaction); False if any key is
    now past its limit within its window."""
    now = utcnow()
    stale = now - timedelta(seconds=window_seconds)
    counts = [(_count(db, table, key, now, stale), limit) for key, limit in keys]
    return all(seen <= limit for seen, limit in counts)


def _count(db: Session, table: type[ThrottleColumns], key: str, now: object, stale: object) -> int:
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    expired = table.window_start < stale
    statement = (
        insert(table)
        .values(key=key, failures=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[table.key],
            set_={
                "failures": case((expired, 1), else_=table.failures + 1),
                "window_start": case((expired, now), else_=table.window_start),
            },
        )
        .returning(table.failures)
    )
    return int(db.execute(statement).scalar_one())


def release(db: Session, table: type[ThrottleColumns], keys: Sequence[tuple[str, int]]) -> None:
    """A successful login (in its write transaction): its own attempt is taken back; the
    account-from-this-client counter is cleared."""
    own, *shared = (key for key, _ in keys)
    db.execute(delete(table).where(table.key == own))
    db.execute(update(table).where(table.key.in_(shared), table.failures > 0).values(failures=table.failures - 1))


def verify(ctx: PlatformContext, password_hash: str | None, password: str) -> None:
    """Check a password outside any write transaction (the attempt is already counted).
    ``password_hash`` None: no account, answered in the same time as a wrong password."""
    if password_hash is None:
        ctx.passwords.dummy_verify()
    if password_hash is None or not ctx.passwords.verify(password_hash, password):
        raise Unauthorized("bad_credentials", "Identifiant ou mot de passe incorrect.")


def clear(db: Session, table: type[ThrottleColumns], account: str) -> None:
    """Forget an account's counters (its password was just reset)."""
    db.execute(delete(table).where(or_(table.key == account, table.key.startswith(f"{account}|"))))
