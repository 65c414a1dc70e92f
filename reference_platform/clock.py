"""The platform clock: business dates ("today") can be set by the admin API so that renewal
windows are reproducible; timestamps stay real UTC time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

from reference_platform.storage.db import Store
from reference_platform.storage.platform import StateItem


class PlatformClock:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        with store.read() as session:
            item = session.get(StateItem, "today")
        self._today: date | None = date.fromisoformat(item.value) if item and item.value else None

    def today(self) -> date:
        return self._today or datetime.now(UTC).date()

    @property
    def is_set(self) -> bool:
        return self._today is not None

    def set_today(self, value: date | None) -> None:
        """Fix the business date (``None`` follows the real calendar again); persisted."""
        with self._lock, self._store.write() as session:
            session.merge(StateItem(key="today", value=value.isoformat() if value else None))
            self._today = value
