"""The campaign history: recording (idempotent, concurrent), listing, the previous run, a damaged or
foreign database left untouched, and ``anef-harness history``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from anef_harness import report_cli
from core.errors import ConfigError
from dashboards.history import SCHEMA_VERSION, database, previous, record, runs
from tests.checks.test_gate import logins
from tests.checks.test_store_and_rights import folder
from tests.dashboards.test_report import judged, spread


def at(day: int) -> str:
    return f"2026-11-{day:02d}T20:45:21+00:00"


def run(root: Path, name: str, campaign: str, day: int, failed: int = 0) -> Path:
    return judged(root / name, spread(logins(100 - failed, failed)), campaign=campaign, started=at(day))


def test_record_keeps_key_figures_and_re_recording_replaces_the_row(tmp_path: Path) -> None:
    root = tmp_path / "results"
    results = run(root, "smoke-1", "smoke", 1, failed=10)
    record(root, results)
    record(root, results)
    (row,) = runs(root)
    assert (row.run, row.campaign, row.verdict, row.status) == ("smoke-1", "smoke", "fail", "complete")
    assert row.started == "2026-11-01T20:45:21.000000+00:00"
    figures = row.figures
    assert (figures.steps, figures.failure_rate, figures.slos_breached, figures.slos_met) == (100, 0.1, 1, 0)
    assert figures.p95_ms == pytest.approx(10.0)
    assert json.loads(row.summary)["campaign"] == "smoke"
    summary = json.loads((results / "summary.json").read_text())
    summary["verdict"] = "pass"  # as if judged again with a more lenient SLO file
    (results / "summary.json").write_text(json.dumps(summary))
    record(root, results)
    (row,) = runs(root)
    assert row.verdict == "pass"
    with sqlite3.connect(database(root)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_runs_are_newest_first_filtered_by_campaign_and_limited(tmp_path: Path) -> None:
    root = tmp_path / "results"
    for name, campaign, day in [("a", "smoke", 1), ("c", "smoke", 3), ("b", "peak", 2)]:
        record(root, run(root, name, campaign, day))
    assert [r.run for r in runs(root)] == ["c", "b", "a"]
    assert [r.run for r in runs(root, "smoke")] == ["c", "a"]
    assert [r.run for r in runs(root, limit=2)] == ["c", "b"]
    assert runs(root, "soak") == []
    assert runs(tmp_path / "nothing-here") == []


def test_previous_is_the_latest_earlier_run_of_the_same_campaign(tmp_path: Path) -> None:
    root = tmp_path / "results"
    first = run(root, "smoke-1", "smoke", 1)
    second = run(root, "smoke-2", "smoke", 2)
    other = run(root, "peak-1", "peak", 3)
    later = run(root, "smoke-4", "smoke", 4)
    now = run(root, "smoke-3", "smoke", 3)
    for results in (first, second, other, later, now):
        record(root, results)
    found = previous(root, now)
    assert found is not None
    assert found.run == "smoke-2"
    first_of_all = previous(root, first)
    assert first_of_all is None
    assert previous(root, other) is None  # no earlier "peak"


def test_previous_works_for_a_run_not_recorded_yet(tmp_path: Path) -> None:
    root = tmp_path / "results"
    record(root, run(root, "smoke-1", "smoke", 1))
    found = previous(root, run(root, "smoke-2", "smoke", 2))
    assert found is not None
    assert found.run == "smoke-1"


def test_concurrent_writers_lose_no_run(tmp_path: Path) -> None:
    root = tmp_path / "results"
    folders = [run(root, f"smoke-{day}", "smoke", day) for day in range(1, 9)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda results: record(root, results), folders))
    assert sorted(r.run for r in runs(root)) == sorted(f.name for f in folders)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda path: path.write_bytes(b"this is not a database, " * 200), "not a readable history database"),
        (
            lambda path: sqlite3.connect(path).execute("CREATE TABLE notes (text TEXT)").connection.commit(),
            "not a campaign history",
        ),
        (
            lambda path: sqlite3.connect(path).execute("PRAGMA user_version = 99").connection.commit(),
            f"history schema 99, this harness reads up to {SCHEMA_VERSION}",
        ),
    ],
    ids=["not-sqlite", "another-database", "newer-schema"],
)
def test_a_database_that_is_not_our_history_is_a_one_line_error_and_is_left_untouched(
    tmp_path: Path, damage: Callable[[Path], object], expected: str
) -> None:
    root = tmp_path / "results"
    results = run(root, "smoke-1", "smoke", 1)
    path = database(root)
    damage(path)
    before = path.read_bytes()
    for attempt in (lambda: record(root, results), lambda: runs(root), lambda: previous(root, results)):
        with pytest.raises(ConfigError) as raised:
            attempt()
        assert str(raised.value).startswith(f"{path}: ")
        assert expected in str(raised.value)
        assert "\n" not in str(raised.value)
    assert path.read_bytes() == before


def test_a_folder_without_summary_records_nothing(tmp_path: Path) -> None:
    root = tmp_path / "results"
    with pytest.raises(ConfigError, match=r"no summary\.json"):
        record(root, folder(root / "smoke-1", logins(5, 0)))
    assert not database(root).exists()


# --- the command line ----------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    report_cli.register(app)
    return app


def history_cli(*arguments: str) -> Result:
    return CliRunner().invoke(cli(), ["history", *arguments], env={"COLUMNS": "250"})


def test_cli_with_an_empty_history_says_so_and_exits_0(tmp_path: Path) -> None:
    done = history_cli("--root", str(tmp_path))
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"no run recorded in {tmp_path / 'history.sqlite'}"


def test_cli_lists_runs_newest_first_and_as_json(tmp_path: Path) -> None:
    root = tmp_path / "results"
    record(root, run(root, "smoke-1", "smoke", 1))
    record(root, run(root, "smoke-2", "smoke", 2, failed=10))
    record(root, run(root, "peak-1", "peak", 3))
    done = history_cli("--root", str(root), "--campaign", "smoke")
    assert done.exit_code == 0, done.output
    table = done.stdout
    assert table.index("smoke-2") < table.index("smoke-1")
    assert "peak-1" not in table
    assert "10.00%" in table
    done = history_cli("--root", str(root), "--json", "--limit", "2")
    rows = json.loads(done.stdout)
    assert [row["run"] for row in rows] == ["peak-1", "smoke-2"]
    assert rows[1]["failure_rate"] == 0.1
    assert rows[1]["verdict"] == "fail"
    assert "summary" not in rows[1]


def test_cli_refuses_a_damaged_history_with_exit_2_and_one_line(tmp_path: Path) -> None:
    database(tmp_path).write_bytes(b"garbage " * 512)
    done = history_cli("--root", str(tmp_path))
    assert done.exit_code == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(f"anef-harness: {database(tmp_path)}: not a readable history database")
