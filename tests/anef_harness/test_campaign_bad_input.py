"""``anef-harness run`` refuses a bad campaign before anything starts: one line on stderr,
``anef-harness: FILE[:LINE]: field.path: what was expected``, exit code 2, no traceback, and no
results folder (so no platform, no worker and no traffic either).

Most cases are ``campaigns/smoke.yaml`` with one edit, so each failure is caused by that edit
alone (``test_smoke_is_valid`` keeps that true) and the expected line is where the edit is.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from anef_harness import run_cli
from anef_harness.campaign import Campaign, load_campaign
from anef_harness.cli import app
from core.errors import ConfigError

SMOKE = Path(__file__).resolve().parents[2] / "campaigns" / "smoke.yaml"
SMOKE_TEXT = SMOKE.read_text(encoding="utf-8")
REMOTE = "203.0.113.7"  # TEST-NET-3: never a real host


def edit(old: str, new: str) -> str:
    """smoke.yaml with ``old`` (which must occur exactly once) replaced by ``new``."""
    count = SMOKE_TEXT.count(old)
    if count != 1:
        raise AssertionError(f"campaigns/smoke.yaml changed: {old!r} occurs {count} times, expected once")
    return SMOKE_TEXT.replace(old, new)


def section(name: str) -> str:
    """The text of a top-level section of smoke.yaml, from its key to the next top-level key."""
    lines = SMOKE_TEXT.splitlines(keepends=True)
    start = lines.index(f"{name}:\n")
    end = next((n for n in range(start + 1, len(lines)) if lines[n][:1].isalpha()), len(lines))
    return "".join(lines[start:end])


def with_faults(body: str) -> str:
    """smoke.yaml with its ``faults:`` section replaced by ``body`` (indented YAML under faults)."""
    return edit(section("faults"), "faults:\n" + body)


AT_10S_INLINE = "  schedule:\n    - at: 10s\n      faults:\n"
BAD_FAULT_FILE = "faults:\n  - id: document_lost\n    rate: 0.1\n  - id: documnet_lost\n    rate: 0.1\n"


@dataclass(frozen=True)
class Case:
    id: str
    campaign: str | bytes | None
    """The campaign file's content (None: the file does not exist)."""
    field_path: str | None
    """The field path the message names after the location (None: a problem with the whole file)."""
    expected: tuple[str, ...]
    """Substrings of the message."""
    line_at: str | None = None
    """The message gives the line of the first line of the file containing this (None: no line)."""
    args: tuple[str, ...] = ()
    """Extra command-line arguments; ``{dir}`` is the folder holding the campaign."""
    source: str | None = None
    """What the message names instead of the campaign file (an option such as ``--duration``)."""
    files: dict[str, str | bytes] = field(default_factory=dict)
    """Other files next to the campaign."""


