"""The mailbox's memory: messages in arrival order, indexed by recipient, with bounded retention.

One lock guards everything, so delivery (the SMTP thread) and reads (the API's threads, the
harness's probes) never see a half-applied change. Retention evicts the oldest messages once
either bound is passed — a number of messages and a number of bytes — so a long soak cannot
exhaust memory; below both bounds no message is ever dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from synthetic_users.mailbox.message import StoredMessage
from synthetic_users.mailbox.search import Query

DEFAULT_RETENTION = 10_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Page:
    """One page of messages, newest first, with the counts Mailpit reports beside it."""

    messages: tuple[StoredMessage, ...]
    read: frozenset[str]  # ids among ``messages`` already opened
    total: int  # messages in the mailbox
    unread: int  # unread messages in the mailbox
    matched: int  # messages matching the query (all of them for a plain listing)
    matched_unread: int


@dataclass(frozen=True)
class Stats:
    """Counters for tests and logs."""

    total: int
    unread: int
    bytes: int
    evicted: int
    refused: int


class MessageStore:
    """Thread-safe, bounded, in-memory store of received messages."""

    def __init__(self, *, max_messages: int = DEFAULT_RETENTION, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_messages < 1 or max_bytes < 1:
            raise ValueError("the retention limits must be positive")
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._changed = threading.Condition(threading.Lock())
        self._messages: OrderedDict[str, StoredMessage] = OrderedDict()  # oldest first
        self._by_recipient: dict[str, dict[str, None]] = {}  # address → ids, oldest first
        self._read: set[str] = set()
        self._bytes = 0
        self._evicted = 0
        self._refused = 0

    def add(self, message: StoredMessage) -> None:
        """Keep a message, evicting the oldest ones beyond the retention limits."""
        with self._changed:
            self._messages[message.id] = message
            self._bytes += message.footprint
            for address in message.recipients:
                self._by_recipient.setdefault(address, {})[message.id] = None
            # The newest message always stays: the SMTP size limit keeps one message below the budget.
            while len(self._messages) > 1 and (len(self._messages) > self.max_messages or self._bytes > self.max_bytes):
                self._forget(next(iter(self._messages)))
                self._evicted += 1
            self._changed.notify_all()

    def record_refusal(self) -> None:
        """Count a recipient refused at RCPT time (a bounce)."""
        with self._changed:
            self._refused += 1

    def get(self, message_id: str) -> StoredMessage | None:
        with self._changed:
            return self._messages.get(message_id)

    def latest(self, query: Query | None = None) -> StoredMessage | None:
        """The newest message, or the newest one matching ``query``."""
        page = self.search(query, start=0, limit=1) if query else self.page(start=0, limit=1)
        return page.messages[0] if page.messages else None

    def mark_read(self, message_id: str) -> None:
        with self._changed:
            if message_id in self._messages:
                self._read.add(message_id)

    def is_read(self, message_id: str) -> bool:
        with self._changed:
            return message_id in self._read

    def page(self, *, start: int = 0, limit: int | None = 50) -> Page:
        """Messages newest first; ``limit=None`` for all of them."""
        with self._changed:
            newest = reversed(self._messages.values())
            stop = None if limit is None else start + limit
            chosen = tuple(islice(newest, start, stop))
            total, unread = len(self._messages), len(self._messages) - len(self._read)
            read = frozenset(m.id for m in chosen if m.id in self._read)
        return Page(chosen, read, total, unread, total, unread)

    def search(self, query: Query | None, *, start: int = 0, limit: int = 50) -> Page:
        """Messages matching ``query``, newest first, and how many match in all."""
        with self._changed:
            # Copy references only: the (slower) matching runs without holding up delivery.
            snapshot = list(self._messages.values())
            read_ids = frozenset(self._read)
        matching = [m for m in reversed(snapshot) if query is None or query.matches(m, m.id in read_ids)]
        chosen = tuple(matching[start : start + limit])
        matched_unread = sum(1 for m in matching if m.id not in read_ids)
        return Page(
            messages=chosen,
            read=frozenset(m.id for m in chosen if m.id in read_ids),
            total=len(snapshot),
            unread=len(snapshot) - len(read_ids),
            matched=len(matching),
            matched_unread=matched_unread,
        )

    def messages_for(self, address: str) -> list[StoredMessage]:
        """Messages delivered to ``address`` (envelope recipient, any case), oldest first."""
        with self._changed:
            return self._for_locked(address.lower())

    def wait_for(self, address: str, *, timeout: float, count: int = 1) -> list[StoredMessage]:
        """Wait until ``address`` has ``count`` messages or ``timeout`` seconds pass.

        Returns what arrived (oldest first); fewer than ``count`` means the deadline passed.
        """
        key = address.lower()
        with self._changed:
            self._changed.wait_for(lambda: len(self._by_recipient.get(key, ())) >= count, timeout)
            return self._for_locked(key)

    def delete(self, ids: Iterable[str] | None = None) -> int:
        """Delete the listed messages (unknown ids are ignored), or all of them; returns how many."""
        with self._changed:
            if ids is None:
                deleted = len(self._messages)
                self._messages.clear()
                self._by_recipient.clear()
                self._read.clear()
                self._bytes = 0
                return deleted
            present = [i for i in dict.fromkeys(ids) if i in self._messages]
            for message_id in present:
                self._forget(message_id)
            return len(present)

    def stats(self) -> Stats:
        with self._changed:
            total = len(self._messages)
            return Stats(total, total - len(self._read), self._bytes, self._evicted, self._refused)

    def __len__(self) -> int:
        with self._changed:
            return len(self._messages)

    def _forget(self, message_id: str) -> None:
        """Remove one message and its index entries; the lock is held."""
        message = self._messages.pop(message_id)
        self._bytes -= message.footprint
        self._read.discard(message_id)
        for address in message.recipients:
            ids = self._by_recipient.get(address)
            if ids is not None:
                ids.pop(message_id, None)
                if not ids:
                    del self._by_recipient[address]

    def _for_locked(self, key: str) -> list[StoredMessage]:
        return [self._messages[i] for i in self._by_recipient.get(key, {})]
