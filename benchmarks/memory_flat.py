"""Benchmark: does a long campaign's load keep a flat resident memory?

Runs a campaign as users run it (``anef-harness run``, one Locust process by default as the command
does without ``--workers``): ``campaigns/smoke.yaml`` lengthened, with every journey (the security
probes included), background agents, a population of 30,000, the smoke file's compressed think
times, no browser (``--browser``: one Chromium user beside the protocol load). Every few seconds it
reads the resident memory (RSS, and USS: the pages no other process shares) of every process of the
run, told apart by command line and parent chain (``benchmarks.memory.samples``). For each process
it prints the RSS at the first mark (minute 2) and at the end of the load (minute 10), the growth, the
peak, and a verdict: a harness process whose RSS grows by 10 % or more between the marks fails. The
embedded platform, the system under test, is shown and not judged. Journeys done by each mark say
that the run worked all along.

    .venv/bin/python benchmarks/memory_flat.py [--minutes 10] [--mark 2] [--interval 5] [--workers 0]
        [--browser] [--population 30000] [--keep DIR] [--json FILE]

Exit 0 when every harness process stays under the bound, 1 when one grows past it, 2 when the run
could not be measured (the campaign failed to start or ended early).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from rich import box
from rich.console import Console
from rich.table import Table

from benchmarks.memory.samples import BOUND, Growth, Sampler, growth

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "campaigns" / "smoke.yaml"
POPULATION = 30_000  # enough entitled applicants for ten minutes of renewals; a real campaign's order
USERS = 12  # the smoke file's
OVERRUN = 300.0  # seconds past the load after which the run is taken as stuck and stopped


class MemoryBenchmarkError(Exception):
    """The campaign could not be measured; the message says why and where its log is."""


@dataclass(frozen=True)
class MemoryFigures:
    """Every process's row, and what the run did."""

    rows: tuple[Growth, ...]
    minutes: float
    mark_s: float
    interval_s: float
    window_s: float
    workers: int
    browser: bool
    journeys_by_mark: int
    journeys_by_end: int
    exit_code: int | None
    samples: int

    @property
    def failed(self) -> list[Growth]:
        return [row for row in self.rows if row.failed]

    def to_json(self) -> dict[str, Any]:
        rows = [{**asdict(row), "growth": row.growth, "failed": row.failed} for row in self.rows]
        return {**{k: v for k, v in asdict(self).items() if k != "rows"}, "bound": BOUND, "rows": rows}


def campaign_file(folder: Path, *, seconds: float, population: int, browser: bool) -> Path:
    """``campaigns/smoke.yaml`` lengthened: every journey, background agents, no browser unless asked."""
    from benchmarks.detection_power import REALISTIC_AGENTS, REALISTIC_JOURNEYS
    from scenarios.journeys import load_all

    data: dict[str, Any] = yaml.safe_load(SMOKE.read_text(encoding="utf-8"))
    journeys = {name: REALISTIC_JOURNEYS.get(name, 1) for name, found in load_all().items() if not found.background}
    data.update(
        name="memory-flat",
        description="benchmarks/memory_flat.py: a long campaign with every journey, for its memory",
        duration=f"{seconds:g}s",
        population={**data["population"], "size": population},
        journeys=journeys,
        agents={**data["agents"], **REALISTIC_AGENTS},
        browser={**data["browser"], "users": 1 if browser else 0},
        journey_settings={**data["journey_settings"], "abandonment": True},
    )
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def measure(
    *,
    minutes: float,
    mark_minutes: float,
    interval: float,
    folder: Path,
    window: float = 60.0,
    workers: int = 0,
    browser: bool = False,
    population: int = POPULATION,
    progress: Callable[[str], None],
) -> MemoryFigures:
    """Run the campaign in ``folder``, sample every ``interval`` seconds, and make the rows (each
    figure the median of the samples within ``window / 2`` seconds of its mark)."""
    seconds, mark = minutes * 60, mark_minutes * 60
    if not 0 < mark < seconds:
        raise MemoryBenchmarkError(f"the mark ({mark:g} s) must fall inside the load (0 to {seconds:g} s)")
    campaign = campaign_file(folder, seconds=seconds, population=population, browser=browser)
    command = [sys.executable, "-m", "anef_harness", "run", str(campaign), "--out", str(folder / "results")]
    command += ["--quiet", "--metrics-port", "0", "--workers", str(workers)]
    log = folder / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=dict(os.environ))
    sampler = Sampler(process.pid)
    count = 0
    try:
        count = _sample(sampler, process, seconds=seconds, interval=interval, progress=progress)
    finally:
        _stop(process)
    if sampler.load_began is None:
        raise MemoryBenchmarkError(f"the campaign's load never started (exit {process.returncode}); see {log}")
    began = sampler.load_began
    rows = tuple(
        growth(series, began=began, mark=mark, end=seconds, window=window, slack=2 * interval + 1)
        for series in sampler.series.values()
    )
    by_mark, by_end = journeys_done(folder / "results", time.time() - (time.monotonic() - began), (mark, seconds))
    return MemoryFigures(
        rows=rows,
        minutes=minutes,
        mark_s=mark,
        interval_s=interval,
        window_s=window,
        workers=workers,
        browser=browser,
        journeys_by_mark=by_mark,
        journeys_by_end=by_end,
        exit_code=process.returncode,
        samples=count,
    )


