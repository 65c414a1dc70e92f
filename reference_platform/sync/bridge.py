"""The worker that carries outbox messages across the seam, in order, at least once."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.storage import back, front
from reference_platform.storage.common import InboxColumns, OutboxColumns, utcnow
from reference_platform.storage.db import Store
from reference_platform.storage.direct import Snapshots
from reference_platform.sync.handlers import HANDLERS, Deferred, Known
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
        self._due: dict[type[OutboxColumns], Snapshots[OutboxColumns]] = {
            outbox: _due(outbox) for _, outbox, _, _ in self._routes
        }

    def run_once(self) -> int:
        delivered = 0
        oldest: list[datetime] = []
        for source, outbox, target, inbox in self._routes:
            done, waiting_since = self._deliver(source, outbox, target, inbox)
            delivered += done
            if waiting_since is not None:
                oldest.append(waiting_since)
        # The age of the oldest message left waiting in either outbox (delayed ones included).
        self.ctx.metrics.sync_lag.set((utcnow() - min(oldest)).total_seconds() if oldest else 0.0)
        return delivered

    def _deliver(
        self, source: Store, outbox: type[OutboxColumns], target: Store, inbox: type[InboxColumns]
    ) -> tuple[int, datetime | None]:
        """Deliver one batch from ``source`` to ``target``; returns how many messages were done and
        when the oldest message still waiting was written."""
        now = utcnow()
        with source.read() as session:
            messages = self._due[outbox].all(session, {"now": now})
            # The first held-back message of each applicant: nothing after it may overtake it.
            held: dict[str | None, int] = (
                {
                    key: first
                    for key, first in session.execute(
                        select(outbox.ordering_key, func.min(outbox.seq))
                        .where(outbox.delivered_at.is_(None), outbox.not_before > now)
                        .group_by(outbox.ordering_key)
                    )
                }
                if messages
                else {}
            )
            if not messages:
                return 0, _oldest_waiting(session, outbox)
        # The batch in one go, without a savepoint (and its flush) per message. A message that
        # fails (a poison: a bug) undoes the batch, which is then applied one message at a time
        # so that the others go through; the faults their handlers drew are drawn again.
        try:
            with target.write() as session:
                done = self._apply(session, inbox, messages, held, isolated=False)
        except Exception:
            with target.write() as session:
                done = self._apply(session, inbox, messages, held, isolated=True)
        if not done:
            with source.read() as session:
                return 0, _oldest_waiting(session, outbox)
        with source.write() as session:
            session.execute(update(outbox).where(outbox.seq.in_(done)).values(delivered_at=utcnow()))
            return len(done), _oldest_waiting(session, outbox)

    def _apply(
        self,
        session: Session,
        inbox: type[InboxColumns],
        messages: list[OutboxColumns],
        held: dict[str | None, int],
        *,
        isolated: bool,
    ) -> list[int]:
        """Apply the messages not held back and not applied before; returns the seqs now done.
        ``isolated``: a savepoint per message, so one that fails is skipped without undoing the
        others; otherwise the first failure (other than an orphan) is raised."""
        applied = set(session.scalars(select(inbox.message_id).where(inbox.message_id.in_(m.id for m in messages))))
        Known.load(session, ((m.kind, m.payload) for m in messages if m.id not in applied))
        record = insert(inbox.__table__)  # type: ignore[attr-defined]
        received: list[dict[str, str]] = []  # inbox rows, written together at the end of the batch
        done: list[int] = []
        for message in messages:
            key = message.ordering_key
            if key is not None and key in held and message.seq > held[key]:
                continue
            if message.id in applied:  # applied before a crash, not marked delivered: nothing to do again
                done.append(message.seq)
                continue
            try:
                with session.begin_nested() if isolated else nullcontext():
                    HANDLERS[message.kind](self.ctx, session, message.payload)
                    if isolated:
                        session.execute(record, {"message_id": message.id})
                    else:
                        received.append({"message_id": message.id})
            except Deferred as reason:  # raised before the handler changed anything
                # In order per applicant, a missing parent was delivered and swallowed by a
                # fault (its ledger entry says which): this message is an orphan for good.
                log.info("dropping orphan %s %s: %s", message.kind, message.id, reason)
            except Exception:  # a poison message is retried later; it must not block the rest
                if not isolated:
                    raise
                Known.forget(session)  # its savepoint is undone: what the batch read may be too
                log.exception("cannot apply %s %s; will retry", message.kind, message.id)
                continue
            done.append(message.seq)
        if received:
            session.execute(record, received)
        return done

    def pending(self) -> int:
        """Messages not yet delivered, on both sides (delayed ones included)."""
        total = 0
        for source, outbox, _target, _inbox in self._routes:
            with source.read() as session:
                total += (
                    session.scalar(select(func.count()).select_from(outbox).where(outbox.delivered_at.is_(None))) or 0
                )
        return total


def _due(outbox: type[OutboxColumns]) -> Snapshots[OutboxColumns]:
    """The next batch of an outbox's messages due now (parameter ``now``), oldest first."""
    return Snapshots(
        outbox,
        select(outbox)
        .where(outbox.delivered_at.is_(None))
        .where(or_(outbox.not_before.is_(None), outbox.not_before <= bindparam("now")))
        .order_by(outbox.seq)
        .limit(BATCH),
    )


def _oldest_waiting(session: Session, outbox: type[OutboxColumns]) -> datetime | None:
    """When the oldest message not yet delivered was written (None: the outbox is empty)."""
    return session.scalar(select(func.min(outbox.created_at)).where(outbox.delivered_at.is_(None)))
