"""The detection benchmark's plan: which campaigns a choice of options runs (no campaign is run)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.detection_power import ALL, DOCUMENTED, Run, plan_runs


def labels(runs: list[Run]) -> list[tuple[str, float]]:
    return [(run.label, run.rate) for run in runs]


def test_realistic_plan_runs_each_defect_alone_then_all_together_among_noise(tmp_path: Path) -> None:
    runs = plan_runs(list(DOCUMENTED), [0.01, 0.1], 1.0, tmp_path, realistic=True)
    together = [run for run in runs if run.noise]
    assert labels(together) == [(f"{ALL} + noise", 0.01), (f"{ALL} + noise", 0.1)]
    assert all(run.defects == tuple(DOCUMENTED) for run in together)
    assert labels([run for run in runs if not run.noise]) == [(d, r) for r in (0.01, 0.1) for d in DOCUMENTED]


def test_together_only_plans_only_the_campaigns_with_every_defect(tmp_path: Path) -> None:
    runs = plan_runs(list(DOCUMENTED), [0.1], 2.0, tmp_path, realistic=True, alone=False)
    assert labels(runs) == [(f"{ALL} + noise", 0.1)]
    assert runs[0].noise
    assert runs[0].seconds == 2 * plan_runs(list(DOCUMENTED), [0.1], 1.0, tmp_path, realistic=True)[-1].seconds


def test_alone_only_plans_no_campaign_with_every_defect(tmp_path: Path) -> None:
    runs = plan_runs(list(DOCUMENTED), [0.1], 1.0, tmp_path, realistic=True, together=False)
    assert labels(runs) == [(d, 0.1) for d in DOCUMENTED]
