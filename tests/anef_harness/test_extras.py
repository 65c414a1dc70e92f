"""The CLI's lazy sub-commands and the install's extras: a command whose extra is missing says which
in one line (exit 2); judging a results folder imports no extra's module (docs/install.md)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib import metadata
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.main import get_command
from typer.testing import CliRunner, Result

from anef_harness import extras
from anef_harness.cli import COMMANDS, app
from tests.anef_harness.campaigns import campaign
from tests.checks.test_store_and_rights import folder, step

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_MESSAGE = "anef-harness: platform needs the 'platform' extra: pip install 'anef-harness[platform]'\n"


def without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` look uninstalled to the extras' check."""
    found: Callable[[str], ModuleSpec | None] = extras.find_spec
    monkeypatch.setattr(extras, "find_spec", lambda name: None if name in modules else found(name))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_each_extra_is_known_by_the_modules_of_its_packages() -> None:
    """anef_harness/extras.py's table and pyproject.toml's optional dependencies name the same packages."""
    optional = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    owners = metadata.packages_distributions()
    for extra, modules in extras.EXTRAS.items():
        declared = {canonicalize_name(Requirement(text).name) for text in optional[extra]}
        known = {canonicalize_name(owner) for module in modules for owner in owners[module]}
        assert known == declared, extra
    (everything,) = (Requirement(text) for text in optional["all"])
    assert (everything.name, everything.extras) == ("anef-harness", set(extras.EXTRAS))


def test_every_command_of_the_table_is_added_by_its_module() -> None:
    group = get_command(app)
    context = group.make_context("anef-harness", ["gate", "--help"], resilient_parsing=True)
    for name in COMMANDS:
        command = group.get_command(context, name)  # type: ignore[attr-defined]
        assert command is not None, name
        assert command.name == name
        assert "Not installed" not in (command.help or ""), name


def test_a_command_whose_extra_is_missing_says_which_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    without(monkeypatch, "locust")
    for args in (["run", "smoke"], ["run", "--help"], ["demo", "--workers", "2"]):
        done = invoke(*args)
        assert done.exit_code == 2, args
        assert done.stdout == ""
        assert done.stderr == f"anef-harness: {args[0]} needs the 'load' extra: pip install 'anef-harness[load]'\n"
    without(monkeypatch, "locust", "fastapi")
    done = invoke("bench")
    assert done.exit_code == 2
    assert "bench needs the 'load' and 'platform' extras: pip install 'anef-harness[load,platform]'" in done.stderr


def test_a_missing_extra_stops_a_group_before_its_sub_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    without(monkeypatch, "sqlalchemy")
    for args in (["platform", "serve", "--port", "1"], ["platform", "demo"], ["platform"]):
        done = invoke(*args)
        assert (done.exit_code, done.stderr) == (2, PLATFORM_MESSAGE), args
    assert invoke("mailbox", "serve").stderr == PLATFORM_MESSAGE.replace("platform needs", "mailbox needs")


def test_help_lists_every_command_and_marks_the_uninstalled_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    without(monkeypatch, "playwright", "fastapi")
    done = invoke("--help")
    assert done.exit_code == 0
    listed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 2]
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)
    assert "(Not installed: needs the 'platform' extra.)" in done.stdout
    assert "Judge a campaign" in done.stdout


def test_a_campaign_with_browsers_needs_the_browser_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    without(monkeypatch, "playwright")
    source = campaign(tmp_path, browser={"users": 1})
    done = invoke("run", str(source), "--no-metrics", "--out", str(tmp_path / "results"))
    assert done.exit_code == 2
    assert done.stderr == (
        f"anef-harness: {source}: browser.users: a campaign with browser users needs the 'browser' extra: "
        "pip install 'anef-harness[browser]'\n"
    )
    assert not (tmp_path / "results").exists()


# What a base install lacks: every extra's modules, and the platform they serve. None in sys.modules makes
# `import` fail as for an uninstalled package, and find_spec answer None.
BASE_ONLY = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
from anef_harness.cli import main
sys.argv = ["anef-harness", *sys.argv[1:]]
main()
"""


def test_judging_runs_with_the_base_install_alone(tmp_path: Path) -> None:
    blocked = sorted({module for modules in extras.EXTRAS.values() for module in modules} | {"reference_platform"})
    results = folder(tmp_path / "results", [step("login.submit") for _ in range(20)])
    script = BASE_ONLY.format(blocked=blocked)

    def base_only(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", script, *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)

    gate = base_only("gate", str(results))
    assert gate.returncode == 0, gate.stderr
    assert "verdict: pass" in gate.stdout
    for args in (["report", str(results)], ["rules", "--out", str(tmp_path / "rules.yaml")]):
        done = base_only(*args)
        assert done.returncode == 0, (args, done.stderr)
    run = base_only("run", "smoke")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        "anef-harness: run needs the 'load' and 'platform' extras: pip install 'anef-harness[load,platform]'\n"
    )
