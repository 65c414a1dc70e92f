"""Benchmark: how many events per second one master receives, validates, writes and acknowledges.

A campaign's master (``anef-harness run --expect-workers N``) takes every worker's events over Locust's
channel (``scenarios.relay``, ``scenarios.channel``): for each batch it decodes every line against the
event model, appends the new bytes to ``events/{worker}.jsonl`` and acknowledges the offset. This runs
that code, unchanged, in a master process of its own, and feeds it from N simulated workers (greenlets
of one process, each with its own channel socket, Locust's heartbeats and the harness's ``Relay``)
appending real event lines to their spools at increasing rates. For each N and each rate it prints the
events/s offered and acknowledged, the master's CPU, the lag from append to acknowledgement, and the
backlog; a level saturates when the master's core is full or the acknowledgements fall behind (the
backlog grows, the lag passes 2 s). The rates go up until a level saturates.

The simulated workers share the machine with the master: their own CPU is printed beside it, and a
level that saturates them rather than the master says so.

    .venv/bin/python benchmarks/master_capacity.py [--workers 1,4,16,48] [--totals 2000,5000,...] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.capacity.levels import Level, saturation

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGN = ROOT / "campaigns" / "smoke.yaml"  # sent to each worker as text; only its size matters here
WORKERS = (1, 4, 16, 48)
TOTALS = (2_000, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000)  # events/s, all workers together


class CapacityError(Exception):
    """A process of the benchmark failed; the message says which and how its log ends."""


@dataclass(frozen=True)
class Capacity:
    """Every level of every number of workers, in the order they ran."""

    levels: tuple[Level, ...]
    seconds: float

    def of(self, workers: int) -> list[Level]:
        return [level for level in self.levels if level.workers == workers]

    @property
    def workers(self) -> list[int]:
        return sorted({level.workers for level in self.levels})

    def sustained(self, workers: int) -> Level | None:
        """The highest level these workers ran without saturating anything."""
        fine = [level for level in self.of(workers) if not saturation(level)]
        return max(fine, key=lambda level: level.acknowledged, default=None)

    def saturated(self, workers: int) -> Level | None:
        return next((level for level in self.of(workers) if saturation(level)), None)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    from anef_harness.processes import free_port as port

    return port()


def run_workers(count: int, totals: Sequence[float], seconds: float, folder: Path) -> list[Level]:
    """One master, ``count`` simulated workers, the rates in turn; the master is stopped after."""
    here = folder / f"workers-{count}"
    (here / "spools").mkdir(parents=True)
    port, log = free_port(), (here / "master.log").open("w")
    roles = [sys.executable, "-m", "benchmarks.capacity.roles"]
    master = subprocess.Popen(
        [*roles, "master", str(port), str(here / "results"), str(CAMPAIGN), str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert master.stdout is not None
        if master.stdout.readline().strip() != "ready":
            raise CapacityError(f"the master did not start; its log: {(here / 'master.log').read_text()[-800:]}")
        out = here / "levels.json"
        rates = ",".join(f"{total / count:g}" for total in totals)
        done = subprocess.run(
            [
                *roles,
                "workers",
                str(port),
                str(count),
                rates,
                f"{seconds:g}",
                str(master.pid),
                str(here / "spools"),
                str(out),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60 + len(totals) * (seconds + 2) * 2,
        )
        if not out.exists():
            raise CapacityError(f"the simulated workers ({count}) failed: {done.stderr[-800:]}")
        return [Level(**level) for level in json.loads(out.read_text())]
    finally:
        master.terminate()
        master.wait(timeout=10)
        log.close()


def measure(
    *,
    workers: Sequence[int] = WORKERS,
    totals: Sequence[float] = TOTALS,
    seconds: float = 3.0,
    folder: Path,
    progress: Callable[[str], None] = progress,
) -> Capacity:
    levels: list[Level] = []
    for count in workers:
        measured = run_workers(count, totals, seconds, folder)
        for level in measured:
            why = saturation(level)
            progress(
                f"  {count} workers, {level.offered:,.0f} events/s offered: {level.acknowledged:,.0f} acknowledged, "
                f"master CPU {level.master_cpu:.0f} %, lag p95 {level.lag_p95_s:.2f} s"
                + (f"; saturated: {why}" if why else "")
            )
        levels.extend(measured)
    return Capacity(tuple(levels), seconds)


def render(capacity: Capacity) -> str:
    header = (
        f"{'workers':>7} {'offered/s':>10} {'acked/s':>10} {'master CPU':>10} {'workers CPU':>11} "
        f"{'lag p50':>8} {'lag p95':>8} {'backlog':>9}  saturated"
    )
    lines = [f"Master capacity: {capacity.seconds:g} s per level; CPU in % of one core", header]
    for level in capacity.levels:
        lines.append(
            f"{level.workers:>7} {level.offered:>10,.0f} {level.acknowledged:>10,.0f} {level.master_cpu:>9.0f}% "
            f"{level.workers_cpu:>10.0f}% {level.lag_p50_s:>7.2f}s {level.lag_p95_s:>7.2f}s {level.backlog_end:>9,}  "
            f"{saturation(level) or '-'}"
        )
    for count in capacity.workers:
        best, limit = capacity.sustained(count), capacity.saturated(count)
        said = (
            f"{count} workers: sustained {best.acknowledged:,.0f} events/s"
            if best
            else f"{count} workers: none sustained"
        )
        if best:
            said += f" (master CPU {best.master_cpu:.0f} %)"
        said += f"; saturated at {limit.offered:,.0f} offered ({saturation(limit)})" if limit else "; never saturated"
        lines.append(said)
    return "\n".join(lines) + "\n"


def numbers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected whole numbers ≥ 1, got {text!r}")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=numbers, default=list(WORKERS), help="numbers of simulated workers")
    parser.add_argument("--totals", type=numbers, default=list(TOTALS), help="events/s offered, all workers together")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per level; default 3")
    options = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="anef-harness-master-"))
    try:
        capacity = measure(workers=options.workers, totals=options.totals, seconds=options.seconds, folder=folder)
    except (CapacityError, subprocess.TimeoutExpired) as error:
        print(f"master_capacity: {error}\n(files kept in {folder})", file=sys.stderr)
        return 3
    shutil.rmtree(folder, ignore_errors=True)
    print(render(capacity), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
