"""The browser process: Chromium launched once, journeys one after another in fresh contexts.

Browser journeys are expensive (a real page, real rendering), so a process runs a few of them
beside the protocol load rather than thousands: each loop owns one headless Chromium and runs
journey after journey, each in its own browser context (its own cookies: a fresh applicant
session), closed afterwards. Applicants come from the process's partition through leases and
the journeys' eligibility on the oracle's truth, exactly as for the Locust users. A journey's
failure never stops the loop; a browser that dies is relaunched once.

The child process around these loops (options, threads, signals) is ``scenarios.browser.process``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from core.errors import ConfigError, HarnessError, UnknownName
from scenarios.browser.journeys import BROWSER_JOURNEYS
from scenarios.client import ApplicantClient
from scenarios.events import JourneyOutcome
from scenarios.journeys import JourneyDef, get_journey, lease_for, run_journey
from scenarios.journeys.runner import (
    AgentDesk,
    EventSink,
    JourneyContext,
    JourneySettings,
    MailboxReader,
)
from scenarios.transport import HttpxTransport
from synthetic_users.oracle import Oracle
from synthetic_users.partition import Lease, LeaseTable
from synthetic_users.personas import get_persona
from synthetic_users.population import Population
from synthetic_users.targets import Target, is_loopback, parse_http_url

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CANDIDATES = 200  # applicants looked at for one journey before the loop waits


class BrowserUnavailable(HarnessError):
    """Chromium cannot be launched, or died again after its one relaunch (exit code 3)."""


@dataclass(frozen=True)
class BrowserOptions:
    """How the browser is run (not what it does: that is the journeys)."""

    executable_path: str | None = CHROMIUM  # None: Playwright's own download
    headless: bool = True
    timeout_ms: float = 30_000  # a page or an element slower than this is a ``timeout`` step
    pause: float = 1.0  # seconds between two journeys of a loop (uniform ±50 %)
    idle: float = 0.5  # seconds to wait when no applicant fits the drawn journey
    relaunches: int = 1


@dataclass
class Cast:
    """Who the browser journeys act for and with: the applicants of this process's partition,
    their truth, the prefecture agents and the mailbox."""

    target: str
    population: Population
    oracle: Oracle
    leases: LeaseTable
    desk: AgentDesk
    mailbox: MailboxReader | None
    settings: JourneySettings

    def lease_for(self, definition: JourneyDef) -> Lease | None:
        """A lease on a free applicant the journey fits, or None after ``CANDIDATES`` tries."""
        return lease_for(definition, self.leases, self.population, self.oracle, tries=CANDIDATES)

    def context(self, index: int, transport: HttpxTransport, rng: random.Random) -> JourneyContext:
        """The journey's context; its API client is only the agents' way in (``renewal.reconcile``)."""
        applicant = self.population.applicant(index)
        return JourneyContext(
            applicant=applicant,
            oracle=self.oracle,
            persona=get_persona(applicant.persona),
            client=ApplicantClient(transport),
            desk=self.desk,
            mailbox=self.mailbox,
            settings=self.settings,
            rng=rng,
        )


@dataclass
class BrowserStats:
    """What a loop did: journeys by ``journey/outcome``, idle waits, browser relaunches."""

    journeys: Counter[str] = field(default_factory=Counter)
    idle: int = 0
    relaunches: int = 0
    crashes: int = 0  # journeys that ended on an exception outside any step (logged)

    def add(self, other: BrowserStats) -> None:
        self.journeys.update(other.journeys)
        self.idle += other.idle
        self.relaunches += other.relaunches
        self.crashes += other.crashes

    def to_json(self) -> dict[str, Any]:
        return {
            "journeys": dict(sorted(self.journeys.items())),
            "idle": self.idle,
            "relaunches": self.relaunches,
            "crashes": self.crashes,
        }


def run_in_page(name: str, ctx: JourneyContext, page: Page, sink: EventSink, *, worker: str) -> JourneyOutcome | None:
    """Run one browser journey in a page, recorded like an API journey (channel ``browser``)."""
    journey = BROWSER_JOURNEYS[name]
    definition = replace(get_journey(name), run=lambda run: journey(run, page))
    return run_journey(definition, ctx, sink, worker=worker, channel="browser")


def launch(playwright: Playwright, options: BrowserOptions) -> Browser:
    """Headless Chromium; without the sandbox as root (containers), where Chromium refuses it."""
    args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    try:
        return playwright.chromium.launch(executable_path=options.executable_path, headless=options.headless, args=args)
    except PlaywrightError as exc:
        raise BrowserUnavailable(f"cannot launch Chromium ({options.executable_path}): {exc}") from None


def run_browser_journeys(
    cast: Cast,
    weights: Mapping[str, float],
    sink: EventSink,
    *,
    stop: threading.Event,
    duration: float | None = None,
    worker: str = "browser-0",
    options: BrowserOptions | None = None,
    rng: random.Random | None = None,
) -> BrowserStats:
    """Run browser journeys drawn by weight until ``stop`` is set or ``duration`` seconds have
    passed (the journey under way finishes); raises ``BrowserUnavailable`` when Chromium cannot
    be (re)launched."""
    names, shares = check_weights(weights)
    options = options or BrowserOptions()
    rng = rng or random.Random()
    deadline = None if duration is None else time.monotonic() + duration
    stats = BrowserStats()
    transport = HttpxTransport(cast.target, timeout=options.timeout_ms / 1000)
    with sync_playwright() as playwright:
        browser = launch(playwright, options)
        try:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                if not browser.is_connected():
                    browser = relaunch(playwright, options, stats)
                ran = one_journey(browser, cast, rng.choices(names, shares)[0], sink, transport, worker, options, rng)
                if ran is None:
                    stats.idle += 1
                    stop.wait(options.idle)
                    continue
                stats.journeys[ran] += 1
                stop.wait(rng.uniform(0.5, 1.5) * options.pause)
        finally:
            transport.close()
            close_quietly(browser)
    return stats


def check_weights(weights: Mapping[str, float]) -> tuple[list[str], list[float]]:
    """The journeys to draw from and their weights; a name without a browser version is refused
    with "did you mean"."""
    for name in weights:
        try:
            get_journey(name)
        except UnknownName as exc:
            raise ConfigError("--journeys", exc.message) from None
        if name not in BROWSER_JOURNEYS:
            raise ConfigError("--journeys", f"{name!r} has no browser version; expected {', '.join(BROWSER_JOURNEYS)}")
    chosen = {name: weight for name, weight in weights.items() if weight > 0}
    if not chosen:
        raise ConfigError("--journeys", "expected at least one journey with a weight > 0")
    return list(chosen), list(chosen.values())


def relaunch(playwright: Playwright, options: BrowserOptions, stats: BrowserStats) -> Browser:
    if stats.relaunches >= options.relaunches:
        raise BrowserUnavailable(f"Chromium died again after {stats.relaunches} relaunch(es)")
    stats.relaunches += 1
    log.warning("Chromium died; relaunching it (%d of %d)", stats.relaunches, options.relaunches)
    return launch(playwright, options)


def within_guard(url: str, target: str) -> bool:
    """Whether Chromium may request ``url`` during a journey against ``target``: the target's host or loopback."""
    parsed, allowed = parse_http_url(url), parse_http_url(target)
    if not isinstance(parsed, Target):
        return url.startswith(("data:", "blob:", "about:"))  # the page's own content, no network
    return is_loopback(parsed.host) or (isinstance(allowed, Target) and parsed.host == allowed.host)


