"""The image definition (Dockerfile, .dockerignore) and the commands the manifests give it.

No image is built here (no container engine runs on this machine): the Dockerfile is read as Docker
reads it (dockerfile-parse), and every command line of deploy/kubernetes/ is parsed by the harness's
own command line, as the image's entry point would parse it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from typing import Any

import pytest
import typer
from dockerfile_parse import DockerfileParser

from anef_harness.cli import COMMANDS, app
from anef_harness.locust_operator_cli import translate
from tests.deploy.manifests import (
    ROOT,
    containers,
    one,
    operator_master_command,
    operator_worker_command,
)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
IMAGE_COMMANDS = ("run", "worker", "locust-operator")  # what the manifests start


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(ROOT / "Dockerfile"))


def _instructions(dockerfile: DockerfileParser, name: str) -> list[str]:
    return [i["value"] for i in dockerfile.structure if i["instruction"] == name]


def test_the_base_is_debians_python_311_slim(dockerfile: DockerfileParser) -> None:
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", dockerfile.baseimage), dockerfile.baseimage
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"


def test_the_entry_point_is_the_harness_command(dockerfile: DockerfileParser) -> None:
    (entrypoint,) = _instructions(dockerfile, "ENTRYPOINT")
    assert json.loads(entrypoint) == ["anef-harness"]
    assert PYPROJECT["project"]["scripts"]["anef-harness"] == "anef_harness.cli:main"


def test_the_image_runs_as_the_user_the_manifests_name(dockerfile: DockerfileParser) -> None:
    user = _instructions(dockerfile, "USER")[-1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "a numeric user, so that runAsNonRoot can check it"
    assert int(uid) > 0
    for where, _, spec in containers():
        assert spec["securityContext"]["runAsUser"] == int(uid), where
        assert spec["securityContext"]["runAsGroup"] == int(gid), where
    security = one("LocustTest", "anef-campaign")["spec"]["security"]["podSecurityContext"]
    assert (security["runAsUser"], security["runAsGroup"]) == (int(uid), int(gid))
    assert _instructions(dockerfile, "WORKDIR")[-1] == "/home/anef"  # mounted writable by the manifests


def test_the_extras_are_those_the_started_commands_need(dockerfile: DockerfileParser) -> None:
    (extras,) = [a.removeprefix("EXTRAS=") for a in _instructions(dockerfile, "ARG") if a.startswith("EXTRAS=")]
    needed = {extra for command in IMAGE_COMMANDS for extra in COMMANDS[command].extras}
    assert set(extras.split(",")) == needed
    assert set(extras.split(",")) <= PYPROJECT["project"]["optional-dependencies"].keys()


def test_every_pip_install_takes_the_constraints(dockerfile: DockerfileParser) -> None:
    installs = [part for run in _instructions(dockerfile, "RUN") for part in run.split("&&") if "pip install" in part]
    assert len(installs) == 2
    for install in installs:
        assert "-c constraints.txt" in install, install


def test_the_project_and_its_data_are_copied_and_let_in(dockerfile: DockerfileParser) -> None:
    copied = {value.split()[0] for value in _instructions(dockerfile, "COPY")} | {"pyproject.toml", "constraints.txt"}
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "everything is left out first, then let in by name"
    let_in = {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")}
    packages = {pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    data = {"campaigns", "slos", "README.md"}  # read beside the packages at run time; the readme by the build
    assert packages | data <= copied
    assert copied <= let_in


def test_no_secret_is_baked_in(dockerfile: DockerfileParser) -> None:
    secret = re.compile(r"token|secret|password|passwd|key", re.IGNORECASE)
    for name in ("ENV", "ARG"):
        for value in _instructions(dockerfile, name):
            assert not secret.search(value.split("=")[0]), value
    assert not any(secret.search(value) for value in _instructions(dockerfile, "COPY"))
    assert all(not secret.search(rule) for rule in (ROOT / ".dockerignore").read_text().splitlines() if "!" in rule)


def _command_lines() -> list[tuple[str, list[str]]]:
    """(where, arguments after the entry point) of every harness command the manifests start, the
    LocustTest's as the operator completes them and `locust-operator` translates them."""
    found = [(where, list(c["args"])) for where, c, _ in containers() if "args" in c]
    locusttest = one("LocustTest", "anef-campaign")
    name, spec = locusttest["metadata"]["name"], locusttest["spec"]
    for role, arguments in (
        ("master", operator_master_command(spec)),
        ("worker", operator_worker_command(name, spec)),
    ):
        assert arguments[0] == "locust-operator"
        found.append((f"locusttest.yaml: {role}", translate(arguments[1:])))
    return found


@pytest.mark.parametrize(("where", "arguments"), _command_lines(), ids=lambda value: str(value)[:40])
def test_every_command_line_parses_with_the_harness_cli(where: str, arguments: list[str]) -> None:
    assert arguments[0] in IMAGE_COMMANDS, where
    group = typer.main.get_command(app)
    context: Any = group.make_context("anef-harness", [arguments[0], "--help"], resilient_parsing=True)
    command = group.get_command(context, arguments[0])  # type: ignore[attr-defined]
    assert command is not None
    parsed = command.make_context(arguments[0], list(arguments[1:]))  # an unknown option or bad value raises
    assert not parsed.args, f"{where}: unexpected arguments {parsed.args}"


def test_the_help_of_each_command_lists_the_options_the_manifests_use() -> None:
    used: dict[str, set[str]] = {}
    for _, arguments in _command_lines():
        used.setdefault(arguments[0], set()).update(a.split("=")[0] for a in arguments[1:] if a.startswith("--"))
    assert used["run"] >= {"--expect-workers", "--master-bind", "--allow-remote", "--master-port", "--target"}
    assert used["worker"] == {"--master"}
    for command, options in used.items():
        shown = subprocess.run(
            [sys.executable, "-m", "anef_harness", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)},
        ).stdout
        listed = set(re.findall(r"--[a-z][a-z-]*", shown))
        assert options <= listed, f"{command} --help does not list {sorted(options - listed)}"
