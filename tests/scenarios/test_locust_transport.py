"""The Locust transport reports each request to Locust's statistics as ``catch_response`` did:
failed exactly when its status was not expected, or when no answer came."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.overhead.canned import CannedPlatform

# Locust patches the interpreter with gevent when imported: it runs in a process of its own.
SEND = """
import json, sys
from locust import events
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from scenarios.transport import TransportFailure
from scenarios.users import LocustTransport

environment = Environment(events=events)
environment.create_local_runner()
transport = LocustTransport(FastHttpSession(sys.argv[1], environment.events.request, user=None))
bearer = {"Authorization": "Bearer tok-a"}
replies = {
    "login": transport.send("POST", "/api/auth/login", name="login", expect=(200,), json={"identifier": "a@x.org"}),
    "unexpected 401": transport.send(
        "GET", "/api/me", name="unexpected 401", expect=(200,), headers={"Authorization": "Bearer other"}
    ),
    "expected 404": transport.send("GET", "/api/nothing", name="expected 404", expect=(200, 404), headers=bearer),
    "unexpected 200": transport.send("GET", "/api/me", name="unexpected 200", expect=(201,), headers=bearer),
}
try:
    LocustTransport(FastHttpSession("http://127.0.0.1:9", environment.events.request, user=None)).send(
        "GET", "/api/me", name="refused", expect=(200,)
    )
    refused = "answered"
except TransportFailure as failure:
    refused = "timeout" if failure.timeout else "error"
stats = {name: [e.num_requests, e.num_failures] for (name, _), e in environment.stats.entries.items()}
errors = sorted(f"{e.name}: {e.error}" for e in environment.stats.errors.values())
print(json.dumps({
    "replies": {name: [r.status, r.body.decode()] for name, r in replies.items()},
    "refused": refused,
    "stats": stats,
    "errors": errors,
    "total": [environment.stats.total.num_requests, environment.stats.total.num_failures],
}))
"""


def answers(tmp_path: Path) -> Path:
    def answer(status: int, body: object) -> dict[str, object]:
        return {"status": status, "headers": [["content-type", "application/json"]], "body": json.dumps(body)}

    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps(
            {
                "logins": {"a@x.org": answer(200, {"token": "tok-a"})},
                "tokens": {"tok-a": {"/api/me": answer(200, {"id": "A"})}},
            }
        )
    )
    return path


def test_failures_in_locusts_statistics_are_the_unexpected_statuses_and_the_missing_answers(tmp_path: Path) -> None:
    with CannedPlatform(answers(tmp_path)) as canned:
        sent = subprocess.run(
            [sys.executable, "-c", SEND, canned.url], capture_output=True, text=True, timeout=60, check=False
        )
    assert sent.returncode == 0, sent.stderr
    seen = json.loads(sent.stdout)
    assert seen["replies"]["login"] == [200, '{"token": "tok-a"}']
    assert seen["replies"]["unexpected 401"][0] == 401
    assert seen["replies"]["expected 404"][0] == 404
    assert seen["replies"]["unexpected 200"] == [200, '{"id": "A"}']
    assert seen["refused"] == "error"
    assert seen["stats"] == {
        "login": [1, 0],
        "unexpected 401": [1, 1],
        "expected 404": [1, 0],
        "unexpected 200": [1, 1],
        "refused": [1, 1],
    }
    assert seen["total"] == [5, 3]
    assert seen["errors"] == [
        "refused: [Errno 111] Connection refused",
        "unexpected 200: status 200",
        "unexpected 401: status 401",
    ]


STEPS = """
import json
from locust import events
from locust.env import Environment
from scenarios.events import Outcome, StepEvent
from scenarios.users import StepStats


class Kept:
    def __init__(self):
        self.events = []

    def write(self, event):
        self.events.append(event)

    def close(self):
        pass


environment = Environment(events=events)
environment.create_local_runner()
kept = Kept()
sink = StepStats(kept, environment)
for outcome, ms in ((Outcome.OK, 12.5), (Outcome.OK, 30.0), (Outcome.LOST, 15000.0)):
    sink.write(StepEvent(time=0.0, journey="renewal", step="renewal.reconcile", outcome=outcome,
                         duration_ms=ms, journey_id="j", worker="worker-0"))
entry = environment.stats.get("renewal.reconcile", "STEP")
print(json.dumps({
    "written": len(kept.events),
    "step": [entry.num_requests, entry.num_failures, entry.max_response_time],
    "total": [environment.stats.total.num_requests, environment.stats.total.num_failures],
    "errors": sorted(f"{e.method} {e.name}: {e.error}" for e in environment.stats.errors.values()),
}))
"""


def test_steps_show_as_their_own_entries_and_stay_out_of_the_aggregated_requests() -> None:
    shown = subprocess.run([sys.executable, "-c", STEPS], capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    seen = json.loads(shown.stdout)
    assert seen["written"] == 3  # every event reaches the log
    assert seen["step"] == [3, 1, 15000.0]
    assert seen["total"] == [0, 0]  # Locust's aggregated row counts HTTP requests only
    assert seen["errors"] == ["STEP renewal.reconcile: lost"]