def keep_to(target: str) -> Callable[[Route], None]:
    """A route handler that lets Chromium reach only the target and loopback: a redirect or a link
    to another host is aborted (the target guard holds inside the browser too)."""

    def handle(route: Route) -> None:
        if within_guard(route.request.url, target):
            route.continue_()
        else:
            log.warning("browser: request to %s refused by the target guard", route.request.url)
            route.abort("blockedbyclient")

    return handle


def one_journey(
    browser: Browser,
    cast: Cast,
    name: str,
    sink: EventSink,
    transport: HttpxTransport,
    worker: str,
    options: BrowserOptions,
    rng: random.Random,
) -> str | None:
    """One journey in a fresh browser context; ``journey/outcome``, or None when no applicant
    fits it now or the browser could not give a context (nothing was attempted then)."""
    lease = cast.lease_for(get_journey(name))
    if lease is None:
        return None
    with lease:
        ctx = cast.context(lease.index, transport, rng)
        try:
            context = browser.new_context(base_url=cast.target, locale="fr-FR", timezone_id="Europe/Paris")
        except PlaywrightError as exc:
            log.warning("%s: no browser context (%s)", worker, exc)
            return None
        try:
            context.route("**/*", keep_to(cast.target))
            context.set_default_timeout(options.timeout_ms)
            outcome = run_in_page(name, ctx, context.new_page(), sink, worker=worker)
        except Exception:
            # Outside any step (steps record their own failures): log it, keep the loop going.
            log.exception("%s: journey %s for applicant %d ended on an exception", worker, name, lease.index)
            return f"{name}/crashed"
        finally:
            close_quietly(context)
    return f"{name}/{outcome.value if outcome else 'skipped'}"


def close_quietly(closable: Browser | BrowserContext) -> None:
    """Close a browser or a context that may already be gone with a crashed browser."""
    with contextlib.suppress(PlaywrightError):
        closable.close()
