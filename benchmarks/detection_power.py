"""Benchmark: how much of what the platform injects the harness detects (the full detection drill).

For each documented defect alone at each rate (default 0.01 and 0.1), and for the seven together
at each rate, one campaign on the embedded platform derived from ``campaigns/smoke.yaml``: journey
weights favouring the journeys where the defect lives, no sticky shares, no background agents (an
agent working the queue hands cards over where no journey looks), no browser. Each results
folder is scored against its ledger (``checks.score``) and one table is printed: injected,
detected, recall, false detections, estimated against injected rate, time to first detection.

Durations are sized so that a defect at rate 0.1 fires at least 100 times on a two-core machine
(its eligible events per second were measured on one); the table says when it did not. ``--scale``
shortens every campaign (``--scale 0.2`` for a quick look), ``--parallel`` runs several at once.
The "all together" campaigns run every journey, address changes included: there, firings of
``procedure_not_selectable`` drawn while an address change lists the procedures are invisible to
the journeys (they look for the procedure they want, not for the others), so its recall is below 1.

    .venv/bin/python benchmarks/detection_power.py [--rates 0.01,0.1] [--defects all] [--scale 1]
        [--parallel 1] [--alone-only | --together-only] [--population 30000] [--keep DIR] [--json FILE] [--realistic]

``--realistic`` measures what users run instead: campaigns with every journey, the security probes
and background agents (whose actions are watched steps), each defect alone at each rate for three
minutes, and the seven together among generic noise (latency on 20 % of responses, 1 % of 502s,
e-mails held back a second); the table shows which firings were observable, which could not be
(with the reason) and which the harness acted on without watching.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich import box
from rich.console import Console
from rich.table import Table

from checks.defects import DETECTORS, DrillPlan
from checks.score import DefectScore, score
from contracts.faults import DOCUMENTED

ROOT = Path(__file__).resolve().parents[1]
ENOUGH = 100  # firings a defect at rate ≥ 0.1 should reach for its recall to mean something
ALL = "all together"
OVERRUN = 300.0  # seconds past its load after which a campaign is taken as stuck


# Where each documented defect lives (its journeys, its parameters, how long to run): declared with
# the defect (``checks.defects``). In the seven-together mix, eligible events are as few as 1.3 per
# second (handovers).
Plan = DrillPlan
PLANS: dict[str, Plan] = {name: declared.drill for name, declared in DETECTORS.items() if declared.drill is not None}
ALL_JOURNEYS = {
    "login": 2,
    "password_reset": 2,
    "renewal": 4,
    "upload": 1,
    "address_change": 2,
    "agent_request": 2,
    "card_handover": 2,
}
ALL_SECONDS = 600.0  # the rarest (handovers, agent requests) still fire fewer than 100 times at 0.1
# What users run (``--realistic``): every journey with the security probes, background agents working
# the queues (their actions watched like any step), 3-minute campaigns, and the seven together among
# generic noise. Shaped campaigns say what each detector can do; these say what a campaign catches.
REALISTIC_JOURNEYS = {**ALL_JOURNEYS, "security": 1}
REALISTIC_SECONDS = 180.0
REALISTIC_AGENTS = {"users": 2, "pace": {"actions_per_minute": 30, "complement_share": 0.2}}
NOISE = [
    {"id": "latency", "rate": 0.2, "params": {"mean_ms": 150, "jitter_ms": 50}},
    {"id": "http_error", "rate": 0.01, "params": {"status": 502}},
    {"id": "email_delay", "rate": 0.05, "params": {"delay_seconds": 1}},
]
POPULATION_SIZE = 30_000  # enough entitled applicants for the longest campaigns; shorter ones need fewer
POPULATION = {"shares": {"in_renewal_window": 0.6, "card_handed_over": 0.6, "email_bounces": 0.0}}


@dataclass
class Run:
    label: str
    rate: float
    defects: tuple[str, ...]
    seconds: float
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    wall: float = 0.0
    population: int = POPULATION_SIZE
    realistic: bool = False  # every journey, the security probes and background agents
    noise: bool = False  # generic faults beside the defects


def campaign_file(run: Run, journeys: dict[str, int]) -> Path:
    """``campaigns/smoke.yaml`` with this run's duration, population, journeys and settings."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "campaigns" / "smoke.yaml").read_text(encoding="utf-8"))
    data.update(
        name=run.folder.name.replace(".", "_").replace(" ", "-").lower()[:64],
        duration=f"{run.seconds:g}s",
        population={**data["population"], **copy.deepcopy(POPULATION), "size": run.population},
        journeys={name: journeys.get(name, 0) for name in (REALISTIC_JOURNEYS if run.realistic else ALL_JOURNEYS)},
        agents={**data["agents"], **REALISTIC_AGENTS} if run.realistic else {**data["agents"], "users": 0},
        browser={**data["browser"], "users": 0},
        journey_settings=(
            # As users run them: the shipped deadlines (15 s across the seam, 30 s for an e-mail), and
            # personas who may give up (their actions' effects are still watched).
            {**data["journey_settings"], "abandonment": True}
            if run.realistic
            else {**data["journey_settings"], "default_deadline": 4, "email_deadline": 4}
        ),
    )
    path = run.folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def fault_file(run: Run) -> Path:
    faults = []
    for defect in run.defects:
        params = PLANS[defect].params
        faults.append({"id": defect, "rate": run.rate, **({"params": params} if params else {})})
    if run.noise:
        faults += copy.deepcopy(NOISE)
    path = run.folder / "faults.yaml"
    path.write_text(yaml.safe_dump({"faults": faults}), encoding="utf-8")
    return path


