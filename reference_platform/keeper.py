"""The session keeper: writes the ``last_seen`` of the sessions requests saw in use
(``domain.sessions.SessionsSeen``), one statement per side every few seconds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, Update, bindparam, update

from reference_platform.context import PlatformContext
from reference_platform.storage.back import AgentSession
from reference_platform.storage.db import Store
from reference_platform.storage.front import Session as LoginSession
from reference_platform.workers import PollingWorker


def _touch_statement(table: Table) -> Update:
    return update(table).where(table.c.token_hash == bindparam("hash")).values(last_seen=bindparam("seen"))


TOUCH_APPLICANT = _touch_statement(LoginSession.__table__)  # type: ignore[arg-type]
TOUCH_AGENT = _touch_statement(AgentSession.__table__)  # type: ignore[arg-type]


class SessionKeeper(PollingWorker):
    name = "session-keeper"

    def __init__(self, ctx: PlatformContext) -> None:
        super().__init__(ctx.settings.session_flush_seconds)
        self.ctx = ctx

    def run_once(self) -> int:
        front, back = self.ctx.sessions_seen.take()
        _touch(self.ctx.stores.front, TOUCH_APPLICANT, front)
        _touch(self.ctx.stores.back, TOUCH_AGENT, back)
        return len(front) + len(back)

    def stop(self) -> None:
        """Stop, then write what was noted since the last pass."""
        super().stop()
        self.run_once()


def _touch(store: Store, statement: Update, seen: dict[str, datetime]) -> None:
    if not seen:
        return
    with store.write() as db:  # one executemany, outside the ORM's unit of work
        db.connection().execute(statement, [{"hash": h, "seen": when} for h, when in seen.items()])
