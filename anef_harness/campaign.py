"""The campaign file: everything one run needs, validated into typed models before any traffic.

A campaign extends the scenario sections the load processes read (``scenarios.spec``) with
what only the conductor acts on: the target and its allowlist, the fault profile and its
schedule, the SLO file and the outputs. Errors are one line naming the file, the field path and,
where the YAML says it, the line.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from checks.shift import ShiftBounds
from contracts.fault_set import PROFILES_DIR, FaultSet, FaultSpec, load_profile
from core import yamlfile
from core.describe import clean, describe, dotted
from core.errors import ConfigError
from drills.catalogue import DRILLS, unknown_drill
from drills.world import DEPENDENCIES, Dependency
from scenarios.campaign_file import read_yaml, with_defaults
from scenarios.spec import ScenarioSpec, Seconds
from synthetic_users.targets import parse_http_url, target_problem

NO_FAULTS = "none"
CAMPAIGNS_DIR = Path(__file__).resolve().parent.parent / "campaigns"


class FaultChange(BaseModel):
    """What happens at a moment of the campaign: faults set (a profile, by name or file, or an
    inline list), or a drill (``action``: the platform killed, a worker killed… see
    ``drills.catalogue``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Seconds = Field(0.0, description="seconds since the load started: 90, '2m'")
    profile: str | None = Field(None, description="a shipped profile (anef-2024), a file, or 'none'")
    faults: list[FaultSpec] | None = Field(None, description="inline, as the body of PUT /_admin/faults")
    action: str | None = Field(None, description="a drill: " + ", ".join(DRILLS))
    worker: int | None = Field(None, ge=0, description="kill_worker: which Locust worker (0 to --workers - 1)")
    dependency: Dependency | None = Field(None, description="cut, restore: pushgateway or prometheus")

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str | None) -> str | None:
        if value is not None and value not in DRILLS:
            raise ValueError(unknown_drill(value))
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FaultChange:
        given = [name for name in ("profile", "faults", "action") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give either {given[0]} or {given[1]}, not both")
        if not given:
            raise ValueError("expected profile (a name, a file or 'none'), faults (a list) or action (a drill)")
        if self.worker is not None and self.action != "kill_worker":
            raise ValueError("worker: only the kill_worker action takes a worker")
        if self.action in ("cut", "restore") and self.dependency is None:
            raise ValueError(f"dependency: {self.action} needs a dependency, {' or '.join(DEPENDENCIES)}")
        if self.dependency is not None and self.action not in ("cut", "restore"):
            raise ValueError("dependency: only the cut and restore actions take a dependency")
        return self

    @property
    def label(self) -> str:
        if self.action is not None:
            extra = self.dependency or (f"worker {self.worker or 0}" if self.action == "kill_worker" else "")
            return f"{self.action} {extra}".strip()
        return self.profile or f"{len(self.faults or [])} inline fault(s)"


class FaultsSpec(BaseModel):
    """The faults of a campaign: on from the start, and optionally changed at given moments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = Field(NO_FAULTS, description="a shipped profile (anef-2024), a file, or 'none'")
    schedule: list[FaultChange] = Field(default_factory=list)

    @field_validator("schedule")
    @classmethod
    def _ordered(cls, value: list[FaultChange]) -> list[FaultChange]:
        moments = [change.at for change in value]
        if moments != sorted(moments):
            raise ValueError(f"changes must be in time order, got at = {', '.join(f'{m:g}' for m in moments)} s")
        return value


class Outputs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    root: Path = Field(Path("results"), description="results folders are created under this folder")
    metrics_port: int | None = Field(
        9646, ge=0, le=65535, description="live Prometheus metrics on this loopback port (0: any free port; null: off)"
    )
    pushgateway: str | None = Field(
        None, description="a Pushgateway URL the figures are pushed to as the run goes and at its end"
    )
    prometheus: str | None = Field(
        None, description="the URL of a Prometheus that scrapes the run: the harness checks that it can reach it"
    )
    grafana: str | None = Field(
        None, description="a Grafana the dashboards are published to at the end (token from GRAFANA_TOKEN)"
    )
    report_lang: Literal["fr", "en"] = Field("fr", description="the language of report.html")


class Campaign(ScenarioSpec):
    """A whole campaign file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    target: str = Field("embedded", description="'embedded' or the URL of a platform")
    allow_targets: list[str] = Field(default_factory=list, description="hosts allowed besides loopback")
    mailbox: str | None = Field(None, description="the mailbox API URL (Mailpit's) when the target is not embedded")
    admin_token: str | None = Field(None, description="the target's admin token (prefer ANEF_ADMIN_TOKEN)")
    faults: FaultsSpec = Field(default_factory=FaultsSpec)
    slo: Path | None = Field(None, description="an OpenSLO file; checked to exist")
    outputs: Outputs = Field(default_factory=Outputs)
    shift: ShiftBounds = Field(
        default_factory=ShiftBounds, description="when a latency or failure shift against the baseline fails the gate"
    )

    @model_validator(mode="after")
    def _target_allowed(self) -> Campaign:
        if self.target != "embedded":
            parsed = parse_http_url(self.target)
            if isinstance(parsed, str):
                expected = f"expected 'embedded' or an http(s):// URL, got {self.target!r}"
                raise _refused(("target",), expected if parsed.startswith("expected") else parsed)
            if problem := target_problem(self.target, self.allow_targets):
                raise _refused(("target",), f"{problem} to send load there")
        for name in (*DEPENDENCIES, "grafana"):
            url = getattr(self.outputs, name)
            if url is not None and (problem := url_problem(url, self.allow_targets)):
                raise _refused(("outputs", name), problem)
        for number, change in enumerate(self.faults.schedule):
            drill = DRILLS.get(change.action or "")
            if drill is not None and drill.embedded_only and self.target != "embedded":
                raise _refused(
                    ("faults", "schedule", number, "action"), f"{drill.name} needs target: embedded (got a URL)"
                )
            if change.dependency is not None and getattr(self.outputs, change.dependency) is None:
                raise _refused(
                    ("faults", "schedule", number, "dependency"),
                    f"the campaign names no {change.dependency}: set outputs.{change.dependency}",
                )
        if self.faults.schedule and self.faults.schedule[-1].at > self.duration:
            last = len(self.faults.schedule) - 1
            raise _refused(
                ("faults", "schedule", last, "at"),
                f"a change at {self.faults.schedule[-1].at:g} s is after the end ({self.duration:g} s)",
            )
        return self


def url_problem(url: str, allowed: Collection[str]) -> str | None:
    """Why an http(s) URL of a harness dependency (Pushgateway, Grafana) may not be used, if so."""
    return target_problem(url, allowed)


def _refused(loc: tuple[str | int, ...], message: str) -> ValidationError:
    """An error at ``loc``: a plain ValueError from a model validator would name no field."""
    error = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=None)
    return ValidationError.from_exception_data("Campaign", [error])