def start(run: Run) -> None:
    run.folder.mkdir(parents=True, exist_ok=True)
    if run.realistic:
        journeys = REALISTIC_JOURNEYS
    else:
        journeys = PLANS[run.defects[0]].journeys if len(run.defects) == 1 else ALL_JOURNEYS
    command = [
        sys.executable,
        "-m",
        "anef_harness",
        "run",
        str(campaign_file(run, journeys)),
        "--faults",
        str(fault_file(run)),
        "--out",
        str(run.folder / "results"),
        "--quiet",
        "--metrics-port",
        "0",  # drills run side by side: each its own port
    ]
    with (run.folder / "run.log").open("wb") as log:
        run.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=dict(os.environ))
    run.started = time.monotonic()


def plan_runs(
    defects: list[str],
    rates: list[float],
    scale: float,
    root: Path,
    *,
    together: bool = True,
    population: int = POPULATION_SIZE,
    realistic: bool = False,
    alone: bool = True,
) -> list[Run]:
    if realistic:
        return realistic_runs(defects, rates, scale, root, together=together, population=population, alone=alone)
    runs = []
    for rate in rates:
        for defect in defects:
            seconds = max(20.0, round(PLANS[defect].seconds * scale))
            runs.append(Run(defect, rate, (defect,), seconds, root / f"{defect}-{rate:g}", population=population))
        if together and len(defects) > 1:
            seconds = max(20.0, round(ALL_SECONDS * scale))
            runs.append(Run(ALL, rate, tuple(defects), seconds, root / f"all-{rate:g}", population=population))
    return runs


def realistic_runs(
    defects: list[str],
    rates: list[float],
    scale: float,
    root: Path,
    *,
    together: bool,
    population: int,
    alone: bool = True,
) -> list[Run]:
    """Each defect alone at each rate, then the seven together among generic noise, in campaigns
    shaped like the users' (every journey, security probes, background agents)."""
    seconds = max(20.0, round(REALISTIC_SECONDS * scale))
    runs = []
    for rate in rates:
        for defect in defects if alone else ():
            folder = root / f"realistic-{defect}-{rate:g}"
            runs.append(Run(defect, rate, (defect,), seconds, folder, population=population, realistic=True))
        if together and len(defects) > 1:
            folder = root / f"realistic-all-{rate:g}"
            label = f"{ALL} + noise"
            together_run = Run(label, rate, tuple(defects), seconds, folder, population=population, realistic=True)
            together_run.noise = True
            runs.append(together_run)
    return runs


