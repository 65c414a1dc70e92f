"""The official OpenSLO v1 examples (``openslo_examples/``, vendored unchanged, sources in its
README): those with an occurrence ratio over a rolling window pass ``anef-harness slo check``; the
others are refused in one line that names the feature the harness does not support."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from anef_harness.cli import app
from checks.slo import load_slo_file

EXAMPLES = Path(__file__).parent / "openslo_examples"

ACCEPTED = {
    # Occurrences, a Prometheus ratio (with counter), no timeWindow (a rolling 30 days)
    "sdk-v1-slos-occurrences.yaml": "1 SLO on other tools' metrics (Prometheus)",
}
REFUSED = {
    "budgeting-method-occurences-slo.yaml": ":26: SLO search-slo: objectives.0.op: thresholdMetric objectives",
    "budgeting-method-ratio-timeslices.yaml": ":29: SLO main-page: budgetingMethod: budgetingMethod RatioTimeslices "
    "is not supported",
    "budgeting-method-timeslices-slo.yaml": ": SLO service-availability: budgetingMethod: budgetingMethod Timeslices "
    "is not supported",
    "sdk-v1-slos-timeslices.yaml": ": SLO web-availability: budgetingMethod: budgetingMethod Timeslices "
    "is not supported",
    "sdk-v1-alert-conditions.yaml": ":17: AlertCondition cpu-usage-breach: condition.op: alerts on a falling burn rate "
    "are not supported",
    "sdk-v1-slis.yaml": ": no SLO object in the file",
}


def test_every_vendored_example_has_a_verdict() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted({*ACCEPTED, *REFUSED})


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_an_occurrence_ratio_over_a_rolling_window_is_accepted(name: str) -> None:
    done = CliRunner().invoke(app, ["slo", "check", str(EXAMPLES / name)])
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{EXAMPLES / name}: valid OpenSLO v1, 1 SLO")
    assert ACCEPTED[name] in lines[0]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_an_unsupported_feature_is_named_in_one_line(name: str) -> None:
    done = CliRunner().invoke(app, ["slo", "check", str(EXAMPLES / name)])
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1, done.output
    assert lines[0].startswith(f"anef-harness: {EXAMPLES / name}")
    assert REFUSED[name] in lines[0]


def test_the_sdks_slis_no_slo_uses_are_accepted_beside_an_slo(tmp_path: Path) -> None:
    """The SDK's SLIs (Datadog, AppDynamics without a query, a raw Prometheus ratio, a threshold
    metric) are valid OpenSLO: no SLO uses them, so they do not stop the file from loading."""
    path = tmp_path / "slos.yaml"
    slo = (EXAMPLES / "sdk-v1-slos-occurrences.yaml").read_text(encoding="utf-8")
    path.write_text((EXAMPLES / "sdk-v1-slis.yaml").read_text(encoding="utf-8") + slo, encoding="utf-8")

    loaded = load_slo_file(path)

    assert loaded.kinds["SLI"] == 4
    assert [(slo.name, slo.sources) for slo in loaded.external] == [("foo-slo", ("Prometheus",))]
    assert loaded.objectives == []
