"""The fault and drill windows of a run, in seconds on the report's time axis, for the charts over
time and the table beside them.

Read from the campaign's planned schedule (``campaign.yaml``: which change is a drill) and what the
conductor applied (``manifest.json``'s ``fault_changes``: when it took effect, or its error). A
fault window runs from a change that turns faults on to the next fault change (or the end of the
load); a drill that takes something down runs until the drill that brings it back; any other drill
(a worker killed) is a moment. A change that failed opens no window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboards.i18n import Lang
from dashboards.report_data import CampaignFile, ScheduledChange
from scenarios.manifest import FaultChangeRecord, ManifestFile

NO_FAULTS = "none"
# A drill that takes something down: the drill that brings it back, and the window's name in the
# report's messages. Checked against ``drills.catalogue`` by the tests (dashboards may not import it);
# a drill not listed here shows as a moment.
DRILL_SPANS: dict[str, tuple[str, str]] = {
    "kill_platform": ("restart_platform", "window.platform_down"),
    "stop_mailbox": ("start_mailbox", "window.mailbox_down"),
    "cut": ("restore", "window.cut"),
}


@dataclass(frozen=True)
class Window:
    kind: Literal["fault", "drill"]
    start_s: float
    end_s: float | None  # None: a moment (a drill with no end, a worker killed)
    label: str


@dataclass(frozen=True)
class _Change:
    at_s: float
    action: str | None
    dependency: str | None
    label: str


def run_windows(
    campaign: CampaignFile, manifest: ManifestFile, *, origin: float, end_s: float, words: Lang
) -> list[Window]:
    """The run's windows, in order of their start (seconds since ``origin``, the charts' 0)."""
    changes = sorted(_changes(campaign, manifest, origin), key=lambda c: c.at_s)
    found = _fault_windows(campaign.faults.profile, [c for c in changes if c.action is None], end_s)
    found += _drill_windows([c for c in changes if c.action is not None], end_s, words)
    return sorted(found, key=lambda w: (w.start_s, w.kind))


def _changes(campaign: CampaignFile, manifest: ManifestFile, origin: float) -> list[_Change]:
    """The changes that took effect, planned and applied paired by their order (as the report's
    schedule table pairs them); planned only when the manifest did not record them."""
    planned = campaign.faults.schedule
    applied: list[FaultChangeRecord | None] = list(manifest.fault_changes or [])
    if manifest.fault_changes is None:
        applied = [None] * len(planned)
    found = []
    for number, done in enumerate(applied):
        plan = planned[number] if number < len(planned) else ScheduledChange()
        if done is not None and done.error:
            continue
        if done is not None:
            at = done.applied.timestamp() - origin if done.applied else done.at_s
        elif isinstance(plan.at, float | int):
            at = float(plan.at)
        else:
            continue
        label = done.faults if done is not None and done.faults else _label(plan)
        found.append(_Change(at, plan.action, plan.dependency, label))
    return found


def _label(plan: ScheduledChange) -> str:
    if plan.action:
        return f"{plan.action} {plan.dependency or ''}".strip()
    return plan.profile or ", ".join(f.id for f in plan.faults or []) or "?"


def _fault_windows(profile: str, changes: list[_Change], end_s: float) -> list[Window]:
    found = []
    on, since = (profile, 0.0) if profile != NO_FAULTS else (None, 0.0)
    for change in changes:
        if on is not None and change.at_s > since:
            found.append(Window("fault", since, change.at_s, on))
        on, since = (change.label, change.at_s) if change.label != NO_FAULTS else (None, change.at_s)
    if on is not None and end_s > since:
        found.append(Window("fault", since, end_s, on))
    return found


def _drill_windows(changes: list[_Change], end_s: float, words: Lang) -> list[Window]:
    found = []
    down: dict[tuple[str, str | None], tuple[float, str]] = {}  # (the closing drill, dependency): start, label
    for change in changes:
        assert change.action is not None
        opened = down.pop((change.action, change.dependency), None)
        if opened is not None:
            found.append(Window("drill", opened[0], change.at_s, opened[1]))
        elif change.action in DRILL_SPANS:
            closing, message = DRILL_SPANS[change.action]
            down[(closing, change.dependency)] = (change.at_s, words.t(message, dependency=change.dependency or ""))
        else:
            found.append(Window("drill", change.at_s, None, change.label))
    found += [Window("drill", start, end_s, label) for start, label in down.values()]
    return found
