"""What a run shows while it goes and at its end: the per-step table, the one-line progress for
logs, and printing a table so that no number in it is ever cut.

Two ways to show progress, chosen by the command line (``run_cli``): in a terminal, a live table
redrawn in place; anywhere else (a CI log, a pipe, a file), one timestamped line every few
seconds, which a log keeps in order and a person can read an hour later.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Literal

from rich.console import Console, RenderableType
from rich.live import Live
from rich.measure import Measurement
from rich.table import Table

from anef_harness.processes import Child
from checks.results import EventTail, Tally
from checks.summary import StepFigures
from dashboards.live import LiveMetrics
from drills.schedule import AppliedChange, FaultSchedule

FAILURE_STYLE = "bold red"
PROGRESS_INTERVAL = 5.0  # seconds between two progress lines outside a terminal
WORST_SHOWN = 3  # failing steps named on a progress line
ELLIPSIS = "…"  # what rich writes where it cuts a cell

# live: a table redrawn in place (a terminal); lines: a progress line every few seconds; off: quiet.
ProgressMode = Literal["live", "lines", "off"]


def step_table(rows: Mapping[str, StepFigures], *, title: str, elapsed: float | None = None) -> Table:
    """One row per step: total, ok, each failing outcome seen, failure rate, p50/p95/p99.

    Step names wrap when space is short; numbers never do (``print_whole`` widens the table
    rather than cut one)."""
    failing = sorted({o for s in rows.values() for o, n in s.outcomes.items() if n and o != "ok"})
    caption = f"{elapsed:.0f} s" if elapsed is not None else None
    table = Table(title=title, caption=caption, title_justify="left", header_style="bold")
    table.add_column("step", overflow="fold")
    for column in ("total", "ok", *failing, "fail %", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right", no_wrap=True)
    for name, step in rows.items():
        style = FAILURE_STYLE if step.failure_rate > 0 else None
        table.add_row(
            name,
            str(step.total),
            str(step.outcomes.get("ok", 0)),
            *(str(step.outcomes[o]) if step.outcomes.get(o) else "" for o in failing),
            f"{step.failure_rate * 100:.1f}",
            f"{step.p50_ms:.0f}",
            f"{step.p95_ms:.0f}",
            f"{step.p99_ms:.0f}",
            style=style,
        )
    return table


def progress_line(
    rows: Mapping[str, StepFigures],
    *,
    campaign: str,
    elapsed: float,
    duration: float,
    now: float | None = None,
) -> str:
    """``HH:MM:SS CAMPAIGN ELAPSED/DURATION: N attempts, F% failed; worst: step R% (k/n), …`` (the
    worst steps by failure rate; past the duration, the load processes finish the journeys in flight)."""
    attempts = sum(step.total for step in rows.values())
    failures = sum(step.failures for step in rows.values())
    rate = failures / attempts * 100 if attempts else 0.0
    worst = sorted(
        ((name, step) for name, step in rows.items() if step.failures),
        key=lambda item: (-item[1].failure_rate, -item[1].failures, item[0]),
    )[:WORST_SHOWN]
    named = ", ".join(f"{name} {step.failure_rate * 100:.1f}% ({step.failures}/{step.total})" for name, step in worst)
    ending = " (ending: journeys in flight)" if elapsed > duration else ""
    return (
        f"{stamp(now)} {campaign} {elapsed:.0f}s/{duration:.0f}s{ending}: {attempts} attempts, {rate:.1f}% failed; "
        f"worst: {named or 'none'}"
    )


def event_line(what: str, *, campaign: str, elapsed: float, now: float | None = None) -> str:
    """A moment of the run (a fault change, a drill) as one timestamped line."""
    return f"{stamp(now)} {campaign} {elapsed:.0f}s: {what}"


def change_words(change: AppliedChange) -> str:
    """A fault change or drill of the schedule, as its progress line says it."""
    what = f"scheduled at {change.at:g}s: {change.label}"
    if change.error is not None:
        return f"{what} failed: {change.error}"
    return f"{what} applied" + (f": {change.note}" if change.note else "")


def stamp(now: float | None = None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(time.time() if now is None else now))


def print_whole(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` (a table) at a width where no cell is cut.

    In a terminal, the terminal's width, or wider only where a number would otherwise be cut
    (step names wrap first). Outside one (rich assumes 80 columns there), the width the content
    needs: a log has no right edge."""
    width = console.width
    if console.is_terminal:
        width = _narrowest_whole(console, renderable, width)
    else:
        options = console.options.update_width(10_000)
        width = max(width, Measurement.get(console, options, renderable).maximum)
    if width == console.width:
        console.print(renderable)
        return
    saved = console.width
    console.width = width
    try:
        console.print(renderable)
    finally:
        console.width = saved