def check_workers(campaign: Campaign, workers: int) -> str | None:
    """Why the schedule's drills cannot run with this many Locust workers, if so."""
    for number, change in enumerate(campaign.faults.schedule):
        if change.action == "kill_worker":
            wanted = change.worker or 0
            if wanted >= workers:
                have = f"only {workers} (workers 0 to {workers - 1})" if workers else "none (one process)"
                return (
                    f"faults.schedule.{number}.worker: kill_worker needs Locust worker {wanted}, the run has "
                    f"{have}; start it with --workers {wanted + 1} or more"
                )
    return None


@dataclass(frozen=True)
class Override:
    """One field of the campaign set from the command line (``--set load.users=50``, ``--users 50``):
    an error in its value names the option as typed, not the file."""

    option: str  # as the user typed it, for the error: "--set load.users=abc", "--users 0"
    path: tuple[str, ...]  # ("load", "users"); a number indexes a list: ("faults", "schedule", "0", "at")
    value: Any

    @property
    def field(self) -> str:
        return ".".join(self.path)


def parse_set(text: str) -> Override:
    """``--set KEY=VALUE``: a dotted path into the campaign and a YAML scalar (``50``, ``0.5``,
    ``open``, ``true``, ``'007'``), or a one-line ``ConfigError`` naming the option."""
    key, equals, raw = text.partition("=")
    option = f"--set {text}"
    parts = tuple(key.strip().split("."))
    if not equals or not all(parts):
        raise ConfigError(
            "--set", f"expected KEY=VALUE with KEY a dotted path into the campaign (load.users=50), got {text!r}"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(
            option, f"expected a YAML scalar after '=' (a number, a word, true/false), got {raw!r}"
        ) from None
    if isinstance(value, dict | list):
        raise ConfigError(option, f"expected a YAML scalar after '=' (a number, a word, true/false), got {raw!r}")
    return Override(option, parts, value)


def apply_overrides(data: dict[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """``data`` with each override set at its path (sections created as needed), in order."""
    result = copy.deepcopy(data)
    for override in overrides:
        node: Any = result
        for depth, part in enumerate(override.path[:-1]):
            node = _child(node, part, override, depth)
        last = override.path[-1]
        if isinstance(node, list):
            node[_index(node, last, override, len(override.path) - 1)] = override.value
        elif isinstance(node, dict):
            node[last] = override.value
        else:
            raise ConfigError(
                override.option, f"{'.'.join(override.path[:-1])} is not a section (a mapping) of the campaign"
            )
    return result


def _child(node: Any, part: str, override: Override, depth: int) -> Any:
    where = ".".join(override.path[:depth]) or "the campaign"
    if isinstance(node, dict):
        return node.setdefault(part, {})
    if isinstance(node, list):
        return node[_index(node, part, override, depth)]
    raise ConfigError(override.option, f"{where} is not a section (a mapping or a list) of the campaign")


def _index(node: list[Any], part: str, override: Override, depth: int) -> int:
    where = ".".join(override.path[:depth])
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(
            override.option,
            f"{where} is a list of {len(node)}: expected an index from 0 to {len(node) - 1}, got {part!r}",
        )
    return int(part)


def load_campaign(
    path: Path,
    overrides: dict[str, Any] | None = None,
    *,
    faults_profile: str | None = None,
    settings: Sequence[Override] = (),
) -> Campaign:
    """Read and validate a campaign; command-line overrides win (``settings``: ``--set``, ``--users``,
    ``--rate``, applied in order before ``overrides``). Fault profiles and the SLO file are resolved
    and checked too, so nothing fails once load has started."""
    data = with_defaults({**apply_overrides(read_yaml(path), settings), **(overrides or {})})
    options = set(overrides or {})  # fields given on the command line: no line of the file to show
    if faults_profile is not None:
        if Path(faults_profile).exists():  # a file named on the command line is relative to the working folder
            faults_profile = str(Path(faults_profile).resolve())
        faults = data.get("faults")
        data["faults"] = {**(faults if isinstance(faults, dict) else {}), "profile": faults_profile}
        options.add("faults.profile")
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        field = dotted(clean(exc.errors()[0]["loc"]))
        # The override that set the field, or a section it created on its way there.
        named = [s for s in settings if f"{field}.".startswith(f"{s.field}.") or s.field.startswith(f"{field}.")]
        if named:  # the last one wins
            raise ConfigError(named[-1].option, describe(exc, Campaign)) from None
        raise ConfigError(_where(path, exc.errors()[0]["loc"], options), describe(exc, Campaign)) from None
    base = path.parent
    for loc, profile in _profiles(campaign):
        if profile != NO_FAULTS:
            fault_set(profile, base, where=f"{_where(path, loc, options)}: {dotted(loc)}")
    if campaign.slo is not None and not _resolve(campaign.slo, base).is_file():
        raise ConfigError(_where(path, ("slo",), options), f"slo: file {campaign.slo} not found")
    return campaign


def _profiles(campaign: Campaign) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = [(("faults", "profile"), campaign.faults.profile)]
    for number, change in enumerate(campaign.faults.schedule):
        if change.profile is not None:
            found.append((("faults", "schedule", number, "profile"), change.profile))
    return found


def _where(path: Path, loc: Sequence[str | int], options: Collection[str]) -> str:
    """``FILE:LINE`` of a field, or ``FILE`` when the line is unknown or the value came from an option."""
    field = dotted(loc)
    if any(field == option or field.startswith(f"{option}.") for option in options):
        return str(path)
    return f"{path}{_line_of(path, loc)}"


def fault_set(profile: str, base: Path, *, where: str) -> FaultSet:
    """A profile by name or by path (relative to the campaign file), validated."""
    if profile == NO_FAULTS:
        return FaultSet()
    candidate = _resolve(Path(profile), base)
    shipped = PROFILES_DIR / f"{profile}.yaml"
    if not candidate.exists() and not shipped.exists():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise ConfigError(where, f"no profile or file {profile!r}; shipped profiles: {known}, or 'none'")
    try:
        return load_profile(candidate if candidate.exists() else profile)
    except ConfigError as exc:
        raise ConfigError(where, str(exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(where, f"{candidate}: expected UTF-8 text") from None


def change_set(change: FaultChange, base: Path, *, where: str) -> FaultSet:
    if change.faults is not None:
        return FaultSet(faults=change.faults)
    return fault_set(change.profile or NO_FAULTS, base, where=where)


def _resolve(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else base / path


def _line_of(path: Path, loc: Sequence[str | int]) -> str:
    """``:LINE`` of the field at ``loc`` in the YAML file (or of its nearest parent found there)."""
    try:
        line = yamlfile.line_of(yamlfile.compose(path.read_text(encoding="utf-8")), loc)
    except OSError:
        return ""
    return f":{line}" if line is not None else ""


def resolved_yaml(campaign: Campaign) -> str:
    """The campaign with every default written out, as the results folder keeps it: all but the
    admin token, a secret that results (shared, archived, attached to CI pages) must not carry; the
    campaign runs again as is with ANEF_ADMIN_TOKEN set."""
    data = campaign.model_dump(mode="json", exclude_none=True, exclude={"admin_token"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class ShippedCampaign:
    """A campaign of ``campaigns/``, as ``anef-harness campaigns`` lists it."""

    name: str
    path: Path
    description: str
    duration: float | None  # seconds; None when the file does not load
    load: str  # "12 users", "up to 15 journeys/s", or why the file does not load


def shipped_campaigns(folder: Path = CAMPAIGNS_DIR) -> list[ShippedCampaign]:
    """Every campaign file of ``folder``, by name; one that does not load is listed with its error."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            campaign = load_campaign(path)
        except ConfigError as exc:
            found.append(ShippedCampaign(path.stem, path, _first_comment(path), None, f"invalid: {exc.problem}"))
            continue
        load = campaign.load
        users = f"{load.users} users"
        amount = f"up to {load.rate:g} journeys/s ({users})" if load.model == "open" and load.rate else users
        description = campaign.description or _first_comment(path)
        found.append(ShippedCampaign(campaign.name, path, description, campaign.duration, amount))
    return found


def _first_comment(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""


def campaign_path(name_or_path: str) -> Path:
    """A file, or the name of a shipped campaign (``smoke`` → ``campaigns/smoke.yaml``)."""
    path = Path(name_or_path)
    shipped = CAMPAIGNS_DIR / f"{name_or_path}.yaml"
    return shipped if not path.exists() and shipped.exists() else path
