"""Benchmark: what the harness's journey machinery costs against bare Locust, and Locust against wrk.

Prints, side by side in one run on this machine, against one embedded platform (one uvicorn
worker, SQLite) seeded with a synthetic population:
1. requests/s, p50 and p95 of the ``login`` journey run by the harness itself (``ApplicantUser``,
   ``LocustTransport``, ``run_journey`` and its steps, the client, the oracle, the event log) and
   of a bare Locust ``FastHttpUser`` sending the same three requests (``bare_locustfile.py``),
   and their ratio (target: harness / bare ≥ 0.85);
2. requests/s of a bare Locust user looping on ``GET /healthz`` and of ``wrk`` with as many
   connections, and their ratio.

Every measure is its own process, run for ``--seconds`` after a warm-up whose statistics are
dropped; only HTTP requests count (not the harness's ``STEP`` entries). Rounds alternate which
side goes first (ABBA), so a platform drifting over the run favours neither. Load generator and
platform share this machine's cores, so the CPU columns (% of one core, over the measured
window) tell which side was saturated, i.e. what a ratio actually measures.

    .venv/bin/python benchmarks/harness_overhead.py [--users 20] [--seconds 20] [--rounds 2] [--warmup 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml
from rich import box
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anef_harness.embedded import EmbeddedTarget, set_clock
from scenarios.campaign_file import load_scenario
from synthetic_users.population import Population
from synthetic_users.seeding import seed

ROOT = Path(__file__).resolve().parents[1]
HARNESS_LOCUSTFILE = ROOT / "scenarios" / "locustfile.py"
BARE_LOCUSTFILE = ROOT / "benchmarks" / "bare_locustfile.py"
POPULATION_SIZE = 2000  # far more applicants than users: leases never wait for a free one
TARGET_RATIO = 0.85
SATURATED = 90.0  # % of one core from which a single-threaded process is taken as the limit

# A plugin locustfile loaded beside the measured one (``-f measured.py,probe.py``): it adds no
# user, only the warm-up cut and the measured window's CPU use, the same for every Locust run.
PROBE = '''"""Written by benchmarks/harness_overhead.py for one run; safe to delete."""

from benchmarks.harness_overhead import install_window_probe

install_window_probe(warmup={warmup!r}, platform_pid={pid!r}, out={out!r})
'''

# wrk reports its own count and latency percentiles (microseconds) as one JSON line.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50_ms": %f, "p95_ms": %f, "failures": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


class BenchmarkError(Exception):
    """A measured process failed; the message carries the end of its log."""


@dataclass(frozen=True)
class Window:
    """The measured part of a run: wall seconds and CPU use (% of one core) of both sides."""

    seconds: float
    load_cpu: float
    platform_cpu: float


@dataclass(frozen=True)
class Measure:
    """One run of one side."""

    requests: int
    failures: int
    seconds: float
    p50_ms: float
    p95_ms: float
    load_cpu: float
    platform_cpu: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Bench:
    """What every run needs: the target, its platform process, and the run's settings."""

    url: str
    platform_pid: int
    folder: Path
    campaign: Path
    users: int
    seconds: int
    warmup: int


@dataclass(frozen=True)
class Results:
    harness: list[Measure]
    bare: list[Measure]
    locust_healthz: list[Measure]
    wrk_healthz: list[Measure]
    users: int
    seconds: int
    warmup: int
    rounds: int


# --- inside the Locust processes ---------------------------------------------------------------


def install_window_probe(*, warmup: float, platform_pid: int, out: str) -> None:
    """In a Locust process: reset its statistics when the warm-up is over, and write the measured
    window (wall time, CPU of this process and of the platform) to ``out`` when the test stops."""
    import gevent  # only Locust processes call this; gevent and Locust are theirs
    from locust import events
    from locust.env import Environment

    platform = psutil.Process(platform_pid)
    start: list[tuple[float, float, float]] = []

    def sample() -> tuple[float, float, float]:
        own, theirs = os.times(), platform.cpu_times()
        return time.monotonic(), own.user + own.system, theirs.user + theirs.system

    def begin(environment: Environment) -> None:
        environment.stats.reset_all()
        start.append(sample())

    @events.test_start.add_listener
    def _start(environment: Environment, **_: Any) -> None:
        gevent.spawn_later(warmup, begin, environment)

    @events.test_stop.add_listener
    def _stop(environment: Environment, **_: Any) -> None:
        if not start:
            return  # stopped during the warm-up: no window, the benchmark reports the failure
        (t0, load0, platform0), (t1, load1, platform1) = start[0], sample()
        seconds = t1 - t0
        window = Window(seconds, 100 * (load1 - load0) / seconds, 100 * (platform1 - platform0) / seconds)
        Path(out).write_text(json.dumps(asdict(window)))


