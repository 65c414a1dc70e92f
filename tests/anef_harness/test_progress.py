"""What a run prints: the progress line for logs, and tables whose numbers are never cut."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console

from anef_harness.progress import change_words, event_line, print_whole, progress_line, progress_mode, step_table
from checks.summary import StepFigures
from drills.schedule import AppliedChange

LONG = "agent_request.answer_reaches_the_prefecture_after_a_very_long_reconciliation"
AT = time.mktime((2026, 3, 14, 9, 26, 53, 0, 0, -1))  # local time 09:26:53


def figures(total: int, ok: int, *, p99: float = 12.0) -> StepFigures:
    outcomes = {"ok": ok, "error": total - ok}
    return StepFigures(
        total=total,
        outcomes=outcomes,
        failure_rate=(total - ok) / total if total else 0.0,
        p50_ms=3.0,
        p95_ms=p99 / 2,
        p99_ms=p99,
    )


def test_progress_line_names_time_attempts_failure_rate_and_the_worst_steps() -> None:
    rows = {
        "login.submit": figures(200, 198),
        "renewal.reconcile": figures(25, 22),
        "upload.document": figures(50, 50),
        "password_reset.email": figures(10, 9),
        "renewal.create": figures(100, 99),
    }

    line = progress_line(rows, campaign="smoke", elapsed=35.4, duration=60, now=AT)

    assert line == (
        "09:26:53 smoke 35s/60s: 385 attempts, 1.8% failed; "
        "worst: renewal.reconcile 12.0% (3/25), password_reset.email 10.0% (1/10), login.submit 1.0% (2/200)"
    )
    assert "\n" not in line


def test_progress_line_before_any_failure_says_none() -> None:
    assert progress_line({}, campaign="soak", elapsed=0, duration=3600, now=AT) == (
        "09:26:53 soak 0s/3600s: 0 attempts, 0.0% failed; worst: none"
    )


def render(table_width: int, *, terminal: bool) -> str:
    rows = {
        LONG: figures(123_456_789, 123_456_700, p99=9_876_543.0),
        "login.submit": figures(98_765_432, 98_765_432, p99=1_234_567.0),
    }
    out = Console(file=io.StringIO(), width=table_width, force_terminal=terminal, color_system=None)
    print_whole(out, step_table(rows, title="Steps"))
    text = out.file.getvalue()  # type: ignore[attr-defined]
    return str(text)


@pytest.mark.parametrize("terminal", [False, True], ids=["log", "terminal"])
def test_final_table_at_a_narrow_width_cuts_no_number(terminal: bool) -> None:
    text = render(60, terminal=terminal)

    assert "…" not in text, text
    for number in ("123456789", "123456700", "89", "98765432", "9876543", "1234567", "0.0"):
        assert re.search(rf"(?<!\d){number}(?!\d)", text), f"{number} not whole in\n{text}"
    assert "fail %" in text
    assert "p99 ms" in text


def test_outside_a_terminal_the_table_takes_the_width_it_needs() -> None:
    text = render(80, terminal=False)

    assert LONG in text  # a log has no right edge: the name is not even wrapped
    assert max(len(line) for line in text.splitlines()) > 80


def test_in_a_wide_enough_terminal_long_names_wrap_and_the_table_keeps_the_terminal_width() -> None:
    text = render(100, terminal=True)

    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert LONG not in text  # folded onto two lines, numbers intact
    assert "123456789" in text


def console_to(terminal: bool) -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal)


@pytest.mark.parametrize(
    ("quiet", "json", "stdout", "stderr", "expected"),
    [
        (False, False, True, True, "live"),
        (False, False, False, True, "lines"),  # run … | cat
        (False, False, True, False, "lines"),  # run … 2> log
        (False, True, True, True, "lines"),  # --output json: lines on stderr, stdout is the document
        (True, False, True, True, "off"),
    ],
)
def test_progress_mode(quiet: bool, json: bool, stdout: bool, stderr: bool, expected: str) -> None:
    mode = progress_mode(quiet=quiet, machine_output=json, stdout=console_to(stdout), stderr=console_to(stderr))
    assert mode == expected


def test_progress_line_past_the_duration_says_the_run_is_ending() -> None:
    line = progress_line({"login.submit": figures(4, 4)}, campaign="smoke", elapsed=63, duration=60, now=AT)
    assert line.startswith("09:26:53 smoke 63s/60s (ending: journeys in flight): 4 attempts")


def test_a_fault_change_or_drill_is_one_timestamped_line() -> None:
    killed = AppliedChange(40, AT, "kill_platform", note="platform killed (SIGKILL, exit -9)")
    refused = AppliedChange(90, AT, "anef-2024", error="the platform is down")

    assert event_line(change_words(killed), campaign="crash-drill", elapsed=40.2, now=AT) == (
        "09:26:53 crash-drill 40s: scheduled at 40s: kill_platform applied: platform killed (SIGKILL, exit -9)"
    )
    assert change_words(refused) == "scheduled at 90s: anef-2024 failed: the platform is down"
    assert change_words(AppliedChange(0, AT, "none")) == "scheduled at 0s: none applied"
