"""Judging ten million step events: time and peak memory of summary, SLO evaluation and gate.

Generates a synthetic results folder (two worker files, every shipped step, a realistic mix of
outcomes with evidence on failures, journey events) and times, in a child process so that peak
memory is its own: the evaluation (per-step figures with exact percentiles, every SLO of
``slos/anef.yaml``, defect detectors on failures, the funnel, rights at risk) and the gate (JUnit).
Aim: at most 12 s and 600 MB for 10 million events (issue 14). ``--baseline N`` also times the plain-Python
way on the first N events (``json.loads`` per line, outcome counts and p95 per step; no SLOs, no
detectors), a lower bound of what judging without DuckDB would cost.

    .venv/bin/python benchmarks/processing.py [--events 10000000] [--baseline 0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
AIM_S, AIM_MB = 12, 600  # for 10 million events (issue 14)


FAILURES = (
    ("lost", ',"message":"not visible","evidence":{"dossier":"%032x","waiting_for":"documents %032x"}'),
    ("blocked", ',"status":409,"message":"refused","evidence":{"code":"request_in_progress"}'),
    ("error", ',"status":500,"message":"500 http_500: boom","evidence":{}'),
)


def generate(folder: Path, events: int, *, seed: int = 1) -> float:
    """Write ``events`` step events (and one journey event per 5 steps) in two worker files, one
    process each; returns seconds taken."""
    from anef_harness.campaign import load_campaign, resolved_yaml
    from scenarios.journeys import known_steps
    from scenarios.manifest import new_manifest

    started = time.perf_counter()
    campaign = load_campaign(ROOT / "campaigns" / "smoke.yaml")
    (folder / "events").mkdir(parents=True, exist_ok=True)
    (folder / "campaign.yaml").write_text(resolved_yaml(campaign), encoding="utf-8")
    manifest = new_manifest(campaign="processing-benchmark", status="complete")
    (folder / "manifest.json").write_text(manifest.json_text(), encoding="utf-8")
    steps = sorted(known_steps())
    jobs = [(folder / "events" / f"worker-{worker}.jsonl", worker, events // 2, steps, seed) for worker in range(2)]
    with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(write_worker, *zip(*jobs, strict=True)))
    return time.perf_counter() - started


def write_worker(path: Path, worker: int, count: int, steps: list[str], seed: int) -> None:
    """One worker's events file: ``count`` step events, a realistic mix of outcomes."""
    rng = random.Random(seed * 2 + worker)
    journeys = [step.split(".", 1)[0] for step in steps]
    who = f'"worker":"worker-{worker}","channel":"api"'
    with path.open("w", encoding="utf-8", buffering=1 << 22) as out:
        t = 1.79e9
        lines = []
        for i in range(count):
            t += 0.0005
            step, journey = steps[i % len(steps)], journeys[i % len(steps)]
            applicant = (i * 2 + worker) % 3000
            extra, outcome = "", "ok"
            if rng.random() < 0.02:
                outcome, template = FAILURES[i % 3]
                extra = template % (i, i) if "%032x" in template else template
            duration = rng.lognormvariate(3.3, 0.6)
            lines.append(
                f'{{"kind":"step","time":{t:.6f},"journey":"{journey}","step":"{step}","outcome":"{outcome}",'
                f'"duration_ms":{duration:.3f},"journey_id":"{worker}-{i // 5:x}",{who},'
                f'"applicant":{applicant},"attempt":1{extra}}}'
            )
            if i % 5 == 4:
                lines.append(
                    f'{{"kind":"journey","time":{t:.6f},"journey":"{journey}","journey_id":"{worker}-{i // 5:x}",'
                    f'"outcome":"{"failed" if outcome != "ok" else "ok"}","duration_ms":{duration * 5:.3f},'
                    f'{who},"applicant":{applicant},'
                    f'"failed_step":{json.dumps(step) if outcome != "ok" else "null"},"lag_ms":0}}'
                )
            if len(lines) >= 100_000:
                out.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            out.write("\n".join(lines) + "\n")


