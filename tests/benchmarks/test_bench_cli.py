"""``anef-harness bench``: one table of figures beside references, JSON, usage errors, failed parts.

Nothing here is about speed: the figures are checked to be measured numbers, not to be fast.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anef_harness import bench_cli
from anef_harness.cli import app
from benchmarks.suite import PARTS
from benchmarks.table import Figure, Part, Progress, markdown, run_parts

NUMBER = re.compile(r"\d[\d,]*(\.\d+)?")


@pytest.mark.slow
def test_a_quick_run_prints_one_table_of_measured_figures_and_writes_them_as_json(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"

    done = subprocess.run(
        [sys.executable, "-m", "anef_harness", "bench", "--quick", "--only", "population,processing", "--json", out],
        cwd=tmp_path,  # the benchmarks are a package: found wherever the command runs
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines()]
    benchmarks = {row[0] for row in rows if row and row[0] in ("platform", "population", "overhead", "processing")}
    assert benchmarks == {"population", "processing"}
    assert "reference (same run)" in done.stdout
    assert "a Faker per applicant" in done.stdout
    assert "json.loads" in done.stdout
    assert "population: done" in done.stderr  # progress on stderr, not in the table
    assert "starting" not in done.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["quick"] is True
    assert figures["machine"]["cores"] >= 1
    assert figures["failed"] == []
    by_measure = {(f["benchmark"], f["measure"].split(" ")[0]): f for f in figures["figures"]}
    for key in (("population", "generation,"), ("population", "seed"), ("processing", "judge"), ("processing", "peak")):
        figure = by_measure[key]
        assert isinstance(figure["value"], float), key
        assert figure["value"] > 0, key
    for key in (("population", "generation,"), ("processing", "judge"), ("processing", "peak")):
        assert by_measure[key]["reference"] > 0, key
        assert by_measure[key]["ratio"] == pytest.approx(by_measure[key]["value"] / by_measure[key]["reference"])
    generation = next(line for line in done.stdout.splitlines() if "generation" in line)
    assert NUMBER.search(generation.split("applicants)", 1)[1]) is not None


def test_an_unknown_benchmark_is_one_line_with_did_you_mean() -> None:
    result = CliRunner().invoke(app, ["bench", "--only", "population,proccessing"])

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "unknown benchmark 'proccessing'" in lines[0]
    assert "did you mean 'processing'?" in lines[0]


def test_a_json_file_in_a_missing_folder_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--only", "processing", "--json", str(tmp_path / "no" / "f.json")])

    assert result.exit_code == 2
    assert "--json: folder" in result.output


def fake_parts() -> dict[str, Part]:
    def fine(quick: bool, progress: Progress) -> Sequence[Figure]:
        progress("measuring")
        print("a stray print of a benchmark")  # must not reach the table
        return [Figure("", "throughput", 250.0, "req/s", reference=1000.0, reference_label="/healthz")]

    def broken(quick: bool, progress: Progress) -> Sequence[Figure]:
        raise RuntimeError("wrk is missing")

    return {"fine": fine, "broken": broken, "later": fine}


def test_a_failed_benchmark_is_a_row_saying_so_the_rest_still_run_and_the_exit_code_is_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench_cli, "PARTS", fake_parts())

    result = CliRunner().invoke(app, ["bench", "--markdown"])

    assert result.exit_code == 3
    table = result.stdout
    assert "| fine | throughput | 250 req/s | 1,000 req/s (/healthz) | 0.25× |" in table
    assert "| broken | — | FAILED |  |  | RuntimeError: wrk is missing |" in table
    assert "| later | throughput |" in table
    assert "stray print" not in table


def test_ratios_are_figure_over_reference_and_the_machine_heads_the_markdown() -> None:
    report = run_parts(fake_parts(), ["fine"], quick=True, progress=lambda line: None)

    (figure,) = report.figures
    assert figure.benchmark == "fine"
    assert figure.ratio == pytest.approx(0.25)
    text = markdown(report)
    assert f"{report.machine.cores} cores" in text.splitlines()[0]
    assert "| benchmark | measure | figure | reference (same run) | ratio | note |" in text


def test_the_suite_offers_every_benchmark_of_the_issue() -> None:
    assert list(PARTS) == ["platform", "population", "overhead", "detection", "processing", "master", "memory"]
