"""The report over time: throughput, journeys in flight and failures per bucket, the fault and drill
windows read from the campaign and the manifest, and their text alternatives (a sentence, a table
of the windows, a table of the chart's data)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from dashboards.i18n import language
from dashboards.report import render_report
from dashboards.report_data import CampaignFile, event_figures
from dashboards.windows import DRILL_SPANS, Window, run_windows
from drills.catalogue import DRILLS
from scenarios.events import Event
from scenarios.manifest import FaultChangeRecord, ManifestFile, moment, read_manifest
from tests.checks.test_gate import logins
from tests.checks.test_store_and_rights import folder, journey, step
from tests.dashboards.test_report import T0, judged, spread, text_of

SCHEDULE = """\
name: drill
faults:
  profile: anef-2024
  schedule:
    - {at: 30, profile: none}
    - {at: 40, action: kill_platform}
    - {at: 50, action: restart_platform}
    - {at: 60, action: kill_worker, worker: 1}
    - {at: 70, action: cut, dependency: pushgateway}
"""


def campaign(text: str = SCHEDULE) -> CampaignFile:
    import yaml

    return CampaignFile.model_validate(yaml.safe_load(text))


def applied(*changes: tuple[float, str], error_at: float | None = None, late_s: float = 0.5) -> ManifestFile:
    """A manifest whose load started at T0 and applied each change ``late_s`` after its moment."""
    return ManifestFile(
        load_started=moment(T0),
        load_ended=moment(T0 + 90),
        fault_changes=[
            FaultChangeRecord(
                at_s=at,
                applied=moment(T0 + at + late_s),
                faults=label,
                error="platform unreachable" if at == error_at else None,
            )
            for at, label in changes
        ],
    )


APPLIED = (
    (30.0, "none"),
    (40.0, "kill_platform"),
    (50.0, "restart_platform"),
    (60.0, "kill_worker worker 1"),
    (70.0, "cut pushgateway"),
)


def test_fault_and_drill_windows_from_the_schedule_as_applied() -> None:
    found = run_windows(campaign(), applied(*APPLIED), origin=T0, end_s=90.0, words=language("en"))
    assert found == [
        Window("fault", 0.0, 30.5, "anef-2024"),
        Window("drill", 40.5, 50.5, "platform down"),
        Window("drill", 60.5, None, "kill_worker worker 1"),
        Window("drill", 70.5, 90.0, "pushgateway cut off"),  # never restored: until the load ended
    ]


def test_a_change_that_failed_opens_no_window() -> None:
    manifest = applied(*APPLIED, error_at=40.0)
    found = run_windows(campaign(), manifest, origin=T0, end_s=90.0, words=language("fr"))
    # The kill failed: no "platform down" window; the restart alone is a moment.
    assert [(w.label, w.end_s) for w in found] == [
        ("anef-2024", 30.5),
        ("restart_platform", None),
        ("kill_worker worker 1", None),
        ("pushgateway coupé", 90.0),
    ]


def test_without_a_record_of_changes_the_plan_is_shown() -> None:
    plan = campaign(
        "faults:\n  profile: none\n  schedule:\n    - {at: 120, profile: anef-2024}\n    - {at: 300, profile: none}\n"
    )
    found = run_windows(plan, ManifestFile(), origin=T0, end_s=420.0, words=language("fr"))
    assert found == [Window("fault", 120.0, 300.0, "anef-2024")]


def test_every_drill_window_names_real_drills() -> None:
    for opening, (closing, message) in DRILL_SPANS.items():
        assert opening in DRILLS
        assert closing in DRILLS
        assert language("fr").has(message)


def test_activity_counts_steps_failures_and_journeys_in_flight(tmp_path: Path) -> None:
    events: list[Event] = [step("login.submit", time=T0 + s, duration=100.0) for s in range(20) if not 15 <= s <= 17]
    events += [step("login.submit", "error", 100.0, time=T0 + s) for s in (10, 11)]
    events.append(msgspec.structs.replace(journey("login", "j1", 1, "ok", T0 + 2.5), duration_ms=2000.0))
    found = event_figures(folder(tmp_path / "r", events), origin=T0)
    assert found.bucket_s == 1
    assert found.origin == T0
    by_start = {b.start_s: b for b in found.activity}
    assert [b.start_s for b in found.activity] == [float(s) for s in range(20)]  # stalled seconds included
    assert by_start[3.0].steps == 1
    assert by_start[10.0].steps == 2
    assert by_start[10.0].failures == 1
    assert [by_start[s].steps for s in (15.0, 16.0, 17.0)] == [0, 0, 0]  # a stall shows as zero
    assert by_start[2.0].in_flight == pytest.approx(0.5)
    assert by_start[3.0].in_flight == pytest.approx(1.0)
    assert by_start[4.0].in_flight == pytest.approx(0.5)
    assert by_start[5.0].in_flight == 0.0


@pytest.fixture
def drilled(tmp_path: Path) -> Path:
    return drilled_run(tmp_path / "r")


def drilled_run(path: Path) -> Path:
    """A 90-second run: faults on until 30 s, the platform down from 40 to 50 s with every step failing."""
    steps = [
        msgspec.structs.replace(event, outcome="error" if 40 <= n < 50 else "ok")
        for n, event in enumerate(logins(90, 0))
    ]
    journeys: list[Event] = [journey("login", f"j{n}", n, "ok", T0 + n) for n in range(0, 90, 3)]
    results = judged(path, spread(steps) + journeys)
    started = datetime.fromisoformat("2026-11-26T20:45:26+00:00")  # T0
    manifest = read_manifest(results).model_copy(
        update={
            "load_started": started,
            "load_ended": started + timedelta(seconds=90),
            "fault_changes": applied(*APPLIED[:3], late_s=0.0).fault_changes,
        }
    )
    (results / "manifest.json").write_text(manifest.json_text())
    (results / "campaign.yaml").write_text(SCHEDULE)
    return results


@pytest.mark.parametrize(
    ("lang", "fault", "down", "heading"),
    [
        ("fr", "panne injectée", "plateforme arrêtée", "Activité au fil de la campagne"),
        ("en", "injected fault", "platform down", "Activity over the campaign"),
    ],
)
def test_the_report_shows_activity_over_time_with_its_windows(
    drilled: Path, lang: str, fault: str, down: str, heading: str
) -> None:
    html = render_report(drilled, lang=lang)
    section = html[html.index('id="activity"') : html.index('id="latency"')]
    words = text_of(section)
    assert heading in words
    title = re.search(r'<title id="chart-activity-title">([^<]+)</title>', section)
    assert title is not None
    assert "40" in title.group(1)  # the sentence names when failures peaked
    windows = re.findall(r'<tr class="window-(\w+)">(.*?)</tr>', section, flags=re.S)
    assert [kind for kind, _ in windows] == ["fault", "drill"]
    assert fault in text_of(windows[0][1])
    assert "anef-2024" in text_of(windows[0][1])
    assert down in text_of(windows[1][1])
    data = section[section.index("<details>") :]
    assert len(re.findall(r'<tr><th scope="row" class="n">', data)) == 18  # 90 s in buckets of 5 s
    # The failures of the outage show in the data table, in the bucket of 40 s: 5 in 5 s.
    row = re.search(r'<th scope="row" class="n">40</th>(.*?)</tr>', data, flags=re.S)
    assert row is not None
    assert text_of(row.group(1)).split()[-1] in ("1,00", "1.00")
