"""Seeding a population into the platform, and the population commands' bad input."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest

from synthetic_users.population import Population
from synthetic_users.seeding import agents_of, seed
from synthetic_users.spec import PopulationSpec
from tests.support import ADMIN_TOKEN, Api, PlatformProcess, free_port


def test_seeded_applicants_and_agents_can_log_in_and_reseeding_changes_nothing(
    api: Api, platform: PlatformProcess
) -> None:
    spec = PopulationSpec(size=400, seed=random.randrange(10**9), reference_date=date.today(), agents_per_prefecture=1)
    population = Population(spec)
    first = seed(population, platform.url, ADMIN_TOKEN)
    assert first.applicants == 400
    assert first.agents == len(spec.mix.prefectures)
    again = seed(population, platform.url, ADMIN_TOKEN)
    assert (again.applicants, again.agents, again.skipped) == (0, 0, 400 + first.agents)

    for index in random.Random(1).sample(range(400), 12):
        applicant = population.applicant(index)
        response = api.http.post(
            "/api/auth/login", json={"identifier": applicant.email, "password": applicant.password}
        )
        assert response.status_code == 200, (index, response.text)
        me = api.http.get("/api/me", headers={"Authorization": f"Bearer {response.json()['token']}"}).json()
        assert me["foreign_number"] == applicant.foreign_number
        assert me["card"]["state"] == applicant.card.state
        assert me["card"]["valid_until"] == applicant.card.valid_until.isoformat()
    agent = agents_of(population)[0]
    assert (
        api.http.post("/api/agent/login", json={"login": agent["login"], "password": agent["password"]}).status_code
        == 200
    )


def run_cli(*args: str, token: str = ADMIN_TOKEN) -> subprocess.CompletedProcess[str]:
    """The command with the admin token in the environment (never on the command line)."""
    return subprocess.run(
        [sys.executable, "-m", "anef_harness", "population", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ANEF_ADMIN_TOKEN": token},
    )


def test_the_seed_command_seeds_and_reports(platform: PlatformProcess) -> None:
    seed_value = str(random.randrange(10**9))
    args = ("seed", "--target", platform.url, "--size", "50", "--seed", seed_value)
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "50 applicants" in first.stdout
    second = run_cli(*args)
    assert second.returncode == 0
    assert "0 applicants" in second.stdout


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "population.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("spec_text", "expected"),
    [
        (
            "size: 10\nseed: 1\nmix:\n  nationalities: {DZA: 0.5, MAR: 0.4}\n",
            "mix.nationalities: the nationality shares must sum to 1",
        ),
        (
            "size: 10\nseed: 1\nmix:\n  nationalities: {DZA: 0.5, MRA: 0.5}\n",
            "unknown nationality 'MRA'; did you mean 'MAR'?",
        ),
        (
            "size: 10\nseed: 1\nmix:\n  card_kinds: {carte_resident: 0.5, carte_bleue: 0.5}\n",
            "unknown card kind 'carte_bleue'",
        ),
        ("size: 10\nseed: 1\nmix:\n  prefectures: {'75': 0.5, '99': 0.5}\n", "unknown prefecture '99'"),
        ("size: 0\nseed: 1\n", "size: Input should be greater than 0"),
        ("size: -5\nseed: 1\n", "size: Input should be greater than 0"),
        ("size: 10\nseed: '12'\n", "seed: Input should be a valid integer"),
        ("size: 10\nseed: 1\nshares: {email_bounces: 1.5}\n", "shares.email_bounces"),
        (
            "population:\n  size: 10\n  seed: 1\n  personas: {hurry: 1.0}\n",
            "unknown persona 'hurry'; did you mean 'hurried'?",
        ),
        ("size: [\n", ": not valid YAML: "),
    ],
)
def test_a_bad_spec_file_is_one_line_naming_the_field(tmp_path: Path, spec_text: str, expected: str) -> None:
    path = write(tmp_path, spec_text)
    result = run_cli("generate", "--spec", str(path), "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(path) in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--size", "10", "--seed", "abc"), "--seed: expected an integer, got 'abc'"),
        (("--size", "ten", "--seed", "1"), "--size: expected an integer"),
        (("--seed", "1"), "--size: required"),
        (("--size", "0", "--seed", "1"), "size: Input should be greater than 0"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    result = run_cli("generate", "--out", str(tmp_path / "out.jsonl"), *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr


def test_an_unreachable_target_is_one_line_naming_it() -> None:
    target = f"http://127.0.0.1:{free_port()}"
    result = run_cli("seed", "--target", target, "--size", "5", "--seed", "1")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"--target: cannot reach {target}" in result.stderr


def test_a_remote_target_is_refused_unless_allowed() -> None:
    result = run_cli("seed", "--target", "http://203.0.113.7:8000", "--size", "5", "--seed", "1")
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{free_port()}", timeout=1)  # the loopback refusal above sent nothing
