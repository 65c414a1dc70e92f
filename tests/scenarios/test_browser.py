"""Browser journeys through the French pages, in headless Chromium, against an embedded target.

One embedded platform (with its mailbox) and one Chromium per module; each test takes its own
browser context. The in-process tests act for the applicants of partition 0/2, the child process
of ``python -m scenarios.browser`` for those of partition 1/2, so that no two of them act for the
same applicant (a password reset in one would break a login in the other).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from anef_harness.embedded import EmbeddedTarget
from drills.admin import set_clock
from scenarios.browser.journeys import BROWSER_JOURNEYS
from scenarios.browser.runner import (
    CHROMIUM,
    BrowserOptions,
    BrowserStats,
    BrowserUnavailable,
    Cast,
    launch,
    relaunch,
    run_browser_journeys,
    run_in_page,
)
from scenarios.events import Event, EventLog, JourneyEvent, JourneyOutcome, Outcome, StepEvent
from scenarios.journeys import get_journey
from scenarios.journeys.runner import AgentDesk, JourneySettings, mailbox_reader
from scenarios.transport import HttpxTransport
from synthetic_users.agents import agent_identities
from synthetic_users.oracle import Oracle
from synthetic_users.partition import LeaseTable, Partition
from synthetic_users.population import Population
from synthetic_users.seeding import seed
from synthetic_users.spec import build_spec
from tests.scenarios.world import RENEWAL_STEPS
from tests.support import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

REFERENCE_DATE = date(2026, 11, 26)
POPULATION = {
    "size": 80,
    "seed": 11,
    "reference_date": REFERENCE_DATE.isoformat(),
    "shares": {"card_handed_over": 0.9, "in_renewal_window": 0.8, "email_bounces": 0.0},
    "mix": {"prefectures": {"75": 0.5, "93": 0.5}},
}
SETTINGS = JourneySettings(
    think_time_scale=0, abandonment=False, retries=False, document_size_scale=0.05, email_deadline=20
)


class Events:
    """An event sink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def write(self, event: Event) -> None:
        self.events.append(event)

    @property
    def steps(self) -> list[StepEvent]:
        return [e for e in self.events if isinstance(e, StepEvent)]

    @property
    def journeys(self) -> list[JourneyEvent]:
        return [e for e in self.events if isinstance(e, JourneyEvent)]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTarget]:
    with EmbeddedTarget(tmp_path_factory.mktemp("browser") / "data") as started:
        population = Population(build_spec("test", POPULATION))
        seed(population, started.url, started.admin_token)
        set_clock(started.url, started.admin_token, REFERENCE_DATE)
        yield started


@pytest.fixture(scope="module")
def cast(target: EmbeddedTarget) -> Cast:
    population = Population(build_spec("test", POPULATION))
    spec = population.spec
    return Cast(
        target=target.url,
        population=population,
        oracle=Oracle(population),
        leases=LeaseTable(len(population), Partition(0, 2)),
        desk=AgentDesk(agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)),
        mailbox=mailbox_reader(target.mailbox.api_url),
        settings=SETTINGS,
    )


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """One Playwright per module: its sync API allows one per thread."""
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch(playwright, BrowserOptions())
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, cast: Cast) -> Iterator[Page]:
    context = browser.new_context(base_url=cast.target, locale="fr-FR")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def transport(cast: Cast) -> Iterator[HttpxTransport]:
    client = HttpxTransport(cast.target)
    yield client
    client.close()


def run(name: str, cast: Cast, page: Page, transport: HttpxTransport) -> tuple[JourneyOutcome | None, Events]:
    """Run one browser journey for the next applicant of the partition it fits."""
    lease = cast.lease_for(get_journey(name))
    assert lease is not None, f"no applicant fits {name}"
    events = Events()
    with lease:
        ctx = cast.context(lease.index, transport, random.Random(lease.index))
        outcome = run_in_page(name, ctx, page, events, worker="test")
    return outcome, events


def set_faults(target: EmbeddedTarget, *faults: dict[str, Any]) -> None:
    response = httpx.put(
        f"{target.url}/_admin/faults",
        json={"faults": list(faults)},
        headers={"Authorization": f"Bearer {target.admin_token}"},
    )
    assert response.status_code == 200, response.text


def assert_all_ok(events: Events, steps: list[str]) -> None:
    assert [(e.step, e.outcome) for e in events.steps] == [(step, Outcome.OK) for step in steps], [
        e for e in events.steps
    ]
    assert {e.channel for e in events.events} == {"browser"}


def page_steps(events: Events) -> list[StepEvent]:
    """Steps that load a page (the e-mail and the prefecture are looked at over HTTP)."""
    return [e for e in events.steps if not e.step.endswith((".email", ".reconcile"))]


def test_registry_mirrors_the_api_journeys() -> None:
    assert set(BROWSER_JOURNEYS) == {"login", "password_reset", "renewal"}


def test_login(cast: Cast, page: Page, transport: HttpxTransport) -> None:
    outcome, events = run("login", cast, page, transport)

    assert outcome is JourneyOutcome.OK
    assert_all_ok(events, ["login.submit", "login.dashboard"])
    assert all(float(e.evidence["page_load_ms"]) > 0 for e in events.steps)
    assert events.steps[1].evidence["page"] == "/tableau-de-bord"


def test_password_reset(cast: Cast, page: Page, transport: HttpxTransport) -> None:
    outcome, events = run("password_reset", cast, page, transport)

    assert outcome is JourneyOutcome.OK
    assert_all_ok(
        events,
        ["password_reset.request", "password_reset.email", "password_reset.confirm", "password_reset.login"],
    )
    assert all("page_load_ms" in e.evidence for e in page_steps(events))
    index = events.journeys[0].applicant
    assert index is not None
    assert cast.oracle.truth(index).password != cast.population.applicant(index).password