CASES = [
    # --- unknown keys: did you mean, or what is expected there ---
    Case(
        "unknown-top-level-key", edit("journeys:\n", "jouneys:\n"), "jouneys", ("did you mean 'journeys'?",), "jouneys:"
    ),
    Case(
        "unknown-top-level-key-far",
        SMOKE_TEXT + "colour: blue\n",
        "colour",
        ("unknown field", "expected one of", "journeys"),
        "colour:",
    ),
    Case(
        "unknown-key-in-load",
        edit("  spawn_rate: 12\n", "  spawn_rate: 12\n  peak_users: 30\n"),
        "load.peak_users",
        ("unknown field", "users"),
        "peak_users:",
    ),
    Case(
        "unknown-key-in-population",
        edit("  size: 3000\n", "  size: 3000\n  agent_per_prefecture: 3\n"),
        "population.agent_per_prefecture",
        ("did you mean 'agents_per_prefecture'?",),
        "agent_per_prefecture:",
    ),
    Case(
        "unknown-key-in-population-shares",
        edit("    email_bounces: 0.0", "    email_bounce: 0.0"),
        "population.shares.email_bounce",
        ("did you mean 'email_bounces'?",),
        "email_bounce:",
    ),
    Case(
        "unknown-key-in-journey-settings",
        edit("  pause: 0.2\n", "  pause: 0.2\n  think_time: 0.5\n"),
        "journey_settings.think_time",
        ("did you mean 'think_time_scale'?",),
        "think_time:",
    ),
    Case("unknown-key-in-agents", edit("  pace:\n", "  pase:\n"), "agents.pase", ("did you mean 'pace'?",), "pase:"),
    Case(
        "unknown-key-in-agents-pace",
        edit("    actions_per_minute: 30", "    actions_per_minut: 30"),
        "agents.pace.actions_per_minut",
        ("did you mean 'actions_per_minute'?",),
        "actions_per_minut:",
    ),
    Case(
        "unknown-key-in-inline-fault",
        with_faults(AT_10S_INLINE + "        - id: latency\n          rate: 0.1\n          scpoe: {share: 0.1}\n"),
        "faults.schedule.0.faults.0.scpoe",
        ("did you mean 'scope'?",),
        "scpoe:",
    ),
    # --- types, values and missing fields ---
    Case("wrong-type", edit("  users: 12\n", '  users: "many"\n'), "load.users", ("valid integer",), 'users: "many"'),
    Case("missing-required-field", edit("name: smoke\n", ""), "name", ("Field required",)),
    Case("bad-name", edit("name: smoke\n", "name: Smoke Test\n"), "name", ("pattern",), "name: Smoke Test"),
    Case(
        "negative-duration",
        edit("duration: 60s", "duration: -5"),
        "duration",
        ("greater than or equal to 0",),
        "duration:",
    ),
    Case(
        "duration-in-words",
        edit("duration: 60s", "duration: ten minutes"),
        "duration",
        ("'ten minutes'", "'5m'"),
        "duration:",
    ),
    Case("infinite-duration", edit("duration: 60s", "duration: .inf"), "duration", ("finite",), "duration:"),
    # --- load model and shape ---
    Case(
        "unknown-shape",
        edit("  shape: constant\n", "  shape: rmap\n"),
        "load.shape",
        ("unknown shape 'rmap'", "did you mean 'ramp'?"),
        "shape: rmap",
    ),
    Case(
        "unknown-shape-parameter",
        edit("  shape: constant\n", "  shape: ramp\n  params:\n    ovre: 30\n"),
        "load.params",
        ("'ovre'", "did you mean 'over'?"),
        "params:",
    ),
    Case(
        "parameter-of-a-shape-without-any",
        edit("  shape: constant\n", "  shape: constant\n  params: {height: 2}\n"),
        "load.params",
        ("no parameter 'height'", "accepted: none"),
        "params:",
    ),
    Case(
        "negative-rate",
        edit("  model: closed\n", "  model: open\n  rate: -2\n"),
        "load.rate",
        ("greater than 0",),
        "rate: -2",
    ),
    Case(
        "open-model-without-rate",
        edit("  model: closed\n", "  model: open\n"),
        "load.rate",
        ("open model needs a rate",),
        "load:",
    ),
    # --- journeys ---
    Case(
        "unknown-journey",
        edit("  renewal: 3\n", "  renewel: 3\n"),
        "journeys",
        ("unknown journey 'renewel'", "did you mean 'renewal'?"),
        "journeys:",
    ),
    Case(
        "all-weights-zero",
        edit(section("journeys"), "journeys:\n  login: 0\n  renewal: 0\n"),
        "journeys",
        ("all zero",),
        "journeys:",
    ),
    Case("negative-weight", edit("  login: 3\n", "  login: -1\n"), "journeys", ("login", ">= 0", "-1"), "journeys:"),
    # --- population ---
    Case(
        "persona-mix-not-summing-to-1",
        edit("  size: 3000\n", "  size: 3000\n  personas: {methodical: 0.5, hurried: 0.3}\n"),
        "population.personas",
        ("sum to 1", "0.8"),
        "personas:",
    ),
    Case(
        "nationality-mix-not-summing-to-1",
        edit("  size: 3000\n", "  size: 3000\n  mix:\n    nationalities: {DZA: 0.5}\n"),
        "population.mix.nationalities",
        ("sum to 1", "0.5"),
        "nationalities:",
    ),
    Case(
        "unknown-persona",
        edit("  size: 3000\n", "  size: 3000\n  personas: {hurryed: 1.0}\n"),
        "population.personas",
        ("unknown persona 'hurryed'", "did you mean 'hurried'?"),
        "personas:",
    ),
    # --- faults ---
    Case(
        "unknown-fault-profile",
        edit("  profile: none", "  profile: anef-2042"),
        "faults.profile",
        ("'anef-2042'", "anef-2024"),
        "profile: anef-2042",
    ),
    Case(
        "unknown-fault-profile-option",
        SMOKE_TEXT,
        "faults.profile",
        ("'anef-2042'", "anef-2024"),
        args=("--faults", "anef-2042"),
    ),
    Case(
        "fault-file-with-unknown-id",
        edit("  profile: none", "  profile: faults-bad.yaml"),
        "faults.profile",
        ("faults-bad.yaml:4: faults.1: unknown fault id 'documnet_lost'", "did you mean 'document_lost'?"),
        "profile: faults-bad.yaml",
        files={"faults-bad.yaml": BAD_FAULT_FILE},
    ),
    Case(
        "fault-file-with-unknown-id-option",
        SMOKE_TEXT,
        "faults.profile",
        ("faults-bad.yaml:4: faults.1: unknown fault id 'documnet_lost'", "did you mean 'document_lost'?"),
        args=("--faults", "{dir}/faults-bad.yaml"),
        files={"faults-bad.yaml": BAD_FAULT_FILE},
    ),
    Case(
        "fault-file-not-utf8",
        edit("  profile: none", "  profile: latin1.yaml"),
        "faults.profile",
        ("latin1.yaml", "UTF-8"),
        "profile: latin1.yaml",
        files={"latin1.yaml": "faults: []  # défaut\n".encode("latin-1")},
    ),
    Case(
        "schedule-inline-fault-bad-rate",
        with_faults(AT_10S_INLINE + "        - id: latency\n          rate: 2\n"),
        "faults.schedule.0.faults.0.rate",
        ("less than or equal to 1",),
        "rate: 2",
    ),
    Case(
        "schedule-inline-fault-unknown-id",
        with_faults(AT_10S_INLINE + "        - id: latncy\n          rate: 0.5\n"),
        "faults.schedule.0.faults.0",
        ("unknown fault id 'latncy'", "did you mean 'latency'?"),
        "- id: latncy",
    ),
    Case(
        "schedule-not-in-time-order",
        with_faults("  schedule:\n    - at: 30s\n      profile: anef-2024\n    - at: 10s\n      profile: none\n"),
        "faults.schedule",
        ("time order", "30, 10"),
        "schedule:",
    ),
    Case(
        "schedule-change-after-the-end",
        with_faults("  schedule:\n    - at: 2m\n      profile: anef-2024\n"),
        "faults.schedule.0.at",
        ("after the end", "120 s", "60 s"),
        "at: 2m",
    ),
    Case(
        "schedule-profile-and-faults",
        with_faults("  schedule:\n    - at: 10s\n      profile: anef-2024\n      faults: []\n"),
        "faults.schedule.0",
        ("either profile or faults, not both",),
        "- at: 10s",
    ),
    Case(
        "schedule-unknown-profile",
        with_faults("  schedule:\n    - at: 10s\n      profile: anef-2042\n"),
        "faults.schedule.0.profile",
        ("'anef-2042'", "anef-2024"),
        "profile: anef-2042",
    ),
    # --- SLO file ---
    Case("missing-slo-file", SMOKE_TEXT + "slo: slos/nope.yaml\n", "slo", ("slos/nope.yaml", "not found"), "slo:"),
    # --- target: loopback unless allowed, http(s) only ---
    Case(
        "non-loopback-target",
        edit("target: embedded", f"target: http://{REMOTE}:8000"),
        "target",
        (f"{REMOTE} is not a loopback address", "allow_targets", f"--allow-target {REMOTE}"),
        "target:",
    ),
    Case(
        "non-loopback-target-option",
        SMOKE_TEXT,
        "target",
        (f"{REMOTE} is not a loopback address", f"--allow-target {REMOTE}"),
        args=("--target", f"http://{REMOTE}:8000"),
    ),
    Case(
        "target-allowed-is-another-host",
        SMOKE_TEXT,
        "target",
        (f"{REMOTE} is not a loopback address",),
        args=("--target", f"http://{REMOTE}:8000", "--allow-target", "203.0.113.8"),
    ),
    Case(
        "non-http-target",
        edit("target: embedded", "target: ftp://127.0.0.1/campagne"),
        "target",
        ("http(s)://", "'ftp://127.0.0.1/campagne'"),
        "target:",
    ),
    # --- the file itself ---
    Case(
        "invalid-yaml",
        edit("name: smoke\n", "name: smoke: again\n"),
        None,
        ("not valid YAML", "mapping values are not allowed here"),
        "name: smoke: again",
    ),
    Case("invalid-yaml-tab", edit("  users: 12\n", "\tusers: 12\n"), None, ("not valid YAML", "'\\t'"), "\tusers"),
    Case("empty-file", "", None, ("empty", "expected a mapping")),
    Case("only-comments", "# nothing yet\n", None, ("empty", "expected a mapping")),
    Case("yaml-list", "- name: smoke\n- duration: 60s\n", None, ("expected a mapping", "list")),
    Case("yaml-scalar", "smoke\n", None, ("expected a mapping", "str")),
    Case("not-utf8", SMOKE_TEXT.replace("about a minute", "à peu près une minute").encode("latin-1"), None, ("UTF-8",)),
    Case("file-does-not-exist", None, None, ("cannot read", "No such file")),
    # --- options ---
    Case(
        "duration-option-garbage",
        SMOKE_TEXT,
        None,
        ("expected a duration", "'soon'"),
        args=("--duration", "soon"),
        source="--duration",
    ),
    Case("workers-negative", SMOKE_TEXT, None, ("0 to 64", "-1"), args=("--workers", "-1"), source="--workers"),
    Case("workers-too-many", SMOKE_TEXT, None, ("0 to 64", "65"), args=("--workers", "65"), source="--workers"),
    Case(
        "expect-workers-too-many",
        SMOKE_TEXT,
        None,
        ("0 to 64", "65"),
        args=("--expect-workers", "65"),
        source="--expect-workers",
    ),
    Case(
        "master-bind-not-loopback",
        SMOKE_TEXT,
        None,
        ("10.0.0.5 is not a loopback address", "--allow-remote"),
        args=("--expect-workers", "2", "--master-bind", "10.0.0.5"),
        source="--master-bind",
    ),
    Case("master-port-zero", SMOKE_TEXT, None, ("1 to 65535",), args=("--master-port", "0"), source="--master-port"),
]