# --- running one side --------------------------------------------------------------------------


def percentile(histogram: Counter[int], share: float) -> float:
    """Locust's percentile of a {rounded ms: count} histogram (``calculate_response_time_percentile``)."""
    total = sum(histogram.values())
    if total == 0:
        return 0.0
    above = int(total * share)
    seen = 0
    for value in sorted(histogram, reverse=True):
        seen += histogram[value]
        if total - seen <= above:
            return float(value)
    return 0.0


def http_measure(entries: Sequence[dict[str, Any]], window: Window) -> Measure:
    """The HTTP requests of a Locust run (``--json-file``); the harness's ``STEP`` entries time
    whole steps, not requests, and are left out."""
    http = [entry for entry in entries if entry["method"] != "STEP"]
    histogram: Counter[int] = Counter()
    for entry in http:
        histogram.update({int(ms): count for ms, count in entry["response_times"].items()})
    return Measure(
        requests=sum(entry["num_requests"] for entry in http),
        failures=sum(entry["num_failures"] for entry in http),
        seconds=window.seconds,
        p50_ms=percentile(histogram, 0.50),
        p95_ms=percentile(histogram, 0.95),
        load_cpu=window.load_cpu,
        platform_cpu=window.platform_cpu,
    )


def run_locust(bench: Bench, name: str, locustfile: Path, options: Sequence[str]) -> Measure:
    """One headless Locust process with the probe beside ``locustfile``."""
    folder = bench.folder / name
    folder.mkdir(parents=True)
    window_path, stats_path, log_path = folder / "window.json", folder / "stats.json", folder / "locust.log"
    probe = folder / "window_probe.py"
    probe.write_text(PROBE.format(warmup=float(bench.warmup), pid=bench.platform_pid, out=str(window_path)))
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{locustfile},{probe}",
        "--headless",
        "--host",
        bench.url,
        "--json-file",
        str(folder / "stats"),  # Locust adds ".json"
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",  # failed requests are counted and shown; only a crash is an error here
        *options,
    ]
    with log_path.open("wb") as log:
        code = subprocess.run(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=bench.warmup + bench.seconds + 120
        ).returncode
    if code != 0 or not window_path.exists() or not stats_path.exists():
        tail = log_path.read_text(errors="replace")[-1500:]
        raise BenchmarkError(f"{name}: Locust exited with {code} without a measured window; its log ends:\n{tail}")
    window = Window(**json.loads(window_path.read_text()))
    return http_measure(json.loads(stats_path.read_text()), window)


def run_harness(bench: Bench, name: str) -> Measure:
    """The harness's own locustfile and campaign: ``ApplicantUser`` running the ``login`` journey."""
    options = ["--campaign", str(bench.campaign), "--anef-results", str(bench.folder / name / "results")]
    return run_locust(bench, name, HARNESS_LOCUSTFILE, options)


