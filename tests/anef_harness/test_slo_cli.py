"""``anef-harness slo check FILE``: exit 0 and one line of summary, or exit 2 and the one-line error."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from anef_harness.cli import app
from checks.slo import default_slo_path

BAD = Path(__file__).parents[1] / "bad_input" / "slos"


def test_the_shipped_file_is_summed_up_in_one_line() -> None:
    done = CliRunner().invoke(app, ["slo", "check", str(default_slo_path())])

    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{default_slo_path()}: valid OpenSLO v1, 86 SLOs")
    assert "on the harness's step events" in lines[0]
    assert "burn-rate alerts of severity page, ticket" in lines[0]
    assert lines[0].endswith("Prometheus rules")


def test_a_bad_file_is_one_line_and_exit_2() -> None:
    path = BAD / "unknown-step.yaml"

    done = CliRunner().invoke(app, ["slo", "check", str(path)])

    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"anef-harness: {path}:36: SLO renewal-upload: ")
    assert "did you mean 'renewal.upload'?" in lines[0]


def test_what_the_rules_cannot_express_fails_the_check(tmp_path: Path) -> None:
    """The check is the rules' too: a file ``rules`` would refuse does not pass."""
    from tests.dashboards.slo_files import write_slo

    path = write_slo(
        tmp_path / "slo.yaml", good="{steps: [login.submit], channel: browser}", total="{steps: [login.submit]}"
    )

    done = CliRunner().invoke(app, ["slo", "check", str(path)])

    assert done.exit_code == 2
    assert "the harness's metrics have no channel label" in done.output


def test_a_missing_file_is_one_line() -> None:
    done = CliRunner().invoke(app, ["slo", "check", "nowhere.yaml"])

    assert done.exit_code == 2
    assert done.output.strip() == "anef-harness: nowhere.yaml: SLO file not found"