SUBPROCESS_CASES = ["unknown-top-level-key", "invalid-yaml", "non-loopback-target", "not-utf8", "workers-negative"]


def write_case(case: Case, folder: Path) -> tuple[Path, list[str]]:
    """The campaign file (and its neighbours) in ``folder``; the arguments after ``run``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign.yaml"
    if isinstance(case.campaign, bytes):
        path.write_bytes(case.campaign)
    elif case.campaign is not None:
        path.write_text(case.campaign, encoding="utf-8")
    for name, content in case.files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path, [str(path), *(arg.replace("{dir}", str(folder)) for arg in case.args)]


def expected_prefix(case: Case, path: Path) -> str:
    where = case.source or str(path)
    if case.line_at is not None:
        assert isinstance(case.campaign, str)
        lines = case.campaign.splitlines()
        where += f":{next(n for n, line in enumerate(lines, start=1) if case.line_at in line)}"
    return f"anef-harness: {where}: " + (f"{case.field_path}: " if case.field_path else "")


def assert_one_line_refusal(case: Case, path: Path, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    message = lines[0]
    prefix = expected_prefix(case, path)
    assert message.startswith(prefix), f"expected the message to start with {prefix!r}, got {message!r}"
    for part in case.expected:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_campaign_is_refused_in_one_line(case: Case, tmp_path: Path) -> None:
    path, args = write_case(case, tmp_path / "campaign")
    out = tmp_path / "results" / "run"

    result = CliRunner().invoke(app, ["run", *args, "--out", str(out), "--quiet", "--metrics-port", "0"])

    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not an exception escaping the CLI
    assert result.stdout == ""
    assert_one_line_refusal(case, path, result.stderr)
    assert not (tmp_path / "results").exists(), "a rejected campaign created a results folder"


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_no_traceback_reaches_a_real_terminal(case_id: str, tmp_path: Path) -> None:
    """The real entry point, in its own process, without --out: the default results folder
    (under the working folder) is not created either."""
    case = next(case for case in CASES if case.id == case_id)
    path, args = write_case(case, tmp_path / "campaign")

    completed = subprocess.run(
        [sys.executable, "-m", "anef_harness", "run", *args, "--quiet", "--metrics-port", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 2, (completed.stdout, completed.stderr)
    assert completed.stdout == ""
    assert_one_line_refusal(case, path, completed.stderr)
    assert not (tmp_path / "results").exists()


# --- what must pass ---------------------------------------------------------------------------


def test_smoke_is_valid(tmp_path: Path) -> None:
    """The cases edit smoke.yaml, so each refusal is caused by its edit alone."""
    copy = tmp_path / "campaign.yaml"
    copy.write_text(SMOKE_TEXT, encoding="utf-8")
    assert load_campaign(SMOKE).name == "smoke"
    assert load_campaign(copy).name == "smoke"


def test_allowed_target_passes_validation(tmp_path: Path) -> None:
    target = f"http://{REMOTE}:9"  # allowed, and never contacted: only validated here
    from_option = load_campaign(SMOKE, {"target": target, "allow_targets": [REMOTE]})
    assert (from_option.target, from_option.allow_targets) == (target, [REMOTE])

    in_file = tmp_path / "campaign.yaml"
    in_file.write_text(edit("target: embedded", f"target: {target}\nallow_targets: [{REMOTE}]"), encoding="utf-8")
    assert load_campaign(in_file).target == target

    with pytest.raises(ConfigError, match="is not a loopback address"):
        load_campaign(SMOKE, {"target": target})


def test_allow_target_option_reaches_the_campaign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--allow-target`` lets the campaign through to the conductor (replaced here: no load is sent)."""
    received: list[Campaign] = []

    def conductor(campaign: Campaign, *args: Any, **kwargs: Any) -> None:
        received.append(campaign)
        raise typer.Exit(0)

    monkeypatch.setattr(run_cli, "run_campaign", conductor)
    target = f"http://{REMOTE}:9"
    out = tmp_path / "out"

    result = CliRunner().invoke(
        app,
        [
            "run",
            str(SMOKE),
            "--target",
            target,
            "--allow-target",
            REMOTE,
            "--out",
            str(out),
            "--quiet",
            "--metrics-port",
            "0",
        ],
    )

    assert result.exit_code == 0, (result.output, result.exception)
    assert [(c.target, c.allow_targets) for c in received] == [(target, [REMOTE])]
    assert not out.exists()


def test_faults_option_file_is_relative_to_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--faults my-faults.yaml`` means the file in the working folder, not beside the campaign."""
    here = tmp_path / "here"
    here.mkdir()
    (here / "my-faults.yaml").write_text(BAD_FAULT_FILE, encoding="utf-8")
    campaign = tmp_path / "campaigns" / "campaign.yaml"
    campaign.parent.mkdir()
    campaign.write_text(SMOKE_TEXT, encoding="utf-8")
    monkeypatch.chdir(here)

    result = CliRunner().invoke(
        app, ["run", str(campaign), "--faults", "my-faults.yaml", "--out", "out", "--metrics-port", "0"]
    )

    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith(
        f"anef-harness: {campaign}: faults.profile: {here / 'my-faults.yaml'}:4: faults.1: "
    )
    assert "did you mean 'document_lost'?" in result.stderr
    assert not (here / "out").exists()