def measure(folder: Path) -> dict[str, float]:
    """In this (child) process: time each phase; peak RSS at the end."""
    from checks.evaluate import evaluate, write_summary
    from checks.junit import write_junit
    from checks.slo import default_slo_path, load_slos

    objectives = load_slos(default_slo_path())
    started = time.perf_counter()
    summary = evaluate(folder, objectives)
    evaluated = time.perf_counter()
    write_summary(folder, summary)
    write_junit(summary, folder / "junit.xml")
    gated = time.perf_counter()
    return {
        "evaluate_s": evaluated - started,
        "gate_s": gated - evaluated,
        "slos": float(len(summary.slos)),
        "steps": float(sum(s.total for s in summary.steps.values())),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


@dataclass(frozen=True)
class ProcessingFigures:
    """Judging ``events`` step events, and the plain-Python baseline on the first ``baseline_events``."""

    events: int
    json_bytes: int
    generate_s: float
    evaluate_s: float
    gate_s: float
    slos: int
    steps_read: int
    peak_mb: float
    baseline_events: int
    baseline_s: float

    @property
    def judge_s(self) -> float:
        return self.evaluate_s + self.gate_s

    @property
    def events_per_s(self) -> float:
        return self.events / self.judge_s

    @property
    def baseline_events_per_s(self) -> float:
        return self.baseline_events / self.baseline_s if self.baseline_s else 0.0


def naive_summary(folder: Path, limit: int) -> dict[str, tuple[int, int, float]]:
    """The plain-Python way, for comparison: ``json.loads`` every line of the first ``limit`` step
    events, count outcomes per step and sort durations for p95 (no SLOs, no detectors, no funnel).
    Returns {step: (total, failed, p95 ms)}."""
    durations: dict[str, list[float]] = {}
    failed: dict[str, int] = {}
    seen = 0
    for path in sorted((folder / "events").glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                event = json.loads(line)
                if event["kind"] != "step":
                    continue
                durations.setdefault(event["step"], []).append(event["duration_ms"])
                if event["outcome"] != "ok":
                    failed[event["step"]] = failed.get(event["step"], 0) + 1
                seen += 1
                if seen >= limit:
                    break
        if seen >= limit:
            break
    summary = {}
    for step, values in durations.items():
        values.sort()
        summary[step] = (len(values), failed.get(step, 0), values[min(len(values) - 1, int(len(values) * 0.95))])
    return summary


def run(events: int, *, baseline_events: int = 0, keep: Path | None = None) -> ProcessingFigures:
    """Generate ``events`` step events, judge them in a child process (its peak memory is its own),
    then time the plain-Python baseline on the first ``baseline_events`` of them (0: none)."""
    folder = keep or Path(tempfile.mkdtemp(prefix="anef-processing-"))
    try:
        generated = generate(folder, events)
        size = sum(p.stat().st_size for p in (folder / "events").glob("*.jsonl"))
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.processing", "--measure", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise RuntimeError(f"the judging process exited with {child.returncode}: {child.stderr.strip()[-500:]}")
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        baseline_s = 0.0
        if baseline_events:
            started = time.perf_counter()
            naive_summary(folder, baseline_events)
            baseline_s = time.perf_counter() - started
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return ProcessingFigures(
        events=events,
        json_bytes=size,
        generate_s=generated,
        evaluate_s=figures["evaluate_s"],
        gate_s=figures["gate_s"],
        slos=int(figures["slos"]),
        steps_read=int(figures["steps"]),
        peak_mb=figures["peak_mb"],
        baseline_events=min(baseline_events, events),
        baseline_s=baseline_s,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--baseline", type=int, default=0, help="also time json.loads on the first N events")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's entry
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    result = run(args.events, baseline_events=args.baseline, keep=args.keep)
    table = Table(
        title=f"Judging {args.events:,} step events ({result.json_bytes / 1e9:.2f} GB of JSON Lines)",
        title_justify="left",
    )
    for column in ("phase", "seconds", "note"):
        table.add_column(column)
    table.add_row("generate (not judged)", f"{result.generate_s:.1f}", "synthetic events, two worker files")
    table.add_row(
        "summary + SLOs + detectors + funnel + rights",
        f"{result.evaluate_s:.1f}",
        f"{result.slos} SLOs, {result.steps_read:,} steps read",
    )
    table.add_row("gate (summary.json, junit.xml)", f"{result.gate_s:.2f}", "")
    table.add_row("peak memory of the judging process", f"{result.peak_mb:.0f} MB", f"aim: at most {AIM_MB} MB")
    if result.baseline_events:
        table.add_row(
            f"baseline: json.loads, counts and p95 on {result.baseline_events:,} events",
            f"{result.baseline_s:.1f}",
            f"{result.baseline_events_per_s:,.0f} events/s against {result.events_per_s:,.0f} judged",
        )
    console = Console()
    console.print(table)
    console.print(f"machine: {os.cpu_count()} CPUs; aim: at most {AIM_S} s in total for 10 M events")


if __name__ == "__main__":
    main()
