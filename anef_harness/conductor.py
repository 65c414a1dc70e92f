"""The conductor: one campaign from its file to its results folder.

It prepares the target (the embedded platform and mailbox, or a URL), seeds the population,
fixes the platform's clock, starts the load processes, applies the fault schedule at its
moments, shows live progress, and writes the results folder: the resolved campaign, a manifest,
the step events (written by the load processes themselves), the ledger and the summary. Ctrl-C
stops the load cleanly and keeps what ran.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from anef_harness.baseline import choose_baseline
from anef_harness.campaign import Campaign, FaultChange, change_set, fault_set, resolved_yaml
from anef_harness.distributed import start_master, waiting_for, workers_lost
from anef_harness.embedded import open_target
from anef_harness.exits import ExitCode
from anef_harness.manifest import Manifest
from anef_harness.outputs import keep_ledger, scrape_targets, write_outputs
from anef_harness.processes import Child, LoadPlan, free_port, start_browser, start_locust
from anef_harness.progress import PROGRESS_INTERVAL, ProgressMode, watch
from anef_harness.results_folder import results_dir
from checks.evaluate import Summary
from checks.gate import decide
from checks.judge import judge
from checks.results import EventTail, Tally
from checks.slo import Objective
from core.errors import ConfigError, HarnessError, TargetError
from dashboards.live import LiveMetrics
from drills.admin import AdminClient, set_clock
from drills.catalogue import DRILLS
from drills.dependencies import Dependencies
from drills.schedule import Action, FaultSchedule
from drills.world import DrillArgs, DrillWorld
from scenarios.manifest import FaultChangeRecord, TargetInfo, moment
from synthetic_users.population import Population
from synthetic_users.seeding import seed

# Seconds a load process may take after the end to finish the journeys in flight (their watches
# included) before it is stopped.
GRACE = 5.0


@dataclass
class RunOptions:
    source: Path
    workers: int = 0
    web: bool = False
    out: Path | None = None
    allow_targets: list[str] = field(default_factory=list)
    live: LiveMetrics | None = None  # already bound to its port
    pushgateway: str | None = None
    progress: ProgressMode = "live"  # chosen by the command line from what stdout and stderr are
    progress_interval: float = PROGRESS_INTERVAL
    thresholds: tuple[Objective, ...] = ()  # --threshold: judged with the SLO file's objectives
    remote_workers: int = 0  # --expect-workers: workers that join from elsewhere (`anef-harness worker`)
    master_bind: str = "127.0.0.1"  # where the master listens (loopback unless --allow-remote)
    master_port: int = 0
    baseline: Path | None = None  # --baseline: shifts are tested against it (default: the history's)


@dataclass
class RunResult:
    results: Path
    exit_code: int
    status: str  # complete, interrupted, failed
    summary: Summary | None
    problem: str | None = None


class Interrupted(Exception):
    """Ctrl-C (SIGINT) or SIGTERM reached the conductor."""


def run_campaign(campaign: Campaign, options: RunOptions, console: Console, results: Path | None = None) -> RunResult:
    """Run one campaign to its end (or to Ctrl-C) and write its results folder (``results``:
    already created by ``results_dir``, so a refusal comes before anything starts)."""
    results = results or results_dir(campaign, options.out)
    (results / "campaign.yaml").write_text(resolved_yaml(campaign), encoding="utf-8")
    manifest = Manifest(results, campaign, source=options.source, workers=options.workers)
    live = options.live
    if live is not None:
        live.campaign(campaign.name, results.name)
        manifest.data.metrics = live.url
        console.print(f"live metrics: {live.url}")
    manifest.write()
    tally = Tally()
    status, problem = "complete", None
    code: int = ExitCode.OK
    dependencies = Dependencies(
        pushgateway=options.pushgateway,
        prometheus=campaign.outputs.prometheus,
        mailbox=None,
        live=live,
        run_id=results.name,
        warn=lambda message: _warn(manifest, console, message),
        note=lambda message: _note(manifest, console, message),
    )
    try:
        with _signals_interrupt(), open_target(campaign, results, console) as (url, token, mailbox, admin, embedded):
            manifest.data.target = TargetInfo(url=url, embedded=campaign.target == "embedded", mailbox=mailbox)
            scrape_targets(results, campaign, url, live)
            dependencies.mailbox = mailbox
            dependencies.upstream["mailbox"] = mailbox
            dependencies.check()  # a dependency down from the start: said now, before the load
            _prepare(campaign, url, token, admin, options, console)
            plan = LoadPlan(
                results=results,
                campaign_file=results / "campaign.yaml",
                target=url,
                mailbox=mailbox,
                workers=options.workers,
                browser_users=campaign.browser.users,
                stop_timeout=_stop_timeout(campaign),
                web=options.web,
                web_port=_web_port(options),
                duration=campaign.duration,
                browser_journeys=dict(campaign.browser.journeys),
                population_json=campaign.population.model_dump_json(),
                journey_settings_json=campaign.journey_settings.model_dump_json(),
                pause=campaign.journey_settings.pause,
                remote_workers=options.remote_workers,
                master_bind=options.master_bind,
                master_port=options.master_port,
                workers_folder=Path(tempfile.mkdtemp(prefix=f"anef-{results.name}-workers-")),
            )
            world = DrillWorld(
                admin=admin,
                reference_date=campaign.population.reference_date,
                embedded=embedded,
                faults=fault_set(campaign.faults.profile, options.source.parent, where="faults.profile"),
                relays=dependencies.relays,
            )
            status = _load(campaign, plan, world, manifest, tally, console, live, dependencies, options)
            keep_ledger(admin, results, console)
    except Interrupted:
        status = "interrupted"
    except (TargetError, HarnessError) as exc:
        status, problem, code = "failed", str(exc), ExitCode.INFRA
    finally:
        dependencies.stop()
        if live is not None:
            live.stop_judging()
    manifest.finish(status, problem)
    summary = None
    try:
        summary = judge(
            results,
            slo=_resolve(campaign.slo, options.source.parent),
            extra=options.thresholds,
            baseline=options.baseline,
            shift_baseline=choose_baseline(results, options.baseline),
        )
    except ConfigError as exc:  # the SLO file was checked before the run; this is a harness fault
        code, problem = ExitCode.INFRA, problem or str(exc)
    if live is not None:
        _final_metrics(live, summary, dependencies, manifest, console)
    if summary is not None:
        report = write_outputs(
            results,
            _resolve(campaign.slo, options.source.parent),
            campaign.outputs.report_lang,
            lambda message: _warn(manifest, console, message),
            grafana=campaign.outputs.grafana,
        )
        manifest.data.report = str(report) if report is not None else None
        manifest.write()
    if summary is not None and code == ExitCode.OK:
        # The gate's own decision: a campaign cut short (interrupted, a load process lost) exits 3.
        decision = decide(summary)
        code, problem = decision.code, problem or decision.reason
    return RunResult(results, code, status, summary, problem)


def _resolve(path: Path | None, base: Path) -> Path | None:
    return path if path is None or path.is_absolute() else base / path


def _stop_timeout(campaign: Campaign) -> float:
    settings = campaign.journey_settings
    longest = max([settings.default_deadline, settings.email_deadline, *settings.deadlines.values()])
    return longest + GRACE


def _web_port(options: RunOptions) -> int:
    return free_port() if options.web else 0


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``Interrupted`` once, in the main thread."""

    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if not fired:  # a second Ctrl-C must not break the clean stop the first one started
            fired.append(signum)
            raise Interrupted()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _prepare(
    campaign: Campaign, url: str, token: str, admin: AdminClient, options: RunOptions, console: Console
) -> None:
    """Seed the population, fix the clock, set the faults that are on from the start."""
    population = Population(campaign.population)
    with Progress(
        TextColumn("seeding {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # a bar redrawn into a log is one blank line
    ) as progress:
        task = progress.add_task(f"{len(population)} applicants", total=len(population))
        counts = seed(population, url, token, on_progress=lambda n: progress.advance(task, n))
    console.print(f"seeded {counts.applicants} applicants and {counts.agents} agents ({counts.skipped} already there)")
    set_clock(url, token, campaign.population.reference_date)
    admin.set_faults(fault_set(campaign.faults.profile, options.source.parent, where="faults.profile"))


def _schedule(campaign: Campaign, world: DrillWorld, source: Path, dependencies: Dependencies) -> FaultSchedule:
    changes: list[tuple[float, str, Action]] = []
    for number, change in enumerate(campaign.faults.schedule):
        changes.append((change.at, change.label, _action(change, world, source, number)))
    # A drill that takes a dependency down is said at once, not at the next look.
    return FaultSchedule(changes, after=lambda: dependencies.check(push=False))


def _action(change: FaultChange, world: DrillWorld, source: Path, number: int) -> Action:
    if change.action is not None:
        drill, args = DRILLS[change.action], DrillArgs(worker=change.worker, dependency=change.dependency)
        return lambda: drill.run(world, args)
    faults = change_set(change, source.parent, where=f"faults.schedule.{number}")

    def apply() -> None:
        world.admin.set_faults(faults)
        world.faults = faults

    return apply


def _load(
    campaign: Campaign,
    plan: LoadPlan,
    world: DrillWorld,
    manifest: Manifest,
    tally: Tally,
    console: Console,
    live: LiveMetrics | None,
    dependencies: Dependencies,
    options: RunOptions,
) -> str:
    """Run the load processes with live progress; returns the run's status."""
    schedule = _schedule(campaign, world, manifest.source, dependencies)
    children: list[Child] = []
    status = "complete"
    try:
        children = start_master(plan) if plan.all_workers else start_locust(plan)
        browser = start_browser(plan)
        if browser is not None:
            children.append(browser)
        world.children = children
        t0 = time.time()
        manifest.data.load_started = moment(t0)
        manifest.data.pids = {c.name: c.process.pid for c in children}
        manifest.write()
        schedule.start(t0)
        dependencies.start()
        if live is not None:
            live.judge_in_background(plan.results, on_error=lambda m: _warn(manifest, console, m))
        if plan.web:
            console.print(f"Locust's web UI: http://127.0.0.1:{plan.web_port}")
        waiting = waiting_for(plan)
        if waiting is not None:
            console.print(waiting)
        watch(
            children,
            EventTail(plan.results),
            tally,
            campaign=campaign.name,
            duration=campaign.duration,
            t0=t0,
            stop_timeout=plan.stop_timeout,
            schedule=schedule,
            metrics=live,
            console=console,
            mode=options.progress,
            interval=options.progress_interval,
        )
        failed = [f"{c.name} (exit {c.process.returncode}, log {c.log})" for c in children if c.failed]
        failed += workers_lost(plan)
        if failed:
            status = "partial"
            names = ", ".join(failed)
            if plan.workers_folder is not None and any(plan.workers_folder.iterdir()):
                names += f"; the workers' own files are kept in {plan.workers_folder}"
            elif plan.workers_folder is not None:
                plan.workers_folder.rmdir()
            console.print(f"[yellow]warning:[/] load process(es) failed: {names}")
            manifest.data.warnings.append(f"load process(es) failed: {names}")
        elif plan.workers_folder is not None:
            shutil.rmtree(plan.workers_folder, ignore_errors=True)  # every local worker's events reached the master
    except Interrupted:
        status = "interrupted"
        console.print("interrupted: stopping the load and keeping what ran…")
    finally:
        schedule.stop()
        for child in children:
            child.terminate(timeout=plan.stop_timeout)
        manifest.data.load_ended = moment(time.time())
        manifest.data.processes = {c.name: c.process.returncode for c in children}
        manifest.data.fault_changes = [
            FaultChangeRecord(
                at_s=c.at,
                started=moment(c.started),
                applied=moment(c.applied),
                faults=c.label,
                error=c.error,
                note=c.note,
            )
            for c in schedule.applied
        ]
        if world.killed:
            manifest.data.killed_by_drill = list(world.killed)
    return status


def _final_metrics(
    live: LiveMetrics,
    summary: Summary | None,
    dependencies: Dependencies,
    manifest: Manifest,
    console: Console,
) -> None:
    """The final judgement on the live endpoint, then the push (a Pushgateway down is a warning)."""
    if summary is not None:
        live.judge(summary.findings.counts, summary.rights.count if summary.rights is not None else 0)
    gateway = dependencies.upstream["pushgateway"]
    if gateway is not None:
        # The relays are closed by now (a drill's cut ends with the run): the last push goes direct.
        try:
            live.push(gateway, manifest.path.parent.name)
            manifest.data.pushgateway = gateway
        except OSError as exc:
            _warn(manifest, console, f"could not push the metrics to the Pushgateway {gateway}: {exc}")
        manifest.write()
    live.stop()


def _warn(manifest: Manifest, console: Console, message: str) -> None:
    console.print(f"[yellow]warning:[/] {message}")
    manifest.data.warnings.append(message)
    manifest.write()


def _note(manifest: Manifest, console: Console, message: str) -> None:
    console.print(f"note: {message}")
    manifest.data.notes.append(message)
    manifest.write()