def run_bare(bench: Bench, name: str, user_class: str) -> Measure:
    """A bare user of ``bare_locustfile.py`` with as many users, for as long, as the harness."""
    options = [
        "--campaign",
        str(bench.campaign),
        "--users",
        str(bench.users),
        "--spawn-rate",
        str(bench.users),
        "--run-time",
        f"{bench.warmup + bench.seconds}s",
        user_class,
    ]
    return run_locust(bench, name, BARE_LOCUSTFILE, options)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(bench: Bench, name: str) -> Measure:
    """``wrk`` on ``GET /healthz`` with one connection per Locust user, after the same warm-up."""
    folder = bench.folder / name
    folder.mkdir(parents=True)
    script = folder / "report.lua"
    script.write_text(WRK_REPORT)
    threads = min(2, bench.users)
    base = ["wrk", f"-t{threads}", f"-c{bench.users}", "--timeout", "10s", "-s", str(script)]
    url = f"{bench.url}/healthz"
    if bench.warmup:
        subprocess.run([*base, f"-d{bench.warmup}s", url], check=True, capture_output=True)
    platform = psutil.Process(bench.platform_pid)
    # wrk's CPU comes from the rusage of waited-for children: the warm-up run is already in it.
    wall0, wrk0, platform0 = time.monotonic(), children_cpu_seconds(), cpu_seconds(platform)
    out = subprocess.run([*base, f"-d{bench.seconds}s", url], check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - wall0
    wrk_cpu, platform_cpu = children_cpu_seconds() - wrk0, cpu_seconds(platform) - platform0
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    return Measure(
        requests=report["requests"],
        failures=report["failures"],
        seconds=report["seconds"],
        p50_ms=report["p50_ms"],
        p95_ms=report["p95_ms"],
        load_cpu=100 * wrk_cpu / wall,
        platform_cpu=100 * platform_cpu / wall,
    )


# --- the whole benchmark -----------------------------------------------------------------------


def write_campaign(path: Path, *, users: int, seconds: float) -> Path:
    """A campaign in ``campaigns/smoke.yaml``'s structure: only ``login``, no pauses, no agents."""
    campaign = {
        "name": "harness-overhead",
        "description": "benchmarks/harness_overhead.py: the login journey in a tight loop",
        "target": "embedded",
        "seed": 2026,
        "duration": f"{seconds:g}s",
        "population": {"size": POPULATION_SIZE, "shares": {"email_bounces": 0.0}},
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


def run_bare_login(bench: Bench, name: str) -> Measure:
    return run_bare(bench, name, "BareLoginUser")


def run_locust_healthz(bench: Bench, name: str) -> Measure:
    return run_bare(bench, name, "HealthzUser")


SIDES: dict[str, Callable[[Bench, str], Measure]] = {
    "harness": run_harness,
    "bare": run_bare_login,
    "locust_healthz": run_locust_healthz,
    "wrk_healthz": run_wrk,
}
PAIRS = (("harness", "bare"), ("locust_healthz", "wrk_healthz"))


def run(options: argparse.Namespace, folder: Path) -> Results:
    """Start and seed the embedded platform, then run the rounds: each pair side by side, the
    side that goes first alternating from round to round (ABBA)."""
    if shutil.which("wrk") is None:
        raise BenchmarkError("wrk is missing (apt-get install wrk)")
    campaign = write_campaign(folder / "campaign.yaml", users=options.users, seconds=options.warmup + options.seconds)
    spec = load_scenario(campaign)
    measures: dict[str, list[Measure]] = {side: [] for side in SIDES}
    with EmbeddedTarget(folder / "platform") as target:
        assert target.platform is not None
        assert target.platform.process is not None
        seeded = seed(Population(spec.population), target.url, target.admin_token)
        set_clock(target.url, target.admin_token, spec.population.reference_date)
        progress(f"platform at {target.url}, {seeded.applicants} applicants seeded")
        bench = Bench(
            target.url, target.platform.process.pid, folder, campaign, options.users, options.seconds, options.warmup
        )
        for number in range(options.rounds):
            for pair in PAIRS:
                for side in pair if number % 2 == 0 else pair[::-1]:
                    measure = SIDES[side](bench, f"{side}-{number}")
                    measures[side].append(measure)
                    progress(f"  round {number + 1}/{options.rounds} {side}: {measure.rps:,.0f} req/s")
    return Results(
        **measures, users=options.users, seconds=options.seconds, warmup=options.warmup, rounds=options.rounds
    )


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """The mean of one side's runs."""

    measures: list[Measure]
    load_cores: int = 1  # how many cores the load generator can use (Locust: one; wrk: its threads)

    @property
    def rps(self) -> float:
        return statistics.fmean(m.rps for m in self.measures)

    def mean(self, field: str) -> float:
        return statistics.fmean(float(getattr(m, field)) for m in self.measures)

    @property
    def failures(self) -> int:
        return sum(m.failures for m in self.measures)

    def limit(self) -> str:
        """Which side ran out of CPU over the measured windows (mean), if any."""
        sides = []
        if self.mean("platform_cpu") >= SATURATED:  # one uvicorn worker: one core at most (the GIL)
            sides.append("platform")
        if self.mean("load_cpu") >= SATURATED * self.load_cores:
            sides.append("load generator")
        if not sides and self.mean("load_cpu") + self.mean("platform_cpu") >= SATURATED * (os.cpu_count() or 1):
            sides.append("all CPUs busy")
        return " + ".join(sides) or "neither"


def machine() -> str:
    model = "unknown model"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}"


LABELS = {
    "harness": "harness: login journey (ApplicantUser)",
    "bare": "bare Locust FastHttpUser, same 3 requests",
    "locust_healthz": "bare Locust FastHttpUser: GET /healthz",
    "wrk_healthz": "wrk -t{threads} -c{users}: GET /healthz",
}
RATIOS = (
    ("harness", "bare", "ratio harness / bare", TARGET_RATIO),
    ("locust_healthz", "wrk_healthz", "ratio Locust / wrk", None),
)


def rows_of(results: Results) -> dict[str, Row]:
    return {
        "harness": Row(results.harness),
        "bare": Row(results.bare),
        "locust_healthz": Row(results.locust_healthz),
        "wrk_healthz": Row(results.wrk_healthz, load_cores=min(2, results.users)),
    }


def table(results: Results) -> Table:
    rows = rows_of(results)
    title = (
        f"Harness overhead: {results.users} users, {results.seconds} s measured after a {results.warmup} s "
        f"warm-up, mean of {results.rounds} round(s); HTTP requests only; CPU in % of one core"
    )
    out = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    out.add_column("")
    for header in ("req/s", "per round", "p50 ms", "p95 ms", "failed", "load-gen CPU", "platform CPU", "saturated"):
        out.add_column(header, justify="left" if header == "saturated" else "right")
    for first, second, label, target in RATIOS:
        for side in (first, second):
            row = rows[side]
            out.add_row(
                LABELS[side].format(threads=min(2, results.users), users=results.users),
                f"{row.rps:,.0f}",
                " / ".join(f"{m.rps:,.0f}" for m in row.measures),
                f"{row.mean('p50_ms'):.1f}",
                f"{row.mean('p95_ms'):.1f}",
                str(row.failures),
                f"{row.mean('load_cpu'):.0f} %",
                f"{row.mean('platform_cpu'):.0f} %",
                row.limit(),
            )
        a, b = rows[first], rows[second]
        ratio = a.rps / b.rps if b.rps else 0.0
        per_round = " / ".join(
            f"{x.rps / y.rps:.2f}" if y.rps else "-" for x, y in zip(a.measures, b.measures, strict=True)
        )
        verdict = "" if target is None else f"target ≥ {target:.2f}: {'met' if ratio >= target else 'MISSED'}"
        out.add_row(label, f"{ratio:.2f}", per_round, "", "", "", "", "", verdict)
        out.add_section()
    return out


def notes(results: Results) -> list[str]:
    """What the reader needs to read the ratios: the machine and which side was the limit."""
    rows = rows_of(results)
    lines = [
        f"machine: {machine()}; the load generator and the platform share them",
        "platform: one uvicorn worker, SQLite (WAL), embedded (anef_harness.embedded); "
        f"population of {POPULATION_SIZE} seeded applicants",
    ]
    for first, second, label, _ in RATIOS:
        limits = {rows[first].limit(), rows[second].limit()}
        if limits == {"platform"}:
            lines.append(
                f"{label}: the platform was saturated on both sides (≥ {SATURATED:.0f} % of its one core), so it set "
                "both throughputs: the ratio says whether the load generator keeps up with this platform, not "
                "how far the load generator itself would go"
            )
        elif any("load generator" in limit for limit in limits):
            lines.append(
                f"{label}: a load generator was saturated (≥ {SATURATED:.0f} % of a core): the ratio measures "
                "the load generators' own cost per request"
            )
        else:
            lines.append(f"{label}: saturated: {', '.join(sorted(limits))} (see the CPU columns)")
    failed = [side for side, row in rows.items() if row.failures]
    if failed:
        lines.append(f"failed requests in: {', '.join(failed)} (see Locust's or wrk's figures; not excluded)")
    return lines


def render(results: Results, width: int = 160) -> str:
    """The table and its notes as plain text."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    console.print(table(results))
    for line in notes(results):
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


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
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each measured window; default 3")
    options = parser.parse_args(argv)
    if options.warmup < 0:
        parser.error(f"--warmup: expected ≥ 0, got {options.warmup}")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="anef-harness-overhead-"))
    try:
        results = run(options, folder)
    except (BenchmarkError, subprocess.CalledProcessError) as error:
        print(f"harness_overhead: {error}\n(runs kept in {folder})", file=sys.stderr)
        return 3
    shutil.rmtree(folder, ignore_errors=True)
    print(render(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
