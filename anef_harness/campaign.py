"""The campaign file: everything one run needs, validated into typed models before any traffic.

A campaign extends the scenario sections the load processes read (``scenarios.spec``) with
what only the conductor acts on: the target and its allowlist, the fault profile and its
schedule, the SLO file and the outputs. Errors are one line naming the file, the field path and,
where the YAML says it, the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reference_platform.errors import ConfigError as PlatformConfigError
from reference_platform.faults.models import PROFILES_DIR, FaultSet, FaultSpec, load_profile
from scenarios.campaign_file import read_yaml, with_defaults
from scenarios.spec import ScenarioSpec, Seconds
from synthetic_users.errors import ConfigError
from synthetic_users.spec import describe
from synthetic_users.targets import is_loopback

NO_FAULTS = "none"


class FaultChange(BaseModel):
    """Faults to set at a moment of the campaign: a profile (name or file) or an inline list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Seconds = Field(0.0, description="seconds since the load started: 90, '2m'")
    profile: str | None = Field(None, description="a shipped profile (anef-2024), a file, or 'none'")
    faults: list[FaultSpec] | None = Field(None, description="inline, as the body of PUT /_admin/faults")

    @model_validator(mode="after")
    def _one_source(self) -> FaultChange:
        if self.profile is not None and self.faults is not None:
            raise ValueError("give either profile or faults, not both")
        if self.profile is None and self.faults is None:
            raise ValueError("expected profile (a name, a file or 'none') or faults (a list)")
        return self


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

    @model_validator(mode="after")
    def _target_allowed(self) -> Campaign:
        if self.target != "embedded":
            parts = urlsplit(self.target)
            hostname = parts.hostname or ""
            if parts.scheme not in ("http", "https") or not hostname:
                raise ValueError(f"target: expected 'embedded' or an http(s):// URL, got {self.target!r}")
            if not is_loopback(hostname) and hostname not in self.allow_targets:
                raise ValueError(
                    f"{hostname} is not a loopback address; add it to allow_targets (or --allow-target "
                    f"{hostname}) to send load there"
                )
        if self.faults.schedule and self.faults.schedule[-1].at > self.duration:
            raise ValueError(
                f"faults.schedule: a change at {self.faults.schedule[-1].at:g} s is after the end ({self.duration:g} s)"
            )
        return self


def load_campaign(
    path: Path, overrides: dict[str, Any] | None = None, *, faults_profile: str | None = None
) -> Campaign:
    """Read and validate a campaign; command-line overrides win. Fault profiles and the SLO file
    are resolved and checked too, so nothing fails once load has started."""
    data = with_defaults({**read_yaml(path), **(overrides or {})})
    if faults_profile is not None:
        faults = data.get("faults")
        data["faults"] = {**(faults if isinstance(faults, dict) else {}), "profile": faults_profile}
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}{_line_of(path, exc)}", describe(exc)) from None
    base = path.parent
    for where, profile in _profiles(campaign):
        if profile != NO_FAULTS:
            fault_set(profile, base, where=f"{path}: {where}")
    if campaign.slo is not None and not _resolve(campaign.slo, base).is_file():
        raise ConfigError(str(path), f"slo: file {campaign.slo} not found")
    return campaign


def _profiles(campaign: Campaign) -> list[tuple[str, str]]:
    found = [("faults.profile", campaign.faults.profile)]
    for number, change in enumerate(campaign.faults.schedule):
        if change.profile is not None:
            found.append((f"faults.schedule.{number}.profile", change.profile))
    return found


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
    except PlatformConfigError as exc:
        raise ConfigError(where, str(exc)) from None


def change_set(change: FaultChange, base: Path, *, where: str) -> FaultSet:
    if change.faults is not None:
        return FaultSet(faults=change.faults)
    return fault_set(change.profile or NO_FAULTS, base, where=where)


def _resolve(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else base / path


def _line_of(path: Path, exc: ValidationError) -> str:
    """``:LINE`` of the first error's field in the YAML file, when it can be found."""
    try:
        node: Any = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    best = node
    for part in exc.errors()[0]["loc"]:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == str(part)), None)
            key = next((k for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            best, node = key, found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            best = node = node.value[part]
        else:
            break
    return f":{best.start_mark.line + 1}" if best is not None else ""


def resolved_yaml(campaign: Campaign) -> str:
    """The campaign with every default written out, as the results folder keeps it."""
    data = campaign.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
