"""Locust's "current" percentiles are kept for the Aggregated row only: no entry keeps copies of
its histogram, on a single process or a master, and the report's charts still have their figures."""

from __future__ import annotations

import json
import subprocess
import sys

# Locust patches the interpreter with gevent when imported: it runs in a process of its own.
CHECK = """
import json
from locust import User, constant, events, task
from locust.env import Environment
from locust.stats import RequestStats, update_stats_history
from scenarios.locust_stats import current_percentiles_for_the_total_only

class Idle(User):
    wait_time = constant(600)

    @task
    def nothing(self):
        pass

def entries(stats):
    return sorted(e.name for e in stats.entries.values() if e.use_response_times_cache or e.response_times_cache)

found = {}
local = Environment(user_classes=[Idle], events=events)
runner = local.create_local_runner()
current_percentiles_for_the_total_only(local)
runner.start(1, spawn_rate=1, wait=False)  # Locust remakes its statistics here
for name in ("POST /api/auth/login", "renewal.upload"):
    for duration in (12.0, 480.0, 3100.0):
        local.stats.log_request("GET", name, duration, 0)
update_stats_history(runner)  # the report's charts: raises if the Aggregated row keeps no copies
found["local"] = {"caching": entries(local.stats), "total": local.stats.total.use_response_times_cache}
runner.quit()

master = Environment(user_classes=[Idle], events=events)
master_runner = master.create_master_runner("127.0.0.1", 0)
current_percentiles_for_the_total_only(master)
worker = RequestStats(use_response_times_cache=False)
worker.log_request("GET", "renewal.upload", 250.0, 0)
report = {"stats": worker.serialize_stats(), "stats_total": worker.total.get_stripped_report(), "errors": {}}
master.events.worker_report.fire(client_id="w1", data=report)
found["master"] = {"caching": entries(master.stats), "total": master.stats.total.use_response_times_cache}
master_runner.quit()
print(json.dumps(found))
"""


def test_only_the_aggregated_row_keeps_current_percentiles() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["local"]["caching"] == []
    assert found["local"]["total"] is True
    assert found["master"]["caching"] == []  # Locust's master makes received entries with copies on
    assert found["master"]["total"] is True
