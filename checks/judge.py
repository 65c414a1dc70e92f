"""Judging a results folder: the SLOs, the defects and the shifts, written down.

One function shared by ``anef-harness gate``, the end of ``anef-harness run`` and ``report``
(for a folder whose harness was killed before its end), so that all three write the same
``summary.json`` and JUnit file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from checks.evaluate import Summary, evaluate, write_summary
from checks.junit import JUNIT, write_junit
from checks.rights import DEFAULT_HORIZON_DAYS
from checks.shift import Baseline
from checks.slo import Objective, default_slo_path, load_slos


def judge(
    folder: Path,
    *,
    slo: Path | None = None,
    baseline: Path | None = None,
    junit: Path | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    extra: Sequence[Objective] = (),
    shift_baseline: Baseline | None = None,
) -> Summary:
    """Evaluate a results folder and write its summary.json and JUnit file (default junit.xml).
    ``extra``: objectives judged beside the SLO file's (``anef-harness run --threshold``);
    ``shift_baseline``: the run shifts are tested against (default: ``baseline``)."""
    objectives = [*load_slos(slo or default_slo_path()), *extra]
    summary = evaluate(folder, objectives, baseline=baseline, horizon_days=horizon_days, shift_baseline=shift_baseline)
    write_summary(folder, summary)
    write_junit(summary, junit or folder / JUNIT)
    return summary
