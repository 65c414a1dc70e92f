"""Benchmark: throughput and p50/p95 of the main journey steps beside a trivial endpoint.

Everything runs in one go on this machine, side by side, against one platform process (one
uvicorn worker, SQLite by default): `wrk` (Debian's package; C, so the load generator is not
the limit) sends the requests from a generated Lua script that cycles through real tokens and
dossiers of seeded applicants. The figure to read is each step's throughput as a share of the
trivial endpoint's (target: at least 25 %). The trivial endpoint is measured before and after
every step, and each step's share is against the mean of its two neighbours: the speed of a shared
machine drifts by a third within minutes, and a reference measured minutes away would carry that
drift into the share.

Each row also gives the platform's CPU time per request (its process, all its threads and its mail sender: the request,
and the sync bridge's and mail sender's work the step causes; a one-shot row counts until the seam
has drained): where a step's cost lies. One worker runs on one core at a time, so while it is
saturated the CPU shares and the throughput shares agree.

    .venv/bin/python benchmarks/platform_steps.py [--seconds 8] [--applicants 1200] [--submit-room 0.6]
        [--connections 32]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks.support import Api, PlatformProcess, agent_seed, applicant_seed, pdf_bytes, smtp_sink

START_TIMEOUT = 90.0  # seconds; a busy shared machine can take a while to import the platform
# renewal.submit files one draft per request: enough drafts are prepared for it to reach this share
# of the first /healthz row's throughput before it runs out (its req/s is only a floor then).
SUBMIT_ROOM = 0.6

LUA = """
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end
local bodies = {BODIES}
local requests = {REQUESTS}
local i = 0
local done_count = 0
local errors = 0
request = function()
  i = i + 1
  if i > #requests then
    if {ONCE} then wrk.thread:stop() end
    i = 1
  end
  local r = requests[i]
  return wrk.format(r[1], r[2], r[3], r[4] and bodies[r[4]] or nil)
end
response = function(status, headers, body)
  if status >= 400 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50_ms": %f, "p95_ms": %f, "socket_errors": %d, "non_2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


def lua_string(value: str) -> str:
    return json.dumps(value)  # JSON string escapes are valid Lua escapes for ASCII content


def script(requests: list[Request], once: bool, folder: Path) -> str:
    """A wrk script cycling through the requests; bodies go through files (they may be binary)."""
    rows: list[str] = []
    bodies: dict[str, int] = {}
    files: list[str] = []
    for r in requests:
        headers = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in r.headers.items()) + "}"
        body = "nil"
        if r.body is not None:
            if r.body not in bodies:
                path = folder / f"body-{len(files)}.bin"
                path.write_bytes(r.body.encode("latin-1"))
                bodies[r.body] = len(files) + 1
                files.append(f"slurp({lua_string(str(path))})")
            body = str(bodies[r.body])
        rows.append(f"{{{lua_string(r.method)}, {lua_string(r.path)}, {headers}, {body}}}")
    return (
        LUA.replace("{BODIES}", "{" + ", ".join(files) + "}")
        .replace("{REQUESTS}", "{" + ",\n".join(rows) + "}")
        .replace("{ONCE}", "true" if once else "false")
    )


def run_wrk(
    url: str, requests: list[Request], *, seconds: float, connections: int, once: bool, folder: Path
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(dir=folder))
    path = work / "bench.lua"
    path.write_text(script(requests, once, work))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(path), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    result: dict[str, Any] = json.loads(line)
    result["rps"] = result["requests"] / result["seconds"]
    return result


def multipart(kind: str, content: bytes) -> tuple[str, str]:
    boundary = "anefbenchboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="piece.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body.decode("latin-1"), f"multipart/form-data; boundary={boundary}"


def drain(platform: PlatformProcess) -> float:
    """Wait until every message has crossed the seam, so the prefecture reads a full queue."""
    started = time.monotonic()
    with httpx.Client(base_url=platform.url, timeout=30) as client:
        api = Api(client)
        while api.admin("GET", "/_admin/sync").json()["pending"]:
            time.sleep(0.1)
    return time.monotonic() - started


@dataclass(frozen=True)
class StepFigures:
    """One endpoint under wrk: its throughput, latency and failed requests."""

    name: str
    rps: float
    p50_ms: float
    p95_ms: float
    errors: int
    requests: int
    cpu_ms: float | None = None  # the platform process's CPU time per request; None where unknown
    reference_rps: float | None = None  # a step's: the trivial endpoint's mean just before and after

    @property
    def share(self) -> float | None:
        """The step's throughput over the trivial endpoint's around it."""
        return self.rps / self.reference_rps if self.reference_rps else None


