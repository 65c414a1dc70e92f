"""Statements on the hottest request paths, run straight on SQLite's cursor.

A SQLAlchemy statement costs 40 to 150 µs of Python on top of SQLite's own 5 to 10 µs: compiling
(cached, but its key is looked up), building the execution context, processing the parameters
and the result, and for an ORM query, loading entities into the session. On the few requests
every applicant makes, that was most of the platform's CPU (``benchmarks/platform_steps.py``).

``Direct`` compiles a Core statement once per set of parameter names with SQLAlchemy itself (so
the SQL, the placeholder order and the type conversions are SQLAlchemy's), then runs it on the
session's DBAPI cursor, in the session's transaction. Rows come back as tuples with SQLAlchemy's
result conversions applied, or as detached instances of a mapped class: read-only snapshots that
the session does not track (a change to one is not written; write with a statement).

On PostgreSQL, whose cost per statement is the round trip, the same objects run the statement
through SQLAlchemy as usual: both backends give the same values.

A value written into the statement (``column == "x"``, ``.limit(1)``, ``.in_([...])``) is fixed
when it is first compiled: what varies from call to call must be a ``bindparam``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Executable, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import manager_of_class
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Model = TypeVar("Model")
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    """One statement's SQL for SQLite, with how to fill each placeholder."""

    sql: str
    # Per placeholder, in order: the parameter's name and its conversion, or (None, value) for
    # a value fixed in the statement (a LIMIT, an IN list).
    slots: tuple[tuple[str | None, Any], ...]
    results: tuple[Processor, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [
            value if name is None else (value(params[name]) if value is not None else params[name])
            for name, value in self.slots
        ]


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    required = [name for name, bind in compiled.binds.items() if bind.required]
    expanded = compiled.construct_expanded_state(dict.fromkeys(required))
    slots: list[tuple[str | None, Any]] = []
    for name in expanded.positiontup or ():
        bind = compiled.binds.get(name)
        if bind is not None and bind.required:
            slots.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        else:  # a literal of the statement, converted once
            value = expanded.parameters[name]
            process = expanded.processors.get(name)
            slots.append((None, process(value) if process else value))
    columns = getattr(statement, "selected_columns", ())
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return _Compiled(expanded.statement, tuple(slots), results)


_DRIVER = "direct.driver"


def _driver(session: Session) -> tuple[Any, Dialect] | None:
    """The session's SQLite connection and dialect (None on another backend), kept in the session
    until its transaction ends: ``Session.connection()`` costs more than a statement."""
    found: tuple[Any, Dialect] | bool | None = session.info.get(_DRIVER, False)
    if found is False:
        connection = session.connection()
        dialect = connection.dialect
        found = (connection.connection.driver_connection, dialect) if dialect.name == "sqlite" else None
        session.info[_DRIVER] = found
    return found  # type: ignore[return-value]


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, _transaction: Any) -> None:
    """The connection goes back to the pool with the transaction: a later one may get another."""
    session.info.pop(_DRIVER, None)


class Direct:
    """A Core statement run on the driver's cursor (SQLite) or through SQLAlchemy (PostgreSQL)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, ...], _Compiled] = {}
        # An INSERT's Python-side column defaults (ids, timestamps), which SQLAlchemy fills in
        # when a parameter set leaves the column out.
        table = getattr(statement, "table", None) if getattr(statement, "is_insert", False) else None
        self._defaults = tuple(
            (column.key, column.default)
            for column in (table.columns if table is not None else ())
            if column.default is not None and not column.default.is_sequence
        )

    def _with_defaults(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        missing = [(key, default) for key, default in self._defaults if key not in params]
        if not missing:
            return params
        filled = dict(params)
        for key, default in missing:
            filled[key] = default.arg(None) if default.is_callable else default.arg
        return filled

    def _sqlite(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, _Compiled] | None:
        """The DBAPI connection and the compiled statement, or None off SQLite."""
        found = _driver(session)
        if found is None:
            return None
        driver, dialect = found
        keys = tuple(params)
        compiled = self._compiled.get(keys)
        if compiled is None:
            compiled = self._compiled[keys] = _compile(self.statement, dialect, keys)  # type: ignore[arg-type]
        return driver, compiled

    def rows(self, session: Session, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row of a SELECT, converted as SQLAlchemy would."""
        params = params or {}
        if session.autoflush:
            session.flush()  # what the session holds but has not written yet must be read too
        found = self._sqlite(session, params)
        if found is None:  # on the session's connection: columns, not ORM entities
            return [tuple(row) for row in session.connection().execute(self.statement, params)]
        driver, compiled = found
        raw = driver.execute(compiled.sql, compiled.arguments(params)).fetchall()
        if not any(compiled.results):
            return raw  # type: ignore[no-any-return]
        processors = compiled.results
        return [
            tuple(value if process is None else process(value) for process, value in zip(processors, row, strict=True))
            for row in raw
        ]

    def first(self, session: Session, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        found = self.rows(session, params)
        return found[0] if found else None

    def run(self, session: Session, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """An INSERT, UPDATE or DELETE; a list of parameter sets runs it once per set (executemany)."""
        many = not isinstance(params, Mapping)
        batch: Sequence[Mapping[str, Any]] = params if many else [params]  # type: ignore[assignment,list-item]
        if not batch:
            return
        if self._defaults:  # through SQLAlchemy too: the same values on both backends
            batch = [self._with_defaults(p) for p in batch]
        found = self._sqlite(session, batch[0])
        if found is None:
            session.connection().execute(self.statement, list(batch) if many else batch[0])
            return
        driver, compiled = found
        if many:
            driver.executemany(compiled.sql, [compiled.arguments(p) for p in batch])
        else:
            driver.execute(compiled.sql, compiled.arguments(batch[0]))


class Snapshots(Generic[Model]):
    """Rows of a SELECT whose leading columns are a mapped class's, as detached instances of it
    (snapshots: the session does not track them), each with the row's remaining columns."""

    def __init__(self, model: type[Model], statement: Executable) -> None:
        self.query = Direct(statement)
        mapper = inspect(model)
        columns = list(getattr(statement, "selected_columns", ()))
        keys: list[str] = []
        for column in columns:
            prop = mapper.get_property_by_column(column) if column.table is mapper.local_table else None
            if prop is None:
                break
            keys.append(prop.key)
        self._keys = tuple(keys)
        self._new = manager_of_class(model).new_instance

    def _make(self, row: tuple[Any, ...]) -> Model:
        instance: Model = self._new()
        instance.__dict__.update(zip(self._keys, row, strict=False))
        return instance

    def all(self, session: Session, params: Mapping[str, Any] | None = None) -> list[Model]:
        return [self._make(row) for row in self.query.rows(session, params)]

    def first(self, session: Session, params: Mapping[str, Any] | None = None) -> Model | None:
        row = self.query.first(session, params)
        return None if row is None else self._make(row)

    def first_with_rest(
        self, session: Session, params: Mapping[str, Any] | None = None
    ) -> tuple[Model, tuple[Any, ...]] | None:
        """The first row's instance and the row's columns after the model's."""
        row = self.query.first(session, params)
        return None if row is None else (self._make(row), row[len(self._keys) :])