def execute(runs: list[Run], parallel: int, progress: Callable[[str], None]) -> None:
    """Run the campaigns, ``parallel`` at a time; one that overruns its load by ``OVERRUN`` is
    stopped (and fails when scored). Campaigns still running when this is interrupted are stopped."""
    waiting, running = list(runs), list[Run]()
    try:
        while waiting or running:
            while waiting and len(running) < parallel:
                run = waiting.pop(0)
                progress(f"  start {run.label} at {run.rate:g} ({run.seconds:g} s)")
                start(run)
                running.append(run)
            time.sleep(1.0)
            for run in list(running):
                assert run.process is not None
                if run.process.poll() is None and time.monotonic() - run.started > run.seconds + OVERRUN:
                    progress(f"  {run.label} at {run.rate:g}: still running {OVERRUN:g} s after its load; stopping it")
                    stop(run.process)
                if run.process.poll() is not None:
                    run.wall = time.monotonic() - run.started
                    running.remove(run)
                    progress(f"  done  {run.label} at {run.rate:g}: exit {run.process.returncode}, {run.wall:.0f} s")
    finally:
        for run in running:
            assert run.process is not None
            stop(run.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """As Ctrl-C does (the campaign keeps what ran), then a kill if it does not end."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class DetectionRow:
    """One defect's score in one campaign; ``injected_here`` is False for a detector that fired
    in a campaign that did not inject its defect (every detection it made is false)."""

    campaign: str
    rate: float
    seconds: float
    injected_here: bool
    score: DefectScore
    note: str


@dataclass(frozen=True)
class DetectionFigures:
    rows: tuple[DetectionRow, ...]
    campaigns: int
    load_seconds: float
    wall_seconds: float


def rows(run: Run) -> list[DetectionRow]:
    results = run.folder / "results"
    assert run.process is not None
    if run.process.returncode not in (0, 1) or not (results / "ledger.json").is_file():
        log = (run.folder / "run.log").read_text(encoding="utf-8", errors="replace")[-2000:]
        raise DetectionError(f"{run.label} at {run.rate:g} failed (exit {run.process.returncode}):\n{log}")
    scored = score(results)
    shown = [d for d in scored.defects.values() if d.defect in run.defects or d.detected or d.injected]
    return [
        DetectionRow(f"{run.label} @ {run.rate:g}", run.rate, run.seconds, d.defect in run.defects, d, note(run, d))
        for d in shown
    ]


class DetectionError(RuntimeError):
    """A campaign did not end with a results folder to score."""


def measure(
    defects: list[str],
    rates: list[float],
    *,
    scale: float = 1.0,
    parallel: int = 1,
    together: bool = True,
    population: int = POPULATION_SIZE,
    keep: Path | None = None,
    progress: Callable[[str], None] | None = None,
    realistic: bool = False,
    alone: bool = True,
) -> DetectionFigures:
    """Run every campaign (each defect alone at each rate, and all of them together unless
    ``together`` is False) and score each against its ledger."""
    progress = progress or to_stderr
    unknown = sorted(set(defects) - set(DOCUMENTED))
    if unknown:
        raise ValueError(f"unknown defects {', '.join(unknown)}; expected {', '.join(DOCUMENTED)}")
    with tempfile.TemporaryDirectory(prefix="detection-power-") as scratch:
        root = keep or Path(scratch)
        runs = plan_runs(
            defects, rates, scale, root, together=together, population=population, realistic=realistic, alone=alone
        )
        load = sum(r.seconds for r in runs)
        progress(f"  {len(runs)} campaigns, {load / 60:.0f} min of load in all, {max(1, parallel)} at a time")
        began = time.monotonic()
        execute(runs, max(1, parallel), progress)
        scored = tuple(row for run in runs for row in rows(run))
    return DetectionFigures(scored, len(runs), load, time.monotonic() - began)


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def note(run: Run, result: DefectScore) -> str:
    notes = []
    if result.defect in run.defects and run.rate >= 0.1 and result.injected < ENOUGH:
        notes.append(f"fired {result.injected} < {ENOUGH} times")
    if result.defect not in run.defects:
        notes.append("not injected")
    if result.confused_with:
        notes.append("confused with " + ", ".join(f"{k} ×{v}" for k, v in result.confused_with.items()))
    if result.after_load:
        notes.append(f"{result.after_load} after the load")
    notes += [f"unobservable ×{count}: {reason}" for reason, count in result.unobservable.items()]
    return "; ".join(notes)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def table(figures: DetectionFigures) -> tuple[Table, list[dict[str, Any]]]:
    out = Table(title="Detection power: detections against the fault ledger", box=box.SIMPLE_HEAVY)
    columns = ("campaign", "defect", "injected", "observable", "detected", "recall", "unobs.", "unwatched", "false")
    for name in (*columns, "est. rate", "95 % CI", "inj. rate", "realized", "rate error", "TTFD"):
        out.add_column(name, justify="left" if name in ("campaign", "defect") else "right")
    out.add_column("note")
    records = []
    for row in figures.rows:
        result = row.score
        ttfd = result.time_to_first_detection_s
        out.add_row(
            row.campaign,
            result.defect,
            str(result.injected),
            str(result.observable),
            str(result.matched),
            pct(result.recall_observable),
            str(sum(result.unobservable.values())),
            str(result.unwatched),
            str(result.false_detections),
            pct(result.estimated_rate),
            "—" if result.estimated_rate_ci is None else "–".join(pct(bound) for bound in result.estimated_rate_ci),
            pct(result.injected_rate) if result.injected_rate is not None else str(result.injected_rate_note),
            pct(result.realized_rate),
            rate_error(result),
            f"{ttfd:.1f} s" if ttfd is not None else "—",
            row.note,
        )
        records.append({"campaign": row.campaign, "seconds": row.seconds, **result.to_json(), "defect": result.defect})
    return out, records


def rate_error(result: DefectScore) -> str:
    """The estimated rate's relative error against the configured one."""
    if result.estimated_rate is None or not result.injected_rate:
        return "—"
    return f"{(result.estimated_rate - result.injected_rate) / result.injected_rate:+.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="0.01,0.1", help="comma-separated fault rates")
    parser.add_argument("--defects", default="all", help="comma-separated defect ids, or 'all'")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every campaign's duration")
    parser.add_argument("--parallel", type=int, default=1, help="campaigns at once (2 cores: 1 or 2)")
    parser.add_argument("--population", type=int, default=POPULATION_SIZE, help="applicants per campaign")
    parser.add_argument("--alone-only", action="store_true", help="skip the campaigns with every defect together")
    parser.add_argument(
        "--together-only", action="store_true", help="with --realistic: only the campaigns with every defect together"
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="campaigns as users run them: every journey, security probes, background agents, 3 minutes; "
        "the seven together among generic noise",
    )
    parser.add_argument("--keep", type=Path, help="keep the results folders here")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    defects = list(DOCUMENTED) if args.defects == "all" else args.defects.split(",")
    unknown = set(defects) - set(DOCUMENTED)
    if unknown:
        parser.error(f"--defects: unknown {', '.join(sorted(unknown))}; expected {', '.join(DOCUMENTED)}")
    if args.together_only and (args.alone_only or not args.realistic):
        parser.error("--together-only: needs --realistic, and not --alone-only")
    rates = [float(r) for r in args.rates.split(",")]
    console = Console(width=None if sys.stdout.isatty() else 200)
    try:
        figures = measure(
            defects,
            rates,
            scale=args.scale,
            parallel=args.parallel,
            together=not args.alone_only,
            alone=not args.together_only,
            population=args.population,
            keep=args.keep,
            realistic=args.realistic,
        )
    except DetectionError as error:
        sys.exit(str(error))
    shown, records = table(figures)
    console.print(shown)
    console.print(f"wall time {figures.wall_seconds / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
