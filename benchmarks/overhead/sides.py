"""The four sides of the harness-overhead benchmark, each one process measured over the same window:
the harness's own locustfile, bare Locust on the same requests, bare Locust and wrk on /healthz."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from benchmarks.overhead.measures import PARTNERS_TIMEOUT, BenchmarkError, Measure, Sample, Window, http_measure

ROOT = Path(__file__).resolve().parents[2]
HARNESS_LOCUSTFILE = ROOT / "scenarios" / "locustfile.py"
BARE_LOCUSTFILE = ROOT / "benchmarks" / "bare_locustfile.py"
# Locust's own end (run time, campaign duration) comes this long after the probe's, which stops it.
SAFETY = 60

# A plugin locustfile loaded beside the measured one (``-f measured.py,probe.py``): it adds no
# user, only the measured window (after the warm-up, the same for every Locust run) and its CPU use.
PROBE = '''"""Written by benchmarks/harness_overhead.py for one run; safe to delete."""

from benchmarks.overhead.measures import install_window_probe

install_window_probe(
    warmup={warmup!r}, seconds={seconds!r}, platform_pid={pid!r}, out={out!r}, together={together!r}, sides={sides!r}
)
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
    together: Path | None = None  # the folder where the sides run at the same time mark their start
    sides: int = 1  # how many sides run at the same time


def run_locust(bench: Bench, name: str, locustfile: Path, user_class: str, options: Sequence[str]) -> Measure:
    """One headless Locust process running only ``user_class``, with the probe beside
    ``locustfile``; the probe ends it."""
    folder = bench.folder / name
    folder.mkdir(parents=True)
    measured, log_path, probe = folder / "measured.json", folder / "locust.log", folder / "window_probe.py"
    probe.write_text(
        PROBE.format(
            warmup=float(bench.warmup),
            seconds=float(bench.seconds),
            pid=bench.platform_pid,
            out=str(measured),
            together=None if bench.together is None else str(bench.together),
            sides=bench.sides,
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
        late = 0.0 if bench.together is None else PARTNERS_TIMEOUT
        code = subprocess.run(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=late + bench.warmup + bench.seconds + 120
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


def run_bare_login(bench: Bench, name: str) -> Measure:
    return run_bare(bench, name, "BareLoginUser")


def run_locust_healthz(bench: Bench, name: str) -> Measure:
    return run_bare(bench, name, "HealthzUser")


SIDES: dict[str, Callable[[Bench, str], Measure]] = {
    "canned_harness": run_harness,
    "canned_bare": run_bare_login,
    "harness": run_harness,
    "bare": run_bare_login,
    "locust_healthz": run_locust_healthz,
    "wrk_healthz": run_wrk,
}
CANNED = ("canned_harness", "canned_bare")  # against the canned platform, at the same time


def run_together(bench: Bench, names: Sequence[str], tag: str) -> dict[str, Measure]:
    """The sides ``names`` at the same time, each its own process, over the same measured window:
    whatever else the machine runs meanwhile weighs on them alike."""
    folder = bench.folder / f"together-{tag}"
    folder.mkdir()
    together = replace(bench, together=folder, sides=len(names))
    with ThreadPoolExecutor(len(names)) as pool:
        running = {name: pool.submit(SIDES[name], together, f"{name}-{tag}") for name in names}
        return {name: future.result() for name, future in running.items()}


PAIRS = (("harness", "bare"), ("locust_healthz", "wrk_healthz"))  # against the real one
