"""The campaign history: one row per run in ``<root>/history.sqlite``, so releases can be compared.

A row keeps the run's key figures (for tables and trends without reopening results folders) and
its whole ``summary.json``. SQLite in WAL mode with a busy timeout lets several runs record at
once; every write is one ``BEGIN IMMEDIATE`` transaction. The schema carries a version
(``PRAGMA user_version``). A file that is not such a database is reported, never replaced. The report's comparison
with the previous run (deltas of the key figures, the trend) is built here too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from checks.summary import SUMMARY, SummaryFile, read_summary
from core.errors import ConfigError
from dashboards.charts import Chart, history_trend
from dashboards.i18n import NBSP, Lang
from dashboards.report_data import event_figures
from scenarios.manifest import read_manifest

DB_NAME = "history.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE runs (
    run TEXT PRIMARY KEY,            -- the results folder's name
    campaign TEXT NOT NULL,
    started TEXT,                    -- UTC ISO 8601, from the manifest
    ended TEXT,
    status TEXT NOT NULL,
    verdict TEXT NOT NULL,
    steps INTEGER NOT NULL,
    failure_rate REAL NOT NULL,
    p95_ms REAL,                     -- of request steps (consistency watches left out)
    slos_met INTEGER NOT NULL,
    slos_breached INTEGER NOT NULL,
    defects INTEGER NOT NULL,        -- documented (gating) defects detected
    defect_incidents INTEGER NOT NULL,
    rights_at_risk INTEGER,          -- NULL when it could not be computed
    recorded TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX runs_by_campaign ON runs (campaign, coalesce(started, recorded));
"""
_COLUMNS = (
    "run, campaign, started, ended, status, verdict, steps, failure_rate, p95_ms, slos_met, slos_breached, defects, "
    "defect_incidents, rights_at_risk, recorded, summary"
)
_ORDER = "ORDER BY coalesce(started, recorded) DESC, recorded DESC, run DESC"
# Built from the constants above only; every value is a bound parameter.
_INSERT = f"INSERT OR REPLACE INTO runs ({_COLUMNS}) VALUES ({', '.join('?' * len(_COLUMNS.split(',')))})"  # noqa: S608
_SELECT = f"SELECT {_COLUMNS} FROM runs WHERE (? IS NULL OR campaign = ?) {_ORDER} LIMIT ?"  # noqa: S608
_PREVIOUS = (
    f"SELECT {_COLUMNS} FROM runs WHERE campaign = ? AND run <> ? AND coalesce(started, recorded) < ? "  # noqa: S608
    f"{_ORDER} LIMIT 1"
)


@dataclass(frozen=True)
class KeyFigures:
    """What the history compares between runs."""

    steps: int
    failure_rate: float
    p95_ms: float | None
    slos_met: int
    slos_breached: int
    defects: int
    defect_incidents: int
    rights_at_risk: int | None


@dataclass(frozen=True)
class HistoryRow:
    run: str
    campaign: str
    started: str | None
    ended: str | None
    status: str
    verdict: str
    figures: KeyFigures
    recorded: str
    summary: str = field(repr=False)  # the run's summary.json, as recorded

    def to_json(self) -> dict[str, Any]:
        """The row for machines (``--json``), without the summary itself."""
        head = {k: v for k, v in asdict(self).items() if k not in ("figures", "summary")}
        return {**head, **asdict(self.figures)}


def database(root: Path) -> Path:
    return root / DB_NAME


def key_figures(summary: SummaryFile, p95_ms: float | None) -> KeyFigures:
    """The key figures of a run, from its summary and the p95 of its request steps."""
    return KeyFigures(
        steps=summary.attempts,
        failure_rate=round(summary.failure_rate, 6),
        p95_ms=round(p95_ms, 3) if p95_ms is not None else None,
        slos_met=sum(1 for s in summary.slos if s.state == "met"),
        slos_breached=sum(1 for s in summary.slos if s.state == "breached"),
        defects=len(summary.gating_defects),
        defect_incidents=sum(summary.defects[d].count for d in summary.gating_defects),
        rights_at_risk=summary.rights_at_risk.count if summary.rights_at_risk is not None else None,
    )


def record(root: Path, results: Path) -> None:
    """Record (or re-record: the row is replaced) a judged results folder in ``root``'s history."""
    record_at(database(root), results)


def runs(root: Path, campaign: str | None = None, limit: int | None = None) -> list[HistoryRow]:
    """Recorded runs, newest first; none when the history does not exist yet."""
    return runs_at(database(root), campaign, limit)


def previous(root: Path, results: Path) -> HistoryRow | None:
    """The latest run of the same campaign that started before this one."""
    return previous_at(database(root), results)


