"""Login throttling, the same for applicants and agents: failed logins counted per window of
``login_lockout_seconds`` from the first, against three counters.

- **The account from this client** (``login_max_failures``, 5): the lockout an attacker imposes
  falls on the attacker's client, not on the account's owner signing in from elsewhere; a success
  clears it.
- **The account from anywhere** (``login_account_max_failures``): guessing spread over many clients.
- **The client on any account** (``login_client_max_failures``): one client trying many accounts.

Attempts on the same account from the same client take turns (``domain.turns``): read the counters,
check the password, write the failure, as one step, so parallel guesses cannot all pass a check made
before any of them failed (at most 5 are checked), and a success costs no extra write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.errors import Throttled, Unauthorized
from reference_platform.settings import Settings
from reference_platform.storage.common import ThrottleColumns, utcnow
from reference_platform.storage.db import Store
from reference_platform.storage.direct import Direct

TOO_MANY = "Trop de tentatives de connexion. Réessayez dans quelques minutes."
KEY_LENGTH = 254  # the column's length


def stored_key(key: str) -> str:
    """The key as the table keeps it: a long one (an unknown identifier of 254 characters with its
    client) by its SHA-256, which PostgreSQL's bounded column accepts."""
    return key if len(key) <= KEY_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Keys:
    """The counters an attempt on an account from a client is judged by."""

    own: str  # the account from this client
    account: str
    client: str

    @classmethod
    def of(cls, account: str, client: str) -> Keys:
        return cls(f"{account}|client:{client}", account, f"client:{client}")


def check(db: Session, table: type[ThrottleColumns], keys: Keys, settings: Settings) -> bool:
    """Refuse (429) when any of the three counters is at its limit (reads only); returns whether
    the account has a counter for this client (current or stale), which a success must clear."""
    since = utcnow() - timedelta(seconds=settings.login_lockout_seconds)
    limits = {
        stored_key(keys.own): settings.login_max_failures,
        stored_key(keys.account): settings.login_account_max_failures,
        stored_key(keys.client): settings.login_client_max_failures,
    }
    own, account, client = limits
    rows = _counters(table).rows(db, {"own": own, "account": account, "client": client})
    if any(failures >= limits[key] and start >= since for key, failures, start in rows):
        raise Throttled("too_many_attempts", TOO_MANY)
    return any(key == stored_key(keys.own) for key, _, _ in rows)


_COUNTERS: dict[str, Direct] = {}


def _counters(table: type[ThrottleColumns]) -> Direct:
    """The counters of three keys (parameters ``own``, ``account``, ``client``), built once per
    table: on every login's path."""
    name = f"{table.__module__}.{table.__qualname__}"
    if name not in _COUNTERS:
        keys = table.key.in_([bindparam("own"), bindparam("account"), bindparam("client")])
        _COUNTERS[name] = Direct(select(table.key, table.failures, table.window_start).where(keys))
    return _COUNTERS[name]


def failed(store: Store, table: type[ThrottleColumns], keys: Keys, settings: Settings) -> None:
    """A wrong password, counted against the three counters."""
    with store.write() as db:
        count(db, table, [(keys.own, 0), (keys.account, 0), (keys.client, 0)], settings.login_lockout_seconds)


def succeeded(db: Session, table: type[ThrottleColumns], keys: Keys, counted: bool) -> None:
    """A right password (in the session's write transaction): the client's count on the account
    ends. ``counted``: whether there is one (``guarded_check``'s answer); the usual login, with
    no failure before it, writes nothing here."""
    if counted:
        db.execute(delete(table).where(table.key == stored_key(keys.own)))


def count(db: Session, table: type[ThrottleColumns], keys: Sequence[tuple[str, int]], window_seconds: int) -> bool:
    """Count one event against every key (in the caller's write transaction); False if any key is
    now past its limit within its window."""
    now = utcnow()
    stale = now - timedelta(seconds=window_seconds)
    counts = [(_count(db, table, key, now, stale), limit) for key, limit in keys]
    return all(seen <= limit for seen, limit in counts)


def _count(db: Session, table: type[ThrottleColumns], key: str, now: datetime, stale: datetime) -> int:
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    expired = table.window_start < stale
    statement = (
        insert(table)
        .values(key=stored_key(key), failures=1, window_start=now)
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


def guarded_check(
    ctx: PlatformContext,
    store: Store,
    table: type[ThrottleColumns],
    keys: Keys,
    password_hash: str | None,
    password: str,
    on_failure: Callable[[], None] = lambda: None,
) -> bool:
    """Take this account-and-client's turn, refuse past a limit, check the password and count a
    failure (``on_failure`` runs after the count, before the refusal is raised). On success,
    returns whether the account has a counter for this client (``succeeded`` clears it)."""
    with ctx.login_turns.of(keys.own):
        with store.read() as db:
            counted = check(db, table, keys, ctx.settings)
        try:
            verify(ctx, password_hash, password)
        except Unauthorized:
            failed(store, table, keys, ctx.settings)
            on_failure()
            raise
    return counted


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
