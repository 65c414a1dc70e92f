"""Session lifetimes shared by applicants and agents: an absolute end (``session_ttl_seconds``)
and an idle timeout (``session_idle_seconds``). ``last_seen`` is written at most once a minute per
session, so the idle timeout costs one write per session and minute, not one per request."""

from __future__ import annotations

from datetime import datetime, timedelta

from reference_platform.settings import Settings

REFRESH_SECONDS = 60


def idle_since(settings: Settings, now: datetime) -> datetime:
    """A session last seen before this is over."""
    return now - timedelta(seconds=settings.session_idle_seconds)


def refresh_due(last_seen: datetime, settings: Settings, now: datetime) -> bool:
    """Whether ``last_seen`` is old enough to be written again."""
    return now - last_seen > timedelta(seconds=min(REFRESH_SECONDS, settings.session_idle_seconds / 4))
