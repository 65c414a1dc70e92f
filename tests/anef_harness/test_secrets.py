"""The admin token stays out of results, command lines and demos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anef_harness.admin_token import read_admin_token
from anef_harness.campaign import load_campaign, resolved_yaml
from core.errors import ConfigError
from tests.anef_harness.campaigns import ROOT, campaign, run

TOKEN = "campaign-secret-token-0123456789"


def test_the_resolved_campaign_carries_no_admin_token(tmp_path: Path) -> None:
    loaded = load_campaign(campaign(tmp_path, admin_token=TOKEN))
    assert loaded.admin_token == TOKEN
    assert TOKEN not in resolved_yaml(loaded)
    assert "admin_token" not in resolved_yaml(loaded)


def test_the_token_comes_from_a_file_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANEF_ADMIN_TOKEN", "from-the-environment-0123")
    assert read_admin_token(None) == "from-the-environment-0123"
    kept = tmp_path / "token"
    kept.write_text(f"{TOKEN}\n", encoding="utf-8")
    assert read_admin_token(kept) == TOKEN
    kept.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        read_admin_token(kept)


def test_no_command_takes_the_token_on_its_command_line() -> None:
    """``--admin-token VALUE`` would show the token to every user of the machine (``ps``)."""
    for command in (["platform", "serve"], ["population", "seed"]):
        shown = subprocess.run(
            [sys.executable, "-m", "anef_harness", *command, "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )
        assert shown.returncode == 0, shown.stderr
        assert "--admin-token-file" in shown.stdout
        assert "--admin-token " not in shown.stdout.replace("--admin-token-file", "")


@pytest.mark.slow
def test_a_campaigns_results_hold_no_admin_token(tmp_path: Path) -> None:
    """A campaign that sets ``admin_token:`` leaves no trace of it anywhere in its results folder."""
    out = tmp_path / "results"
    source = campaign(tmp_path, admin_token=TOKEN, duration="4s", journeys={"login": 1}, browser={"users": 0})
    finished = run(source, "--out", out)
    assert finished.returncode in (0, 1), finished.stderr
    files = [path for path in out.rglob("*") if path.is_file()]
    assert files
    assert [path for path in files if TOKEN.encode() in path.read_bytes()] == []