def process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU time so far of a process, all its threads and its living children (the
    platform's mail sender runs in a child process: its work is the steps' cost too)."""
    try:
        process = psutil.Process(pid)
        total: float = sum(process.cpu_times()[:2])
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
    except psutil.Error:
        return None
    return total


@dataclass(frozen=True)
class PlatformFigures:
    """Every row measured against the same platform process, the trivial endpoint first and last."""

    steps: tuple[StepFigures, ...]
    seconds: float
    connections: int
    applicants: int
    database: str
    drained_s: float
    warnings: tuple[str, ...] = ()

    @property
    def trivial_steps(self) -> tuple[StepFigures, ...]:
        return tuple(step for step in self.steps if step.reference_rps is None)

    @property
    def trivial_rps(self) -> float:
        """The trivial endpoint's throughput over the run: the mean of its rows."""
        rows = self.trivial_steps
        return sum(row.rps for row in rows) / len(rows)

    @property
    def journey_steps(self) -> tuple[StepFigures, ...]:
        return tuple(step for step in self.steps if step.reference_rps is not None)


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def measure(
    *,
    seconds: float = 8,
    applicants: int = 2000,
    connections: int = 32,
    database_url: str | None = None,
    worker_threads: int | None = None,
    submit_room: float = SUBMIT_ROOM,
    progress: Callable[[str], None] | None = None,
) -> PlatformFigures:
    """Start a platform, seed and prepare at least ``applicants`` (enough for ``renewal.submit``
    to reach ``submit_room`` of the first /healthz row's throughput), then measure every row."""
    progress = progress or to_stderr
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="anef-bench-"))
    try:
        with smtp_sink() as smtp:
            platform = PlatformProcess(
                data_dir=folder / "data",
                smtp_port=smtp.port,
                database_url=database_url,
                extra=["--worker-threads", str(worker_threads)] if worker_threads else [],
            )
            try:  # a platform that did not answer in time is stopped too
                platform.start(timeout=START_TIMEOUT)
                steps, drained, warnings, prepared = measure_steps(
                    platform,
                    seconds=seconds,
                    applicants=applicants,
                    connections=connections,
                    folder=folder,
                    progress=progress,
                    submit_room=submit_room,
                )
            finally:
                platform.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return PlatformFigures(
        steps=tuple(steps),
        seconds=seconds,
        connections=connections,
        applicants=prepared,
        database="PostgreSQL" if database_url else "SQLite (WAL)",
        drained_s=drained,
        warnings=tuple(warnings),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--applicants", type=int, default=1200, help="at least this many (see --submit-room)")
    parser.add_argument(
        "--submit-room", type=float, default=SUBMIT_ROOM, help="drafts for renewal.submit up to this share of /healthz"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--worker-threads", type=int, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmark: wrk is missing (apt-get install wrk)")
    figures = measure(
        seconds=args.seconds,
        applicants=args.applicants,
        connections=args.connections,
        database_url=args.database_url,
        worker_threads=args.worker_threads,
        submit_room=args.submit_room,
    )
    trivial = figures.trivial_rps
    print(
        f"\nPlatform benchmark — one uvicorn worker, {figures.database}, "
        f"{figures.connections} connections, {figures.seconds:g} s per row, wrk\n"
    )
    print(f"{'endpoint':40} {'req/s':>8} {'share':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'CPU ms':>7}")
    for r in figures.steps:
        cpu = f"{r.cpu_ms:7.2f}" if r.cpu_ms is not None else f"{'?':>7}"
        share = f"{r.share:7.0%}" if r.share is not None else f"{'':>7}"
        print(f"{r.name:40} {r.rps:8.0f} {share} {r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.errors:7d} {cpu}")
    print(f"share: of the trivial endpoint's rows just before and after; its mean over the run, {trivial:.0f} req/s")


def measure_steps(
    platform: PlatformProcess,
    *,
    seconds: float,
    applicants: int,
    connections: int,
    folder: Path,
    progress: Callable[[str], None],
    submit_room: float = SUBMIT_ROOM,
) -> tuple[list[StepFigures], float, list[str], int]:
    """Measure /healthz, seed and prepare applicants (at least ``applicants``, and enough drafts for
    renewal.submit to reach ``submit_room`` of /healthz), then wrk every row; returns the rows, the
    seconds the seam took to drain after the submissions, warnings and the applicants prepared."""
    rows: list[StepFigures] = []
    warnings: list[str] = []
    pid = platform.process.pid if platform.process else 0
    drained = 0.0

    def wrk_row(name: str, requests: list[Request], once: bool) -> StepFigures:
        nonlocal drained
        cpu_before = process_cpu_seconds(pid)
        result = run_wrk(platform.url, requests, seconds=seconds, connections=connections, once=once, folder=folder)
        if once:  # the step's work across the seam is its cost too
            drained = drain(platform)
            progress(f"  the seam drained {drained:.1f} s after the last submission")
        cpu_after = process_cpu_seconds(pid)
        row = StepFigures(
            name=name,
            rps=result["rps"],
            p50_ms=result["p50_ms"],
            p95_ms=result["p95_ms"],
            errors=result["socket_errors"] + result["non_2xx"],
            requests=result["requests"],
            cpu_ms=None
            if cpu_before is None or cpu_after is None
            else (cpu_after - cpu_before) * 1000 / max(1, result["requests"]),
        )
        progress(f"  measured {name}: {row.rps:.0f} req/s")
        return row

    def trivial_row() -> StepFigures:
        return wrk_row("trivial GET /healthz", [Request("GET", "/healthz", {})], False)

    def step_row(name: str, requests: list[Request], once: bool) -> StepFigures:
        """The step, then the trivial endpoint again; the step's reference is its two neighbours."""
        before = rows[-1]
        step = wrk_row(name, requests, once)
        after = trivial_row()
        rows.extend([replace(step, reference_rps=(before.rps + after.rps) / 2), after])
        return step

    rows.append(trivial_row())
    applicants = max(applicants, math.ceil(rows[0].rps * seconds * submit_room) + connections)
    with httpx.Client(base_url=platform.url, timeout=30) as client:
        api = Api(client)
        seeds = [applicant_seed() for _ in range(applicants)]
        agent = agent_seed()
        api.seed(*seeds, agent)
        with ThreadPoolExecutor(8) as pool:
            auths = list(pool.map(api.login, seeds))
        agent_auth = api.agent_login(agent)

        def prepare(auth: dict[str, str]) -> str:
            created = client.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
            for kind in created["missing_documents"]:
                api.upload(auth, created["id"], kind, pdf_bytes(10_000))
            return str(created["id"])

        progress(f"  prepared {len(seeds)} applicants; preparing {len(seeds)} complete drafts…")
        with ThreadPoolExecutor(8) as pool:
            drafts = list(pool.map(prepare, auths))

    def bearer(auth: dict[str, str]) -> dict[str, str]:
        return {"Authorization": auth["Authorization"]}

    json_headers = {"Content-Type": "application/json"}
    upload_body, upload_type = multipart("complement", pdf_bytes(200_000))
    plans: list[tuple[str, list[Request], bool]] = [
        (
            "login.submit",
            [
                Request(
                    "POST",
                    "/api/auth/login",
                    json_headers,
                    json.dumps({"identifier": s["email"], "password": s["password"]}),
                )
                for s in seeds
            ],
            False,
        ),
        ("login.dashboard (GET /api/me)", [Request("GET", "/api/me", bearer(a)) for a in auths], False),
        ("renewal.choose_procedure", [Request("GET", "/api/me/procedures", bearer(a)) for a in auths], False),
        (
            "renewal.create (draft)",
            [
                Request("POST", "/api/me/dossiers", {**bearer(a), **json_headers}, json.dumps({"procedure": "renewal"}))
                for a in auths
            ],
            False,
        ),
        (
            "renewal.upload (200 KB PDF)",
            [
                Request(
                    "POST", f"/api/me/dossiers/{d}/documents", {**bearer(a), "Content-Type": upload_type}, upload_body
                )
                for a, d in zip(auths, drafts, strict=True)
            ],
            False,
        ),
        (
            "renewal.submit",
            [Request("POST", f"/api/me/dossiers/{d}/submit", bearer(a)) for a, d in zip(auths, drafts, strict=True)],
            True,
        ),
    ]
    for name, requests, once in plans:
        step = step_row(name, requests, once)
        # wrk stops a one-shot list with a request in flight on each connection: a row within
        # that many of its end ran out of drafts, and its req/s is only a floor.
        if once and step.requests >= len(requests) - connections:
            warnings.append(f"{name} used up its {len(requests)} drafts (req/s a floor); use more --applicants")
            progress(f"  warning: {warnings[-1]}")
    # wrk issues the one-shot list in order and every request sent completes, so the first
    # `requests` drafts are the submitted ones; the next rows read only those.
    filed = list(zip(auths, drafts, strict=True))[: step.requests]
    for name, requests in (
        ("renewal.receipt", [Request("GET", f"/api/me/dossiers/{d}/receipt", bearer(a)) for a, d in filed]),
        (
            "renewal.reconcile (agent GET dossier)",
            [Request("GET", f"/api/agent/dossiers/{d}", bearer(agent_auth)) for _, d in filed],
        ),
    ):
        step_row(name, requests, False)
    return rows, drained, warnings, applicants


if __name__ == "__main__":
    main()