def _narrowest_whole(console: Console, renderable: RenderableType, width: int) -> int:
    """The narrowest width from ``width`` up at which rich cuts no cell (it marks a cut with …)."""
    widest = max(width, Measurement.get(console, console.options.update_width(10_000), renderable).maximum)
    if not _cut(console, renderable, width):
        return width
    low, high = width, widest  # cut at low, whole at high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _cut(console, renderable, middle) else (low, middle)
    return high


def _cut(console: Console, renderable: RenderableType, width: int) -> bool:
    lines = console.render_lines(renderable, console.options.update_width(width), pad=False)
    return any(ELLIPSIS in segment.text for line in lines for segment in line)


def watch(
    children: list[Child],
    tail: EventTail,
    tally: Tally,
    *,
    campaign: str,
    duration: float,
    t0: float,
    stop_timeout: float,
    schedule: FaultSchedule,
    metrics: LiveMetrics | None,
    console: Console,
    mode: ProgressMode,
    interval: float,
) -> None:
    """Show progress until the first Locust process exits (a live table in a terminal, a line every
    ``interval`` seconds elsewhere, and each fault change or drill as it happens); feed the live
    metrics with the same events."""
    main = children[0]
    browser = next((c for c in children if c.name == "browser"), None)
    shown_changes = 0
    next_line = time.time() + interval

    def catch_up() -> None:
        nonlocal shown_changes
        events = tail.new_events()
        tally.extend(events)
        if metrics is not None:
            metrics.observe(events)
        changes = list(schedule.applied)  # appended by the schedule's thread
        for change in changes[shown_changes:]:
            if mode != "off":
                words = event_line(change_words(change), campaign=campaign, elapsed=change.applied - t0)
                console.print(words, soft_wrap=True, markup=False)
        shown_changes = len(changes)

    def line(now: float) -> str:
        return progress_line(tally.steps(), campaign=campaign, elapsed=now - t0, duration=duration, now=now)

    def table() -> Table:
        return step_table(tally.steps(), title=f"{campaign}: live", elapsed=time.time() - t0)

    # Transient: the final table (printed by the command) replaces the live one, never follows it.
    display = Live(console=console, refresh_per_second=2, transient=True) if mode == "live" else None
    with display or contextlib.nullcontext():
        while main.alive():
            catch_up()
            now = time.time()
            if display is not None:
                display.update(table())
            elif mode == "lines" and now >= next_line:
                console.print(line(now), soft_wrap=True, markup=False)
                next_line = now + interval
            time.sleep(1.0)
        if browser is not None and not browser.wait(timeout=stop_timeout):
            browser.terminate(timeout=stop_timeout)  # it ends at the same duration: only a laggard
        catch_up()
        if mode == "lines":
            console.print(line(time.time()), soft_wrap=True, markup=False)


def console(*, quiet: bool = False, stderr: bool = True) -> Console:
    """Live progress goes to stderr, the final report to stdout (so it can be piped). Outside a
    terminal, a line of text is never wrapped at rich's assumed 80 columns: a log has no edge."""
    made = Console(stderr=stderr, quiet=quiet, highlight=False)
    made.soft_wrap = not made.is_terminal
    return made


def progress_mode(*, quiet: bool, machine_output: bool, stdout: Console, stderr: Console) -> ProgressMode:
    """How progress is shown: nothing when quiet; the live table only when both streams are a
    terminal (a live table redrawn into a log is silence, then the table); lines otherwise
    (always for ``--output json``, on stderr, so stdout stays one JSON document)."""
    if quiet:
        return "off"
    if not machine_output and stdout.is_terminal and stderr.is_terminal:
        return "live"
    return "lines"