def _sample(
    sampler: Sampler,
    process: subprocess.Popen[bytes],
    *,
    seconds: float,
    interval: float,
    progress: Callable[[str], None],
) -> int:
    """Sample until the load is over (or the run ended); the number of samples taken."""
    count, shown = 0, -1
    start = time.monotonic()
    while process.poll() is None and sampler.sample(now := time.monotonic()):
        count += 1
        loaded = now - sampler.load_began if sampler.load_began is not None else None
        if loaded is None and now - start > OVERRUN:
            raise MemoryBenchmarkError(f"no Locust process {OVERRUN:g} s after the start")
        if loaded is not None:
            if loaded > seconds + interval:
                break  # what follows is judging, not load
            if int(loaded // 60) != shown:
                shown = int(loaded // 60)
                sizes = ", ".join(f"{s.role} {s.samples[-1].rss / 2**20:.0f} MB" for s in sampler.series.values())
                progress(f"  minute {shown}: RSS {sizes}")
        time.sleep(max(0.0, interval - (time.monotonic() - now)))
    return count


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Let the run judge and end by itself; stop it as Ctrl-C does if it overruns."""
    try:
        process.wait(timeout=OVERRUN)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def journeys_done(results: Path, began: float, marks: tuple[float, ...]) -> tuple[int, ...]:
    """Journeys ended by each mark (seconds of load), read from the run's events."""
    from checks.results import read_events
    from scenarios.events import JourneyEvent

    ends = [
        event.time + event.duration_ms / 1000 - began
        for event in read_events(results)
        if isinstance(event, JourneyEvent)
    ]
    return tuple(sum(1 for end in ends if end <= mark) for mark in marks)


def megabytes(value: int | None) -> str:
    return "—" if value is None else f"{value / 2**20:,.1f}"


def table(figures: MemoryFigures) -> Table:
    mark = f"{figures.mark_s / 60:g}"
    end = f"{figures.minutes:g}"
    out = Table(
        title=f"Resident memory of a {figures.minutes:g}-minute campaign's processes (MB)",
        caption=f"journeys done by minute {mark}: {figures.journeys_by_mark:,}; by minute {end}: "
        f"{figures.journeys_by_end:,}; a sample every {figures.interval_s:g} s, each figure the median of "
        f"{figures.window_s:g} s around its minute; "
        f"bound: growth < {BOUND:.0%}",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    columns = ("process", f"RSS min {mark}", f"RSS min {end}", "growth", "peak", f"USS min {mark}", f"USS min {end}")
    for column in columns:
        out.add_column(column, justify="left" if column == "process" else "right")
    out.add_column("verdict")
    for row in figures.rows:
        name = row.role + (f" ({row.processes} processes)" if row.processes > 1 else "")
        verdict = "shown, not judged" if not row.judged else (f"FAIL: {row.failed}" if row.failed else "pass")
        out.add_row(
            name,
            megabytes(row.rss_from),
            megabytes(row.rss_end),
            "—" if row.growth is None else f"{row.growth:+.1%}",
            megabytes(row.peak),
            megabytes(row.uss_from),
            megabytes(row.uss_end),
            verdict,
            style="red" if row.failed else None,
        )
    return out


def progress_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--mark", type=float, default=2.0, help="minute of the first mark (growth is from there)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two samples")
    parser.add_argument("--window", type=float, default=60.0, help="seconds around each mark whose median is taken")
    parser.add_argument("--workers", type=int, default=0, help="Locust workers (0: one process, as `run` does)")
    parser.add_argument("--browser", action="store_true", help="one Chromium user beside the protocol load")
    parser.add_argument("--population", type=int, default=POPULATION, help="applicants seeded")
    parser.add_argument("--keep", type=Path, help="keep the run's folder here (default: removed)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="anef-harness-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        figures = measure(
            minutes=args.minutes,
            mark_minutes=args.mark,
            interval=args.interval,
            window=args.window,
            folder=folder,
            workers=args.workers,
            browser=args.browser,
            population=args.population,
            progress=progress_to_stderr,
        )
    except MemoryBenchmarkError as error:
        print(f"memory_flat: {error} (folder kept: {folder})", file=sys.stderr)
        sys.exit(2)
    Console(width=None if sys.stdout.isatty() else 200).print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures.to_json(), indent=1), encoding="utf-8")
    if args.keep is None:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
    sys.exit(1 if figures.failed else 0)


if __name__ == "__main__":
    main()
