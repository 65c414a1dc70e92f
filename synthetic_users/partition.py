"""Who may act for which applicant: partitions across processes, leases within one.

Each load-generating process (a Locust worker, here or on another host) owns the applicants
whose index modulo the number of workers equals its own number; within a process, a virtual
user takes a lease on an applicant before acting and gives it back after. Together they make
sure no two virtual users ever act for the same applicant at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    """Worker ``number`` of ``count`` owns the indexes i with i % count == number."""

    number: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.number < self.count:
            raise ValueError(f"partition {self.number} of {self.count}: expected 0 <= number < count")

    def owns(self, index: int) -> bool:
        return index % self.count == self.number

    def members(self, size: int) -> range:
        return range(self.number, size, self.count)


class Lease:
    """The right to act for one applicant until released (a context manager)."""

    def __init__(self, table: LeaseTable, index: int) -> None:
        self._table = table
        self.index = index
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._table._give_back(self.index)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class LeaseTable:
    """The leases of one process over its partition; safe for concurrent takers."""

    def __init__(self, size: int, partition: Partition | None = None) -> None:
        self.partition = partition or Partition(0, 1)
        self._members = self.partition.members(size)
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._cursor = 0

    def __len__(self) -> int:
        return len(self._members)

    @property
    def held(self) -> int:
        return len(self._held)

    def take(self, index: int) -> Lease | None:
        """A lease on this applicant, or None if another virtual user holds it."""
        if not self.partition.owns(index) or index not in self._members:
            raise ValueError(f"applicant {index} is not in partition {self.partition.number}/{self.partition.count}")
        with self._lock:
            if index in self._held:
                return None
            self._held.add(index)
        return Lease(self, index)

    def take_next(self) -> Lease | None:
        """A lease on the next free applicant of the partition (round robin), or None if all
        are held."""
        with self._lock:
            for _ in range(len(self._members)):
                index = self._members[self._cursor]
                self._cursor = (self._cursor + 1) % len(self._members)
                if index not in self._held:
                    self._held.add(index)
                    return Lease(self, index)
        return None

    def _give_back(self, index: int) -> None:
        with self._lock:
            self._held.discard(index)

    def __iter__(self) -> Iterator[int]:
        return iter(self._members)
