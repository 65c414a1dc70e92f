"""Engines and sessions for the three stores.

SQLite (the embedded default) keeps each side in its own file, in WAL mode. PostgreSQL keeps
them in three schemas of one database (``front``, ``back``, ``platform``). Write transactions
on SQLite begin IMMEDIATE so that two writers queue on the busy timeout instead of failing
when a read lock cannot be upgraded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from reference_platform.errors import ConfigError
from reference_platform.settings import Settings
from reference_platform.storage.back import BackBase
from reference_platform.storage.front import FrontBase
from reference_platform.storage.platform import PlatformBase

SIDES: dict[str, MetaData] = {
    "front": FrontBase.metadata,
    "back": BackBase.metadata,
    "platform": PlatformBase.metadata,
}


@dataclass(frozen=True)
class Store:
    """One side's database: a reader and a writer session factory on one engine."""

    name: str
    engine: Engine
    _read: sessionmaker[Session]
    _write: sessionmaker[Session]
    # SQLite admits one writer at a time and makes the others sleep in growing steps (its busy
    # handler); queueing writers on a lock in-process instead keeps throughput and latency
    # steady under load. PostgreSQL locks rows itself, so it gets no lock.
    _writer_lock: threading.Lock | None = None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction committed on success and rolled back on any exception."""
        with self._writer_lock or nullcontext(), self._write.begin() as session:
            yield session


@dataclass(frozen=True)
class Stores:
    front: Store
    back: Store
    platform: Store

    def dispose(self) -> None:
        for store in (self.front, self.back, self.platform):
            store.engine.dispose()


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=48,  # one per worker thread: SQLite connections are cheap to keep, costly to reopen
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front; readers run each statement on its own WAL
        # snapshot (no BEGIN round trip), which is all a page or an API read needs.
        if conn.get_execution_options().get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _store(name: str, engine: Engine) -> Store:
    writer = engine.execution_options(sqlite_immediate=True)
    return Store(
        name=name,
        engine=engine,
        _read=sessionmaker(bind=engine, expire_on_commit=False),
        _write=sessionmaker(bind=writer, expire_on_commit=False, info={"writer": True}),
        _writer_lock=threading.Lock() if engine.dialect.name == "sqlite" else None,
    )


def locking(session: Session) -> bool:
    """Whether reads in this session should lock the rows they will change (SELECT … FOR
    UPDATE): true in PostgreSQL's write transactions, where two requests could otherwise check
    the same state and both change it. False on SQLite, whose writers are queued one at a time
    (``Store.write``): a lock would be a statement that locks nothing."""
    return bool(session.info.get("writer")) and session.get_bind().dialect.name != "sqlite"


def open_stores(settings: Settings) -> Stores:
    """Open (and create where missing) the three stores named by the settings."""
    url = settings.database_url
    stores: dict[str, Store] = {}
    try:
        if url is None or make_url(url).get_backend_name() == "sqlite":
            folder = settings.data_dir
            if url is not None and make_url(url).database:
                folder = Path(make_url(url).database or "").parent
            folder.mkdir(parents=True, exist_ok=True)
            for name in SIDES:
                stores[name] = _store(name, _sqlite_engine(folder / f"{name}.db"))
        else:
            for name in SIDES:
                engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)
                with engine.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
                mapped = engine.execution_options(schema_translate_map={None: name})
                stores[name] = _store(name, mapped)
        for name, metadata in SIDES.items():
            with stores[name].engine.begin() as conn:
                metadata.create_all(conn)
    except OperationalError as exc:
        for store in stores.values():
            store.engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError("--database-url", f"cannot open the database: {reason}") from None
    return Stores(front=stores["front"], back=stores["back"], platform=stores["platform"])