def test_renewal(cast: Cast, page: Page, transport: HttpxTransport) -> None:
    outcome, events = run("renewal", cast, page, transport)

    assert outcome is JourneyOutcome.OK
    assert_all_ok(events, RENEWAL_STEPS)
    assert all("page_load_ms" in e.evidence for e in page_steps(events))
    index = events.journeys[0].applicant
    assert index is not None
    [dossier] = cast.oracle.truth(index).dossiers.values()
    assert dossier.state == "submitted"
    assert dossier.receipt_number
    assert dossier.at_prefecture
    assert len(dossier.documents) == 4


def test_renewal_not_selectable_is_missing(
    target: EmbeddedTarget, cast: Cast, page: Page, transport: HttpxTransport
) -> None:
    set_faults(target, {"id": "procedure_not_selectable", "rate": 1.0, "params": {"procedure": "renewal"}})
    try:
        outcome, events = run("renewal", cast, page, transport)
    finally:
        set_faults(target)

    assert outcome is JourneyOutcome.FAILED
    assert [(e.step, e.outcome) for e in events.steps] == [
        ("renewal.login", Outcome.OK),
        ("renewal.choose_procedure", Outcome.MISSING),
    ]
    missing = events.steps[1]
    assert "'renewal' absent from the list" in missing.message
    assert "page_load_ms" in missing.evidence
    assert events.journeys[0].failed_step == "renewal.choose_procedure"


def test_a_browser_failure_inside_a_step_is_an_error(browser: Browser, cast: Cast, transport: HttpxTransport) -> None:
    context = browser.new_context(base_url=cast.target)
    page = context.new_page()
    page.close()  # the page is gone, as when its renderer crashes

    outcome, events = run("login", cast, page, transport)
    context.close()

    assert outcome is JourneyOutcome.FAILED
    [failed] = events.steps
    assert (failed.step, failed.outcome, failed.channel) == ("login.submit", Outcome.ERROR, "browser")
    assert failed.message.startswith("browser: ")


def test_a_page_slower_than_the_timeout_is_a_timeout(browser: Browser, cast: Cast, transport: HttpxTransport) -> None:
    context = browser.new_context(base_url=cast.target)
    context.set_default_navigation_timeout(1)

    outcome, events = run("login", cast, context.new_page(), transport)
    context.close()

    assert outcome is JourneyOutcome.FAILED
    assert [(e.step, e.outcome) for e in events.steps] == [("login.submit", Outcome.TIMEOUT)]


def test_a_dead_browser_is_relaunched_once(playwright: Playwright) -> None:
    stats = BrowserStats()
    relaunched = relaunch(playwright, BrowserOptions(), stats)
    assert relaunched.is_connected()
    relaunched.close()

    with pytest.raises(BrowserUnavailable, match="after 1 relaunch"):
        relaunch(playwright, BrowserOptions(), stats)
    assert stats.relaunches == 1


def test_runner_loop_writes_events(cast: Cast, tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl", flush_interval=0.2)
    stop = threading.Event()
    results: list[Any] = []
    weights = {"login": 1.0, "renewal": 1.0}
    options = BrowserOptions(pause=0.0, timeout_ms=15_000)

    def loop() -> None:  # in a thread: Playwright's sync API is one per thread
        results.append(run_browser_journeys(cast, weights, log, stop=stop, duration=60.0, options=options))

    thread = threading.Thread(target=loop)
    thread.start()
    # Stop once a journey has ended (Chromium's start alone can take seconds on a busy machine).
    path = tmp_path / "events.jsonl"
    try:
        wait_until(lambda: path.exists() and b'"kind":"journey"' in path.read_bytes(), timeout=60, interval=0.1)
    finally:
        stop.set()
        thread.join(60)
        log.close()

    assert not thread.is_alive()
    [stats] = results
    assert sum(stats.journeys.values()) >= 1
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert {line["kind"] for line in lines} == {"attempt", "step", "journey"}
    assert {line["channel"] for line in lines} == {"browser"}
    assert all(line["outcome"] == "ok" for line in lines if line["kind"] != "attempt"), lines
    assert sum(line["kind"] == "journey" for line in lines) == sum(stats.journeys.values())


def test_entry_point(target: EmbeddedTarget, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    command = [
        sys.executable,
        "-m",
        "scenarios.browser",
        "--target",
        target.url,
        "--mailbox",
        target.mailbox.api_url,
        "--population-json",
        json.dumps(POPULATION),
        "--events",
        str(events),
        "--duration",
        "8",  # Chromium's start counts in the duration, and takes seconds on a busy machine
        "--journeys",
        "login=1",
        "--partition",
        "1/2",
        "--think-time-scale",
        "0",
        "--journey-settings-json",
        json.dumps({"abandonment": False}),  # one short journey under load: a persona giving up is not the subject
        "--pause",
        "0",
        "--oracle",
        str(tmp_path / "oracle.json"),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)

    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    assert summary["worker"] == "browser-1"
    assert summary["journeys"].get("login/ok", 0) >= 1, summary
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert {line["step"] for line in lines if line["kind"] == "step"} == {"login.submit", "login.dashboard"}
    assert all(line["applicant"] % 2 == 1 for line in lines)
    assert (tmp_path / "oracle.json").exists()


def test_entry_point_refuses_bad_options(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "scenarios.browser", "--target", "http://127.0.0.1:9", "--events"]
    command += [str(tmp_path / "e.jsonl"), "--size", "10", "--seed", "1", "--journeys", "logn=1"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    assert finished.returncode == 2
    assert "did you mean 'login'" in finished.stderr
