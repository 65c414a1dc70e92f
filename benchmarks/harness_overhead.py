"""Benchmark: what the harness's journey machinery costs against bare Locust, and Locust against wrk.

Prints, side by side in one run on this machine:
1. the load generators' CPU per request against a canned platform that is never the limit
   (``benchmarks/overhead/canned.py``: the real platform's answers to the login journey, recorded
   at the start of the run and replayed): the ``login`` journey run by the harness itself
   (``ApplicantUser``, ``LocustTransport``, ``run_journey`` and its steps, the client, the oracle,
   the event log) against a bare Locust ``FastHttpUser`` sending the same three requests
   (``bare_locustfile.py``), both processes at the same time over the same measured seconds (so
   that what else the machine runs weighs on both alike), ``--canned-rounds`` times; their ratio
   and its spread over the rounds is the harness's own cost (target: ≤ 1.10×);
2. the same two sides against the real embedded platform (one uvicorn worker, SQLite, seeded
   with a synthetic population): requests/s, p50 and p95 and their ratio (target: harness / bare
   ≥ 0.85); the platform is the limit there, so CPU per request moves with the throughput;
3. requests/s of a bare Locust user looping on ``GET /healthz`` and of ``wrk`` with as many
   connections, and their ratio.

Every measure is its own process, run for ``--seconds`` after a warm-up whose statistics are
dropped; only HTTP requests count (not the harness's ``STEP`` entries). Against the real platform,
rounds alternate which side goes first (ABBA), so a platform drifting over the run favours
neither; against the canned one, the two sides of a round run at the same time. Load generator and
platform share this machine's cores, so the CPU columns (% of one core, over the measured
window) tell which side was saturated, i.e. what a ratio actually measures.

    .venv/bin/python benchmarks/harness_overhead.py [--users 20] [--seconds 20] [--rounds 2] [--canned-rounds 4]
        [--warmup 3] [--population 2000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from anef_harness.embedded import EmbeddedTarget
from benchmarks.overhead.canned import CannedPlatform, record
from benchmarks.overhead.measures import BenchmarkError, Measure, Results
from benchmarks.overhead.report import POPULATION_SIZE, render
from benchmarks.overhead.sides import CANNED, PAIRS, SAFETY, SIDES, Bench, run_together
from drills.admin import set_clock
from scenarios.campaign_file import load_scenario
from synthetic_users.population import Population
from synthetic_users.seeding import seed


def write_campaign(path: Path, *, users: int, seconds: float, population: int = POPULATION_SIZE) -> Path:
    """A campaign in ``campaigns/smoke.yaml``'s structure: only ``login``, no pauses, no agents."""
    campaign = {
        "name": "harness-overhead",
        "description": "benchmarks/harness_overhead.py: the login journey in a tight loop",
        "target": "embedded",
        "seed": 2026,
        "duration": f"{seconds:g}s",
        "population": {"size": population, "shares": {"email_bounces": 0.0}},
        "load": {"model": "closed", "shape": "constant", "users": users, "spawn_rate": users},
        "journeys": {"login": 1},
        "journey_settings": {"think_time_scale": 0, "pause": 0, "abandonment": False, "retries": False},
        "agents": {"users": 0},
        "faults": {"profile": "none"},
    }
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    return path


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(options: argparse.Namespace, folder: Path) -> Results:
    """``measure`` with the command line's options."""
    return measure(
        users=options.users,
        seconds=options.seconds,
        rounds=options.rounds,
        canned_rounds=options.canned_rounds,
        warmup=options.warmup,
        population=options.population,
        folder=folder,
    )


def measure(
    *,
    users: int = 20,
    seconds: int = 20,
    rounds: int = 2,
    canned_rounds: int = 4,
    warmup: int = 3,
    population: int = POPULATION_SIZE,
    folder: Path,
    progress: Callable[[str], None] = progress,
) -> Results:
    """Start and seed the embedded platform, record its answers to the login journey, then run the
    rounds: the harness and bare Locust against the canned platform, both at the same time, then
    each pair against the real one, one after the other, the side that goes first alternating from
    round to round (ABBA). Runs' files go to ``folder``."""
    if shutil.which("wrk") is None:
        raise BenchmarkError("wrk is missing (apt-get install wrk)")
    duration = warmup + seconds + SAFETY
    campaign = write_campaign(folder / "campaign.yaml", users=users, seconds=duration, population=population)
    spec = load_scenario(campaign)
    measures: dict[str, list[Measure]] = {side: [] for side in SIDES}
    with EmbeddedTarget(folder / "platform") as target:
        assert target.platform is not None
        assert target.platform.process is not None
        people = Population(spec.population)
        seeded = seed(people, target.url, target.admin_token)
        set_clock(target.url, target.admin_token, spec.population.reference_date)
        progress(f"  platform at {target.url}, {seeded.applicants} applicants seeded")
        bench = Bench(target.url, target.platform.process.pid, folder, campaign, users, seconds, warmup)
        answers = folder / "canned-answers.json"
        applicants = map(people.applicant, range(len(people)))
        recorded = record(target.url, ((applicant.email, applicant.password) for applicant in applicants), answers)
        with CannedPlatform(answers) as canned:
            progress(f"  canned platform at {canned.url}, {recorded} applicants' answers recorded")
            canned_bench = replace(bench, url=canned.url, platform_pid=canned.pid)
            for number in range(canned_rounds):
                together = run_together(canned_bench, CANNED if number % 2 == 0 else CANNED[::-1], str(number))
                for side in CANNED:
                    measured = together[side]
                    measures[side].append(measured)
                    progress(
                        f"  canned round {number + 1}/{canned_rounds} {side}: {measured.rps:,.0f} req/s, "
                        f"{measured.cpu_ms_per_request:.3f} ms CPU/req"
                    )
        for number in range(rounds):
            for pair in PAIRS:
                for side in pair if number % 2 == 0 else pair[::-1]:
                    measured = SIDES[side](bench, f"{side}-{number}")
                    measures[side].append(measured)
                    progress(f"  round {number + 1}/{rounds} {side}: {measured.rps:,.0f} req/s")
    return Results(
        **{side: tuple(runs) for side, runs in measures.items()},
        users=users,
        seconds=seconds,
        warmup=warmup,
        rounds=rounds,
        canned_rounds=canned_rounds,
        population=population,
    )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=positive, default=20, help="virtual users (wrk: connections); default 20")
    parser.add_argument("--seconds", type=positive, default=20, help="measured seconds per run; default 20")
    parser.add_argument("--rounds", type=positive, default=2, help="runs per side, alternating order; default 2")
    parser.add_argument(
        "--canned-rounds", type=positive, default=4, help="runs per side against the canned platform; default 4"
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each measured window; default 3")
    parser.add_argument(
        "--population",
        type=positive,
        default=POPULATION_SIZE,
        help=f"applicants seeded and recorded (far more than --users); default {POPULATION_SIZE}",
    )
    options = parser.parse_args(argv)
    if options.warmup < 0:
        parser.error(f"--warmup: expected ≥ 0, got {options.warmup}")
    if options.population < options.users:
        parser.error(f"--population: expected at least --users ({options.users}), got {options.population}")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="anef-harness-overhead-"))
    try:
        results = run(options, folder)
    except (BenchmarkError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"harness_overhead: {error}\n(runs kept in {folder})", file=sys.stderr)
        return 3
    shutil.rmtree(folder, ignore_errors=True)
    print(render(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