def record_at(path: Path, results: Path) -> None:
    summary = read_summary(results)  # before opening the database: a bad folder changes nothing
    text = (results / SUMMARY).read_text(encoding="utf-8")
    manifest = read_manifest(results)
    figures = key_figures(summary, event_figures(results, timeline=False).request_p95_ms)
    row = (
        results.name,
        manifest.campaign or summary.campaign,
        _iso(manifest.started),
        _iso(manifest.ended),
        summary.status,
        summary.verdict,
        *asdict(figures).values(),
        _iso(datetime.now(UTC)),
        text,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with _connection(path) as db:
        _version(db, path)  # reads the header first: a file that is not SQLite fails before any write
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            if _version(db, path) == 0:
                for statement in _SCHEMA.split(";"):  # not executescript: it would commit first
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(_INSERT, row)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def runs_at(path: Path, campaign: str | None = None, limit: int | None = None) -> list[HistoryRow]:
    if not path.is_file():
        return []
    with _connection(path) as db:
        if _version(db, path) == 0:
            return []
        # LIMIT -1: no limit, in SQLite
        return [_row(r) for r in db.execute(_SELECT, [campaign, campaign, -1 if limit is None else limit])]


def previous_at(path: Path, results: Path) -> HistoryRow | None:
    if not path.is_file():
        return None
    manifest = read_manifest(results)
    campaign = manifest.campaign or read_summary(results).campaign
    with _connection(path) as db:
        if _version(db, path) == 0:
            return None
        started = _iso(manifest.started)
        if started is None:  # no start time: the row's own recording time, else anything recorded so far
            mine = db.execute("SELECT recorded FROM runs WHERE run = ?", [results.name]).fetchone()
            started = str(mine[0]) if mine else "9999"
        found = db.execute(_PREVIOUS, [campaign, results.name, started]).fetchone()
        return _row(found) if found else None


@contextmanager
def _connection(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    try:
        yield db
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    finally:
        db.close()


def _version(db: sqlite3.Connection, path: Path) -> int:
    # One statement, so one snapshot: read apart, another writer's first commit could fall between
    # the version (still 0) and the tables (already there), and a new history would look foreign.
    version, tables = db.execute(
        "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    version = int(version)
    if version > SCHEMA_VERSION:
        raise ConfigError(str(path), f"history schema {version}, this harness reads up to {SCHEMA_VERSION}")
    if version == 0 and tables:
        raise ConfigError(str(path), "an SQLite database, but not a campaign history (no schema version)")
    return version


def _unreadable(path: Path, exc: sqlite3.Error) -> ConfigError:
    return ConfigError(str(path), f"not a readable history database ({' '.join(str(exc).split())})")


def _row(values: tuple[Any, ...]) -> HistoryRow:
    run, campaign, started, ended, status, verdict, *figures, recorded, summary = values
    return HistoryRow(run, campaign, started, ended, status, verdict, KeyFigures(*figures), recorded, summary)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- the report's comparison with the previous run ----------------------------------------------------


@dataclass(frozen=True)
class DeltaRow:
    label: str
    before: str
    now: str
    delta: str
    tone: Literal["better", "worse", ""]


@dataclass(frozen=True)
class Comparison:
    sentence: str
    rows: list[DeltaRow]
    trend: Chart | None
    trend_note: str


# figure → (how it reads, +1 when higher is better, -1 when lower is, 0 when neither)
_FIGURES: dict[str, tuple[Literal["count", "rate", "ms"], int]] = {
    "steps": ("count", 0),
    "failure_rate": ("rate", -1),
    "p95_ms": ("ms", -1),
    "slos_met": ("count", 1),
    "slos_breached": ("count", -1),
    "defects": ("count", -1),
    "rights_at_risk": ("count", -1),
}


def compare(database: Path, results: Path, now: KeyFigures, words: Lang, *, trend_runs: int = 20) -> Comparison:
    """This run beside the previous one of its campaign, and the trend over the campaign's history."""
    manifest = read_manifest(results)
    campaign = manifest.campaign or read_summary(results).campaign
    if not database.is_file():
        return Comparison(words.t("compare_no_history", path=database.name), [], None, "")
    before = previous_at(database, results)
    rows: list[DeltaRow] = []
    if before is None:
        sentence = words.t("compare_none", campaign=campaign)
    else:
        when = _short(before.started or before.recorded)
        verdict = words.t(f"verdict_{before.verdict}") if before.verdict in ("pass", "fail") else before.verdict
        sentence = words.t("compare_with", campaign=campaign, run=before.run, started=when, verdict=verdict)
        old, new = asdict(before.figures), asdict(now)
        rows = [_delta(words.t(f"fig.{name}"), old[name], new[name], *_FIGURES[name], words) for name in _FIGURES]
    older = [r for r in runs_at(database, campaign) if r.run != results.name]
    if before is not None:  # runs recorded after this one belong to its future, not its trend
        older = [r for r in older if (r.started or r.recorded) <= (before.started or before.recorded)]
    series = [*reversed(older[: trend_runs - 1]), None]  # None: this run, drawn last
    if len(series) < 2:
        return Comparison(sentence, rows, None, words.t("trend_short"))
    figures = [r.figures if r else now for r in series]
    chart = history_trend(
        [_short(r.started or r.recorded) if r else _short(_iso(manifest.started) or results.name) for r in series],
        [f.failure_rate for f in figures],
        [f.p95_ms for f in figures],
        [float(f.rights_at_risk) if f.rights_at_risk is not None else None for f in figures],
        words,
    )
    return Comparison(sentence, rows, chart, "")


def _short(moment: str) -> str:
    return moment[:16].replace("T", " ")


def _delta(
    label: str, before: float | None, now: float | None, kind: Literal["count", "rate", "ms"], better: int, words: Lang
) -> DeltaRow:
    def show(value: float | None) -> str:
        if value is None:
            return "—"
        return words.pct(value, 2) if kind == "rate" else words.ms(value) if kind == "ms" else words.num(value)

    if before is None or now is None:
        return DeltaRow(label, show(before), show(now), "—", "")
    change = now - before
    if kind == "rate":  # a difference of rates is in percentage points
        delta = f"{words.num(change * 100, 2)}{NBSP}pt"
    else:
        delta = words.ms(change) if kind == "ms" else words.num(change)
    tone: Literal["better", "worse", ""] = ""
    if change and better:
        tone = "better" if (change > 0) == (better > 0) else "worse"
    return DeltaRow(label, show(before), show(now), words.signed(delta, change), tone)
