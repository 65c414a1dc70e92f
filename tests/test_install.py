"""The install: what pyproject.toml, constraints.txt and scripts/setup promise (docs/install.md).

No grafana-client, hence no niquests nor urllib3-future (whose wheel replaces urllib3 in every
interpreter); the Grafana SDK pinned exactly with its epoch; constraints.txt pins exactly what the
requirements resolve to, nothing stale; set-up needs no override flag. The slow tests build a clean
virtual environment with the base install alone: it judges a results folder, and Locust, requests
and the real urllib3 import once the 'load' extra is added.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.checks.test_store_and_rights import folder, step

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME = canonicalize_name(PROJECT["name"])
UNWANTED = {"grafana-client", "niquests", "urllib3-future"}


def pins() -> dict[str, str]:
    """constraints.txt as name → version (comments skipped)."""
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            found[canonicalize_name(name)] = version.strip()
    return found


def requirements(extras: tuple[str, ...] = ("all", "dev")) -> list[Requirement]:
    """The project's requirements with ``extras`` (what scripts/setup installs by default)."""
    return [Requirement(text) for text in PROJECT["dependencies"]] + _extras(extras)


def _extras(extras: tuple[str, ...]) -> list[Requirement]:
    """The requirements of ``extras``, the project's own extras (``all``) unfolded."""
    found: list[Requirement] = []
    for extra in extras:
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            own = canonicalize_name(requirement.name) == NAME
            found += _extras(tuple(sorted(requirement.extras))) if own else [requirement]
    return found


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution these requirements pull in, read from the installed packages' metadata."""
    seen: set[str] = set()
    todo = [(requirement, "") for requirement in roots]
    while todo:
        requirement, extra = todo.pop()
        environment = {**default_environment(), "extra": extra}
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        wanted = [(name, "")] + [(name, wanted_extra) for wanted_extra in requirement.extras]
        for _, with_extra in wanted:
            key = f"{name}[{with_extra}]"
            if key in seen:
                continue
            seen.add(key)
            for text in metadata.requires(name) or []:
                todo.append((Requirement(text), with_extra))
    return {key.partition("[")[0] for key in seen}


def test_grafana_client_and_its_urllib3_replacement_are_gone() -> None:
    resolved = closure(requirements())
    assert not resolved & UNWANTED
    assert not set(pins()) & UNWANTED
    assert "urllib3" in resolved  # the real one, for requests and Locust


def test_the_grafana_sdk_is_pinned_exactly_with_its_epoch() -> None:
    (sdk,) = [r for r in requirements(()) if canonicalize_name(r.name) == "grafana-foundation-sdk"]
    (spec,) = sdk.specifier
    assert spec.operator == "=="
    assert re.fullmatch(r"\d+!\d+\.\d+\.\d+", spec.version)
    assert pins()["grafana-foundation-sdk"] == spec.version


def test_constraints_pin_exactly_what_the_requirements_resolve_to() -> None:
    """Every package setup installs has a pin satisfying the project's range, and no pin is stale."""
    pinned, resolved = pins(), closure(requirements())
    assert sorted(resolved - set(pinned)) == []
    assert sorted(set(pinned) - resolved) == []
    for requirement in requirements():
        version = pinned[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def test_setup_installs_every_extra_without_override() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    assert "URLLIB3_NO_OVERRIDE" not in setup
    assert "--no-binary" not in setup
    assert '-c constraints.txt -e ".[all,dev]"' in setup


def test_the_base_install_has_neither_platform_nor_browser_nor_load() -> None:
    base = {canonicalize_name(r.name) for r in requirements(())}
    assert not base & {"fastapi", "uvicorn", "sqlalchemy", "psycopg", "argon2-cffi", "playwright", "locust"}
    assert set(PROJECT["optional-dependencies"]) == {"platform", "browser", "load", "all", "dev"}


# --- a clean virtual environment (slow: about a minute each from pip's cache) ----------------------------


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fresh virtual environment with ``pip install -c constraints.txt -e .`` of a copy of the project."""
    where = tmp_path_factory.mktemp("install")
    project = where / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".git", ".venv", "var", "results", "*.egg-info", ".*_cache", "__pycache__"),
    )
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    _pip(python, project, "-e", ".")
    return python, project


def _pip(python: Path, project: Path, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", "constraints.txt", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_the_base_install_judges_a_results_folder(base_venv: tuple[Path, Path], tmp_path: Path) -> None:
    python, _ = base_venv
    results = folder(tmp_path / "results", [step("login.submit") for _ in range(20)])
    installed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True)
    names = {canonicalize_name(line.partition("==")[0]) for line in installed.stdout.splitlines()}
    assert not names & (UNWANTED | {"fastapi", "sqlalchemy", "playwright", "locust", "uvicorn"})
    harness = python.parent / "anef-harness"
    gate = subprocess.run([str(harness), "gate", str(results)], capture_output=True, text=True, timeout=120)
    assert gate.returncode == 0, gate.stderr
    assert "verdict: pass" in gate.stdout
    run = subprocess.run([str(harness), "run", "smoke"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr == (
        "anef-harness: run needs the 'load' and 'platform' extras: pip install 'anef-harness[load,platform]'\n"
    )


@pytest.mark.slow
def test_locust_requests_and_the_real_urllib3_import_with_the_load_extra(base_venv: tuple[Path, Path]) -> None:
    python, project = base_venv
    _pip(python, project, "-e", ".[load]")
    probe = "import locust, requests, urllib3; print(urllib3.__file__); print(urllib3.__version__)"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    where, version = done.stdout.split()
    assert Path(where).parent.name == "urllib3"
    assert Path(where).parent.parent.name == "site-packages"
    assert version == pins()["urllib3"]
