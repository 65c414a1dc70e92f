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

from anef_harness.embedded import EmbeddedTarget
from drills.admin import set_clock
from scenarios.campaign_file import load_scenario
from synthetic_users.population import Population
from synthetic_users.seeding import seed

ROOT = Path(__file__).resolve().parents[1]
HARNESS_LOCUSTFILE = ROOT / "scenarios" / "locustfile.py"
BARE_LOCUSTFILE = ROOT / "benchmarks" / "bare_locustfile.py"
POPULATION_SIZE = 2000  # far more applicants than users: leases never wait for a free one
TARGET_RATIO = 0.85
# Locust's own end (run time, campaign duration) comes this long after the probe's, which stops it.
SAFETY = 60
SATURATED = 90.0  # % of one core from which a single-threaded process is taken as the limit
PLATFORM, LOAD_GENERATOR, ALL_CPUS = "platform", "load generator", "all CPUs busy"

# A plugin locustfile loaded beside the measured one (``-f measured.py,probe.py``): it adds no
# user, only the measured window (after the warm-up, the same for every Locust run) and its CPU use.
PROBE = '''"""Written by benchmarks/harness_overhead.py for one run; safe to delete."""

from benchmarks.harness_overhead import install_window_probe

install_window_probe(warmup={warmup!r}, seconds={seconds!r}, platform_pid={pid!r}, out={out!r})
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
    """The measured part of a run: its wall seconds and the CPU used meanwhile, in % of one core,
    by the load generator, by the platform and by the whole machine (every process)."""

    seconds: float
    load_cpu: float
    platform_cpu: float
    machine_cpu: float


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs have spent on something since boot (guest time is already in user)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0) + getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    return float(sum(times) - idle)


@dataclass(frozen=True)
class Sample:
    """Wall clock and CPU seconds used so far, read at one instant."""

    wall: float
    load: float
    platform: float
    machine: float

    @classmethod
    def take(cls, load_cpu_seconds: float, platform: psutil.Process) -> Sample:
        times = platform.cpu_times()
        return cls(time.monotonic(), load_cpu_seconds, times.user + times.system, machine_busy_seconds())

    def until(self, later: Sample) -> Window:
        seconds = later.wall - self.wall

        def share(before: float, after: float) -> float:
            return 100 * (after - before) / seconds if seconds > 0 else 0.0

        return Window(
            seconds,
            share(self.load, later.load),
            share(self.platform, later.platform),
            share(self.machine, later.machine),
        )


@dataclass(frozen=True)
class Measure:
    """One run of one side: its HTTP requests over the measured window."""

    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    window: Window

    @property
    def rps(self) -> float:
        return self.requests / self.window.seconds if self.window.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """The load generator's CPU per request: its cost, whoever the bottleneck was."""
        return 10 * self.window.load_cpu * self.window.seconds / self.requests if self.requests else 0.0

    @property
    def other_cpu(self) -> float:
        """What the rest of the machine (other processes, this script) used meanwhile."""
        return max(0.0, self.window.machine_cpu - self.window.load_cpu - self.window.platform_cpu)


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
    """Every run of every side, in the order they ran."""

    harness: tuple[Measure, ...]
    bare: tuple[Measure, ...]
    locust_healthz: tuple[Measure, ...]
    wrk_healthz: tuple[Measure, ...]
    users: int
    seconds: int
    warmup: int
    rounds: int


# --- inside the Locust processes ---------------------------------------------------------------


def install_window_probe(*, warmup: float, seconds: float, platform_pid: int, out: str) -> None:
    """In a Locust process: when the warm-up is over, reset the statistics; ``seconds`` later,
    write the measured window and the statistics to ``out``, then end the run as ``--run-time``
    does (``runner.quit()``: users stop, ``quitting`` fires, the harness closes its event log).

    The probe ends the window itself, at the same time after the same warm-up for every side:
    ``--run-time`` and a campaign's shape each stop at their own moment (gevent's loop clock is
    stale after the locustfile's imports, so ``--run-time`` ends a second or so early).
    """
    import gevent  # only Locust processes call this; gevent and Locust are theirs
    from locust import events
    from locust.env import Environment

    platform = psutil.Process(platform_pid)
    start: list[Sample] = []

    def sample() -> Sample:
        own = os.times()
        return Sample.take(own.user + own.system, platform)

    def begin(environment: Environment) -> None:
        environment.stats.reset_all()
        start.append(sample())
        gevent.spawn_later(seconds, end, environment)

    def end(environment: Environment) -> None:
        window = start[0].until(sample())
        entries = [
            {
                "method": entry.method,
                "name": entry.name,
                "num_requests": entry.num_requests,
                "num_failures": entry.num_failures,
                "response_times": dict(entry.response_times),
            }
            for entry in environment.stats.entries.values()
        ]
        users = dict(environment.runner.user_classes_count)
        Path(out).write_text(json.dumps({"window": asdict(window), "entries": entries, "users": users}))
        # not SIGTERM: a headless run with a shape installs Locust's handler only once it is over
        environment.runner.quit()

    @events.test_start.add_listener
    def _start(environment: Environment, **_: Any) -> None:
        gevent.spawn_later(warmup, begin, environment)


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
    """The HTTP requests of a Locust run's window; the harness's ``STEP`` entries time whole steps,
    not requests, and are left out."""
    http = [entry for entry in entries if entry["method"] != "STEP"]
    histogram: Counter[int] = Counter()
    for entry in http:
        histogram.update({int(ms): count for ms, count in entry["response_times"].items()})
    return Measure(
        requests=sum(entry["num_requests"] for entry in http),
        failures=sum(entry["num_failures"] for entry in http),
        p50_ms=percentile(histogram, 0.50),
        p95_ms=percentile(histogram, 0.95),
        window=window,
    )


def run_locust(bench: Bench, name: str, locustfile: Path, user_class: str, options: Sequence[str]) -> Measure:
    """One headless Locust process running only ``user_class``, with the probe beside
    ``locustfile``; the probe ends it."""
    folder = bench.folder / name
    folder.mkdir(parents=True)
    measured, log_path, probe = folder / "measured.json", folder / "locust.log", folder / "window_probe.py"
    probe.write_text(
        PROBE.format(
            warmup=float(bench.warmup), seconds=float(bench.seconds), pid=bench.platform_pid, out=str(measured)
        )
    )
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{locustfile},{probe}",
        "--headless",
        "--host",
        bench.url,
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",  # failed requests are counted and shown; only a crash is an error here
        *options,
        user_class,
    ]
    with log_path.open("wb") as log:
        code = subprocess.run(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=bench.warmup + bench.seconds + 120
        ).returncode
    if code != 0 or not measured.exists():
        tail = log_path.read_text(errors="replace")[-1500:]
        raise BenchmarkError(f"{name}: Locust exited with {code} without a measured window; its log ends:\n{tail}")
    data = json.loads(measured.read_text())
    if data["users"] != {user_class: bench.users}:
        raise BenchmarkError(f"{name}: expected {bench.users} {user_class} users, Locust ran {data['users']}")
    return http_measure(data["entries"], Window(**data["window"]))


def run_harness(bench: Bench, name: str) -> Measure:
    """The harness's own locustfile and campaign: ``ApplicantUser`` running the ``login`` journey."""
    options = ["--campaign", str(bench.campaign), "--anef-results", str(bench.folder / name / "results")]
    # Named, because with ``agents: {users: 0}`` the locustfile leaves ``AgentUser.fixed_count`` at 0,
    # which Locust reads as "weighted": half the campaign's users would be prefecture agents.
    return run_locust(bench, name, HARNESS_LOCUSTFILE, "ApplicantUser", options)


def run_bare(bench: Bench, name: str, user_class: str) -> Measure:
    """A bare user of ``bare_locustfile.py``, as many users as the harness has, until the probe ends it."""
    options = [
        "--campaign",
        str(bench.campaign),
        "--users",
        str(bench.users),
        "--spawn-rate",
        str(bench.users),
        "--run-time",
        f"{bench.warmup + bench.seconds + SAFETY}s",
    ]
    return run_locust(bench, name, BARE_LOCUSTFILE, user_class, options)


def run_wrk(bench: Bench, name: str) -> Measure:
    """``wrk`` on ``GET /healthz`` with one connection per Locust user, after the same warm-up."""
    folder = bench.folder / name
    folder.mkdir(parents=True)
    script = folder / "report.lua"
    script.write_text(WRK_REPORT)
    base = ["wrk", f"-t{min(2, bench.users)}", f"-c{bench.users}", "--timeout", "10s", "-s", str(script)]
    url = f"{bench.url}/healthz"
    if bench.warmup:
        subprocess.run([*base, f"-d{bench.warmup}s", url], check=True, capture_output=True)
    platform = psutil.Process(bench.platform_pid)

    def sample() -> Sample:
        # wrk's CPU: the rusage of waited-for children, of which the warm-up run is already part
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return Sample.take(usage.ru_utime + usage.ru_stime, platform)

    before = sample()
    out = subprocess.run([*base, f"-d{bench.seconds}s", url], check=True, capture_output=True, text=True).stdout
    window = before.until(sample())
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    return Measure(
        requests=report["requests"],
        failures=report["failures"],
        p50_ms=report["p50_ms"],
        p95_ms=report["p95_ms"],
        # wrk's own duration for its count; the CPU shares over the process's wall time
        window=Window(report["seconds"], window.load_cpu, window.platform_cpu, window.machine_cpu),
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
    """``measure`` with the command line's options."""
    return measure(
        users=options.users, seconds=options.seconds, rounds=options.rounds, warmup=options.warmup, folder=folder
    )


def measure(
    *,
    users: int = 20,
    seconds: int = 20,
    rounds: int = 2,
    warmup: int = 3,
    folder: Path,
    progress: Callable[[str], None] = progress,
) -> Results:
    """Start and seed the embedded platform, then run the rounds: each pair side by side, the
    side that goes first alternating from round to round (ABBA). Runs' files go to ``folder``."""
    if shutil.which("wrk") is None:
        raise BenchmarkError("wrk is missing (apt-get install wrk)")
    duration = warmup + seconds + SAFETY
    campaign = write_campaign(folder / "campaign.yaml", users=users, seconds=duration)
    spec = load_scenario(campaign)
    measures: dict[str, list[Measure]] = {side: [] for side in SIDES}
    with EmbeddedTarget(folder / "platform") as target:
        assert target.platform is not None
        assert target.platform.process is not None
        seeded = seed(Population(spec.population), target.url, target.admin_token)
        set_clock(target.url, target.admin_token, spec.population.reference_date)
        progress(f"  platform at {target.url}, {seeded.applicants} applicants seeded")
        bench = Bench(target.url, target.platform.process.pid, folder, campaign, users, seconds, warmup)
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
    )


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One side: the means of its runs, and which resource ran out."""

    measures: Sequence[Measure]
    load_cores: int = 1  # the cores its load generator can use: Locust one (gevent), wrk its threads

    def mean(self, value: Callable[[Measure], float]) -> float:
        return statistics.fmean(value(m) for m in self.measures)

    @property
    def rps(self) -> float:
        return self.mean(lambda m: m.rps)

    @property
    def failures(self) -> int:
        return sum(m.failures for m in self.measures)

    def saturated(self) -> str:
        """Which side ran out of CPU over the measured windows (on average), if any."""
        sides = []
        if self.mean(lambda m: m.window.platform_cpu) >= SATURATED:  # one uvicorn worker: one core (the GIL)
            sides.append(PLATFORM)
        if self.mean(lambda m: m.window.load_cpu) >= SATURATED * self.load_cores:
            sides.append(LOAD_GENERATOR)
        if not sides and self.mean(lambda m: m.window.machine_cpu) >= SATURATED * (os.cpu_count() or 1):
            sides.append(ALL_CPUS)
        return " + ".join(sides) or "neither"

    @property
    def cpu_per_request(self) -> float:
        return self.mean(lambda m: m.cpu_ms_per_request)


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
    "harness": "harness, login journey",
    "bare": "bare Locust, same 3 requests",
    "locust_healthz": "bare Locust, GET /healthz",
    "wrk_healthz": "wrk -t{threads} -c{users}, GET /healthz",
}
SHORT = {"harness": "the harness", "bare": "bare Locust", "locust_healthz": "Locust", "wrk_healthz": "wrk"}
RATIOS = (
    ("harness", "bare", "ratio harness / bare", TARGET_RATIO),
    ("locust_healthz", "wrk_healthz", "ratio Locust / wrk", None),
)
COLUMNS = (
    "req/s",
    "per round",
    "p50 ms",
    "p95 ms",
    "failed",
    "load CPU",
    "load CPU/req",
    "platform CPU",
    "other CPU",
    "saturated",
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
        f"Harness overhead: {results.users} users, {results.seconds} s measured after a {results.warmup} s warm-up, "
        f"mean of {results.rounds} round(s); HTTP requests only; CPU in % of one core over the measured windows"
    )
    out = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    out.add_column("", no_wrap=True)
    for header in COLUMNS:
        out.add_column(header, justify="left" if header == "saturated" else "right", no_wrap=True)
    for first, second, label, target in RATIOS:
        for side in (first, second):
            row = rows[side]
            out.add_row(
                LABELS[side].format(threads=min(2, results.users), users=results.users),
                f"{row.rps:,.0f}",
                " / ".join(f"{m.rps:,.0f}" for m in row.measures),
                f"{row.mean(lambda m: m.p50_ms):.1f}",
                f"{row.mean(lambda m: m.p95_ms):.1f}",
                str(row.failures),
                f"{row.mean(lambda m: m.window.load_cpu):.0f} %",
                f"{row.mean(lambda m: m.cpu_ms_per_request):.2f} ms",
                f"{row.mean(lambda m: m.window.platform_cpu):.0f} %",
                f"{row.mean(lambda m: m.other_cpu):.0f} %",
                row.saturated(),
            )
        a, b = rows[first], rows[second]
        ratio = a.rps / b.rps if b.rps else 0.0
        per_round = " / ".join(
            f"{x.rps / y.rps:.2f}" if y.rps else "-" for x, y in zip(a.measures, b.measures, strict=True)
        )
        verdict = "" if target is None else f"target ≥ {target:.2f}: {'met' if ratio >= target else 'MISSED'}"
        cpu = f"{a.cpu_per_request / b.cpu_per_request:.2f}×" if b.cpu_per_request else "-"
        out.add_row(label, f"{ratio:.2f}", per_round, "", "", "", "", cpu, "", "", verdict)
        out.add_section()
    return out


def notes(results: Results) -> list[str]:
    """What the reader needs to read the ratios: the machine, which side was the limit, the noise."""
    rows = rows_of(results)
    cores = os.cpu_count() or 1
    lines = [
        f"machine: {machine()}, shared by the load generator, the platform and whatever else runs here",
        f"platform: embedded, one uvicorn worker, SQLite (WAL), {POPULATION_SIZE} seeded applicants; at this "
        "machine's size it is the expected bottleneck, as one worker can use about one core",
        "load CPU: the Locust or wrk process; load CPU/req: its CPU per request, its cost whoever the bottleneck "
        "was; other CPU: every other process on the machine",
    ]
    for first, second, label, _ in RATIOS:
        a, b = rows[first], rows[second]
        limits = a.saturated() + " " + b.saturated()
        busy = statistics.fmean(m.window.machine_cpu for m in a.measures + b.measures)
        if limits.count(PLATFORM) == 2:
            why = (
                "the platform was saturated on both sides and set both throughputs: the ratio says whether the "
                "load generator keeps up with this platform, not how far it would go"
            )
        elif PLATFORM in limits:
            full, other = (first, b) if PLATFORM in a.saturated() else (second, a)
            why = (
                f"the platform was saturated only against {SHORT[full]}; the other side left it at "
                f"{other.mean(lambda m: m.window.platform_cpu):.0f} %, so the ratio is how close each load "
                "generator brings this platform to its limit"
            )
        elif LOAD_GENERATOR in limits:
            why = "a load generator was saturated: the ratio measures the load generators' own cost per request"
        elif ALL_CPUS in limits:
            why = (
                f"the machine's CPUs were all busy ({busy:.0f} % of {100 * cores} %), so the processes took turns: "
                "the ratio mixes the platform's capacity with each side's CPU cost"
            )
        else:
            why = (
                f"no process reached its CPU limit: the platform was waiting, on SQLite or for a CPU (the machine "
                f"was {busy:.0f} % of {100 * cores} % busy)"
            )
        if a.cpu_per_request and b.cpu_per_request:
            why += (
                f"; were the load generator the limit (one core each), the ratio would be about "
                f"{b.cpu_per_request / a.cpu_per_request:.2f}: {1000 / a.cpu_per_request:,.0f} against "
                f"{1000 / b.cpu_per_request:,.0f} req/s per core, from load CPU/req"
            )
        lines.append(f"{label}: {why}")
    other = statistics.fmean(m.other_cpu for row in rows.values() for m in row.measures)
    if other >= 20:
        lines.append(
            f"noise: other processes used {other:.0f} % of a core on average (of {100 * cores} %) during the "
            "measured windows; the figures are only as steady as the per-round values"
        )
    failed = [side for side, row in rows.items() if row.failures]
    if failed:
        lines.append(f"failed requests in: {', '.join(failed)} (counted in req/s)")
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
    except (BenchmarkError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"harness_overhead: {error}\n(runs kept in {folder})", file=sys.stderr)
        return 3
    shutil.rmtree(folder, ignore_errors=True)
    print(render(results), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
