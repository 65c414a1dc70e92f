"""Locust's statistics kept lean: the "current" percentiles for the Aggregated row only.

Locust draws its "current" percentiles (the last 10 s) for the Aggregated row alone: the HTML
report's charts and the web UI's header. Yet by default every entry keeps a copy of its
response-time histogram each second for 20 s, copies that grow as the histograms fill (up to about
310 keys each): with the harness's seventy-odd entries (routes and ``STEP`` rows) that is the
largest part of a Locust process's growth over a long campaign. The entries here keep none; the
Aggregated row keeps its copies, so the charts are unchanged.
"""

from __future__ import annotations

from locust.env import Environment
from locust.runners import MasterRunner
from locust.stats import RequestStats, StatsEntry


def current_percentiles_for_the_total_only(environment: Environment) -> None:
    """Entries made from now on keep no copies; the Aggregated row keeps its own, also when Locust
    remakes it at a test's start; on a master, the entries made from workers' reports keep none."""
    environment.stats.use_response_times_cache = False
    _total_keeps_copies(environment.stats)
    environment.events.test_start.add_listener(lambda **_: _total_keeps_copies(environment.stats))
    if isinstance(environment.runner, MasterRunner):
        environment.events.worker_report.add_listener(lambda **_: _entries_keep_none(environment.stats))


def _total_keeps_copies(stats: RequestStats) -> None:
    if not stats.total.use_response_times_cache and not stats.total.num_requests:
        stats.total = StatsEntry(stats, stats.total.name, stats.total.method, use_response_times_cache=True)


def _entries_keep_none(stats: RequestStats) -> None:
    # Locust's master makes the entries it receives with copies on, whatever the flag says.
    for entry in stats.entries.values():
        if entry.use_response_times_cache:
            entry.use_response_times_cache = False
            entry.response_times_cache = None
