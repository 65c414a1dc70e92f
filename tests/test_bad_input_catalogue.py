"""The bad-input catalogue (``tests/bad_input/``): every malformed campaign, population, fault and
SLO file is refused before anything starts, with exit code 2 and one line on stderr,
``anef-harness: FILE[:LINE]: [KIND NAME: ]field.path: …``, naming the file and the field; never a
traceback, no file written, no port bound, no process started.

Every case runs in-process (the CLI through typer's runner, with binding a socket and starting a
process made to fail); a few run as real processes too, to prove that the real entry point prints
one line and exits 2.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from anef_harness.cli import app
from tests.support import free_port

FOLDER = Path(__file__).resolve().parent / "bad_input"
CATALOGUE = FOLDER / "catalogue.yaml"
KINDS = ("campaigns", "populations", "faults", "slos")
HEADER = b"# Bad input: "


@dataclass(frozen=True)
class Case:
    """One entry of ``catalogue.yaml`` (its header says what each field means)."""

    file: str
    mistake: str
    command: str
    field: str | None
    line: int | None
    says: str
    object: str | None = None

    @property
    def kind(self) -> str:
        return self.file.split("/")[0]

    @property
    def path(self) -> Path:
        return FOLDER / self.file

    def args(self, results: Path) -> list[str]:
        return shlex.split(self.command.format(file=shlex.quote(str(self.path)), results=shlex.quote(str(results))))


def load_cases() -> list[Case]:
    entries: list[dict[str, Any]] = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["cases"]
    return [Case(**entry) for entry in entries]


CASES = load_cases()
IDS = [case.file.removesuffix(".yaml") for case in CASES]

# Real processes for a few cases: one per command (run, run --faults, population generate,
# platform serve, rules, gate), two of them problems with the whole file.
SUBPROCESS_CASES = [
    "campaigns/not-utf8",
    "populations/unknown-persona",
    "faults/unclosed-quote",
    "faults/negative-rate",
    "slos/unknown-step",
    "slos/not-utf8",
]


def sandbox(args: list[str], tmp: Path, port: int) -> list[str]:
    """Where outputs would go, inside ``tmp`` (a case that wrongly passes writes there and fails)."""
    if args[0] == "run":
        return [*args, "--out", str(tmp / "out" / "run"), "--quiet", "--metrics-port", "0"]
    if args[:2] == ["platform", "serve"]:
        return [*args, "--port", str(port), "--data-dir", str(tmp / "out" / "platform")]
    if args[:2] == ["population", "generate"]:
        return [*args, "--out", str(tmp / "out" / "population.jsonl")]
    if args[0] == "rules":
        return [*args, "--out", str(tmp / "out" / "rules.yaml")]
    if args[0] == "gate":
        return [*args, "--junit", str(tmp / "out" / "junit.xml")]
    raise AssertionError(f"the catalogue names a command the test does not know: {' '.join(args)}")


def files_under(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*")}


def assert_one_line_naming_the_field(case: Case, stderr: str) -> None:
    """Exactly one line, ``anef-harness: FILE[:LINE]: [KIND NAME: ]field: …``; the file may also be
    named by the file that refers to it (``smoke.yaml: faults.profile: FILE:LINE: field: …``)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    message = lines[0]
    where = re.escape(str(case.path)) + (f":{case.line}" if case.line is not None else "") + ": "
    what = "".join(re.escape(f"{part}: ") for part in (case.object, case.field) if part is not None)
    referred = r"(?:\S+: [\w.]+: )?"
    assert re.match(f"anef-harness: {referred}{where}{what}", message), (
        f"expected 'anef-harness: {case.path}{f':{case.line}' if case.line else ''}: "
        f"{f'{case.object}: ' if case.object else ''}{f'{case.field}: ' if case.field else ''}…', got:\n{message}"
    )
    assert case.says in message, f"{case.says!r} not in {message!r}"


@pytest.fixture
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Binding a socket or starting a process fails the test (in this process)."""

    def no_bind(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a refused input bound {address}")

    def no_process(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a refused input started a process: {args}")

    monkeypatch.setattr(socket.socket, "bind", no_bind)
    monkeypatch.setattr(subprocess, "Popen", no_process)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_input_is_refused_in_one_line(case: Case, tmp_path: Path, nothing_starts: None) -> None:
    results = tmp_path / "results"
    results.mkdir()  # the folder `gate` reads: it must stay empty
    args = sandbox(case.args(results), tmp_path, port=9)  # never bound: binding fails here

    result = CliRunner().invoke(app, args)

    assert isinstance(result.exception, SystemExit), result.exception  # no exception escaped the CLI
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert_one_line_naming_the_field(case, result.stderr)
    assert files_under(tmp_path) == {Path("results")}, "a refused input wrote something"


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_the_real_command_prints_one_line_and_exits_2(case_id: str, tmp_path: Path) -> None:
    case = CASES[IDS.index(case_id)]
    results = tmp_path / "results"
    results.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "ANEF_ADMIN_TOKEN"}

    done = subprocess.run(
        [sys.executable, "-m", "anef_harness", *sandbox(case.args(results), tmp_path, free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert_one_line_naming_the_field(case, done.stderr)
    assert files_under(tmp_path) == {Path("results")}, "a refused input wrote something"


# --- the catalogue itself ------------------------------------------------------------------------


def test_the_catalogue_covers_every_kind() -> None:
    kinds = [case.kind for case in CASES]
    assert len(CASES) >= 40
    assert set(kinds) == set(KINDS)
    for kind in KINDS:
        assert kinds.count(kind) >= 10, f"only {kinds.count(kind)} {kind} cases"
    named = [case for case in CASES if case.field is not None]
    assert len(named) >= 0.75 * len(CASES), "most cases must be about a field, not the whole file"


def test_every_file_is_in_the_catalogue_once_and_exists() -> None:
    on_disk = {str(path) for path in files_under(FOLDER) if (FOLDER / path).is_file()} - {CATALOGUE.name}
    listed = [case.file for case in CASES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(on_disk - set(listed)) == [], "files of tests/bad_input/ missing from catalogue.yaml"
    assert sorted(set(listed) - on_disk) == [], "catalogue.yaml lists files that do not exist"


def test_every_case_is_one_command_on_its_file_and_says_its_mistake() -> None:
    for case in CASES:
        assert "{file}" in case.command, case
        assert case.path.suffix == ".yaml", case
        content = case.path.read_bytes()
        assert content == b"" or content.startswith(HEADER), f"{case.file}: first line must be '# Bad input: …'"
        assert case.object is None or case.kind == "slos", case
