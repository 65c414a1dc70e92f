"""The worker that carries outbox messages across the seam, in order, at least once."""

from __future__ import annotations

import logging

from sqlalchemy import func, or_, select, update

from reference_platform.context import PlatformContext
from reference_platform.storage import back, front
from reference_platform.storage.common import InboxColumns, OutboxColumns, utcnow
from reference_platform.storage.db import Store
from reference_platform.sync.handlers import HANDLERS, Deferred
from reference_platform.workers import PollingWorker

log = logging.getLogger("reference_platform.sync")

BATCH = 200


class SyncBridge(PollingWorker):
    name = "sync-bridge"

    def __init__(self, ctx: PlatformContext) -> None:
        super().__init__(ctx.settings.sync_interval_seconds)
        self.ctx = ctx
        self._routes: tuple[tuple[Store, type[OutboxColumns], Store, type[InboxColumns]], ...] = (
            (ctx.stores.front, front.Outbox, ctx.stores.back, back.Inbox),
            (ctx.stores.back, back.Outbox, ctx.stores.front, front.Inbox),
        )

    def run_once(self) -> int:
        delivered = 0
        for source, outbox, target, inbox in self._routes:
            delivered += self._deliver(source, outbox, target, inbox)
        self._measure_lag()
        return delivered

    def _deliver(self, source: Store, outbox: type[OutboxColumns], target: Store, inbox: type[InboxColumns]) -> int:
        now = utcnow()
        with source.read() as session:
            messages = list(
                session.scalars(
                    select(outbox)
                    .where(outbox.delivered_at.is_(None))
                    .where(or_(outbox.not_before.is_(None), outbox.not_before <= now))
                    .order_by(outbox.seq)
                    .limit(BATCH)
                )
            )
        if not messages:
            return 0
        with source.read() as session:
            # The first held-back message of each applicant: nothing after it may overtake it.
            held: dict[str | None, int] = {
                key: first
                for key, first in session.execute(
                    select(outbox.ordering_key, func.min(outbox.seq))
                    .where(outbox.delivered_at.is_(None), outbox.not_before > now)
                    .group_by(outbox.ordering_key)
                )
            }
        done: list[int] = []
        # One transaction per batch on each side; a savepoint per message, so a message whose
        # target is not there yet is skipped without undoing the others.
        with target.write() as session:
            for message in messages:
                key = message.ordering_key
                if key is not None and key in held and message.seq > held[key]:
                    continue
                try:
                    with session.begin_nested():
                        if session.get(inbox, message.id) is None:
                            HANDLERS[message.kind](self.ctx, session, message.payload)
                            session.add(inbox(message_id=message.id))  # type: ignore[call-arg]
                except Deferred as reason:
                    # In order per applicant, a missing parent was delivered and swallowed by a
                    # fault (its ledger entry says which): this message is an orphan for good.
                    log.info("dropping orphan %s %s: %s", message.kind, message.id, reason)
                except Exception:  # a poison message is retried later; it must not block the rest
                    log.exception("cannot apply %s %s; will retry", message.kind, message.id)
                    continue
                done.append(message.seq)
        if done:
            with source.write() as session:
                session.execute(update(outbox).where(outbox.seq.in_(done)).values(delivered_at=utcnow()))
        return len(done)

    def pending(self) -> int:
        """Messages not yet delivered, on both sides (delayed ones included)."""
        total = 0
        for source, outbox, _target, _inbox in self._routes:
            with source.read() as session:
                total += (
                    session.scalar(select(func.count()).select_from(outbox).where(outbox.delivered_at.is_(None))) or 0
                )
        return total

    def _measure_lag(self) -> None:
        oldest = []
        for source, outbox, _target, _inbox in self._routes:
            with source.read() as session:
                value = session.scalar(select(func.min(outbox.created_at)).where(outbox.delivered_at.is_(None)))
            if value is not None:
                oldest.append(value)
        lag = (utcnow() - min(oldest)).total_seconds() if oldest else 0.0
        self.ctx.metrics.sync_lag.set(lag)
