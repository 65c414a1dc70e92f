"""Judging ten million step events: time and peak memory of summary, SLO evaluation and gate.

Generates a synthetic results folder (two worker files, every shipped step, a realistic mix of
outcomes with evidence on failures, journey events) and times, in a child process so that peak
memory is its own: the evaluation (per-step figures with exact percentiles, every SLO of
``slos/anef.yaml``, defect detectors on failures, the funnel, rights at risk) and the gate (JUnit).
Aim: under 30 s and under 1 GB for 10 million events.

    .venv/bin/python benchmarks/processing.py [--events 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(folder: Path, events: int, *, seed: int = 1) -> float:
    """Write ``events`` step events (and one journey event per 5 steps); returns seconds taken."""
    from anef_harness.campaign import load_campaign, resolved_yaml
    from checks.store import RESULTS_FORMAT
    from scenarios.journeys import known_steps

    started = time.perf_counter()
    campaign = load_campaign(ROOT / "campaigns" / "smoke.yaml")
    (folder / "events").mkdir(parents=True, exist_ok=True)
    (folder / "campaign.yaml").write_text(resolved_yaml(campaign), encoding="utf-8")
    manifest = {"format": RESULTS_FORMAT, "campaign": "processing-benchmark", "status": "complete"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    steps = sorted(known_steps())
    rng = random.Random(seed)
    failures = [
        ("lost", ',"message":"not visible","evidence":{"dossier":"%032x","waiting_for":"documents %032x"}'),
        ("blocked", ',"status":409,"message":"refused","evidence":{"code":"request_in_progress"}'),
        ("error", ',"status":500,"message":"500 http_500: boom","evidence":{}'),
    ]
    per_file = events // 2
    for worker in range(2):
        with (folder / "events" / f"worker-{worker}.jsonl").open("w", encoding="utf-8", buffering=1 << 22) as out:
            t = 1.79e9
            lines = []
            for i in range(per_file):
                t += 0.0005
                step = steps[i % len(steps)]
                journey = step.split(".", 1)[0]
                applicant = (i * 2 + worker) % 3000
                extra, outcome = "", "ok"
                if rng.random() < 0.02:
                    outcome, template = failures[i % 3]
                    extra = template % (i, i) if "%032x" in template else template
                duration = rng.lognormvariate(3.3, 0.6)
                lines.append(
                    f'{{"kind":"step","time":{t:.6f},"journey":"{journey}","step":"{step}","outcome":"{outcome}",'
                    f'"duration_ms":{duration:.3f},"journey_id":"{worker}-{i // 5:x}","worker":"worker-{worker}",'
                    f'"channel":"api","applicant":{applicant},"attempt":1{extra}}}'
                )
                if i % 5 == 4:
                    lines.append(
                        f'{{"kind":"journey","time":{t:.6f},"journey":"{journey}","journey_id":"{worker}-{i // 5:x}",'
                        f'"outcome":"{"failed" if outcome != "ok" else "ok"}","duration_ms":{duration * 5:.3f},'
                        f'"worker":"worker-{worker}","channel":"api","applicant":{applicant},'
                        f'"failed_step":{json.dumps(step) if outcome != "ok" else "null"},"lag_ms":0}}'
                    )
                if len(lines) >= 100_000:
                    out.write("\n".join(lines) + "\n")
                    lines = []
            if lines:
                out.write("\n".join(lines) + "\n")
    return time.perf_counter() - started


def measure(folder: Path) -> dict[str, float]:
    """In this (child) process: time each phase; peak RSS at the end."""
    from checks.evaluate import evaluate, write_summary
    from checks.gate import write_junit
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
        "steps": float(sum(s["total"] for s in summary.steps.values())),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's entry
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="anef-processing-"))
    try:
        generated = generate(folder, args.events)
        size = sum(p.stat().st_size for p in (folder / "events").glob("*.jsonl"))
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(folder)], capture_output=True, text=True, check=True
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    table = Table(
        title=f"Judging {args.events:,} step events ({size / 1e9:.2f} GB of JSON Lines)", title_justify="left"
    )
    for column in ("phase", "seconds", "note"):
        table.add_column(column)
    table.add_row("generate (not judged)", f"{generated:.1f}", "synthetic events, two worker files")
    table.add_row(
        "summary + SLOs + detectors + funnel + rights",
        f"{figures['evaluate_s']:.1f}",
        f"{int(figures['slos'])} SLOs, {int(figures['steps']):,} steps read",
    )
    table.add_row("gate (summary.json, junit.xml)", f"{figures['gate_s']:.2f}", "")
    table.add_row("peak memory of the judging process", f"{figures['peak_mb']:.0f} MB", "aim: under 1,024 MB")
    console = Console()
    console.print(table)
    console.print(f"machine: {os.cpu_count()} CPUs; aim: under 30 s in total")


if __name__ == "__main__":
    main()
