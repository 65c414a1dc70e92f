"""Session lifetimes shared by applicants and agents: an absolute end (``session_ttl_seconds``)
and an idle timeout (``session_idle_seconds``).

``last_seen`` is written at most once a minute per session, and never by the request that sees
it: a request notes the session in ``SessionsSeen`` (a dictionary write) and ``SessionKeeper``
writes every noted session in one statement per side every ``session_flush_seconds``. The idle timeout then
costs no write on any request's path; a stored ``last_seen`` lags by at most a minute and a flush
interval, and a crash forgets at most one interval of notes (those sessions end that much
earlier, never later).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select

from reference_platform.settings import Settings

REFRESH_SECONDS = 60


def idle_since(settings: Settings, now: datetime) -> datetime:
    """A session last seen before this is over."""
    return now - timedelta(seconds=settings.session_idle_seconds)


def refresh_due(last_seen: datetime, settings: Settings, now: datetime) -> bool:
    """Whether ``last_seen`` is old enough to be written again."""
    return now - last_seen > timedelta(seconds=min(REFRESH_SECONDS, settings.session_idle_seconds / 4))


def live_session_query(owner: Any, session: Any, owner_id: Any) -> Select[Any]:
    """The owner of a session (applicant or agent) with the session's ``last_seen``, if the session
    is neither over nor idle: one query on every authenticated request, built once per side.
    Parameters: ``token_hash``, ``now``, ``idle_since``."""
    return (
        select(owner, session.last_seen)
        .join(session, owner_id == owner.id)
        .where(
            session.token_hash == bindparam("token_hash"),
            session.expires_at > bindparam("now"),
            session.last_seen > bindparam("idle_since"),
        )
    )


class SessionsSeen:
    """The sessions seen in use since the last flush, per side: token hash → when."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._front: dict[str, datetime] = {}
        self._back: dict[str, datetime] = {}

    def note(self, side: str, token_hash: str, when: datetime) -> None:
        with self._lock:
            (self._front if side == "front" else self._back)[token_hash] = when

    def take(self) -> tuple[dict[str, datetime], dict[str, datetime]]:
        """Everything noted so far (front, back), forgotten here."""
        with self._lock:
            front, back = self._front, self._back
            self._front, self._back = {}, {}
        return front, back
