"""The population spec: a section of the campaign file (``population:``), usable on its own."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from synthetic_users.errors import ConfigError
from synthetic_users.personas import DEFAULT_PERSONA_MIX, PERSONAS
from synthetic_users.reference import (
    DEFAULT_CARD_KIND_MIX,
    DEFAULT_NATIONALITY_MIX,
    DEFAULT_PREFECTURE_MIX,
    DEPARTEMENTS,
    MOTIFS,
    NATIONALITIES,
)

Share = Annotated[float, Field(ge=0, le=1)]


def _check_mix(value: Mapping[str, float], known: Mapping[str, Any], what: str) -> dict[str, float]:
    if not value:
        raise ValueError(f"expected at least one {what}")
    for key, weight in value.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown {what} {key!r}{hint}")
        if weight < 0:
            raise ValueError(f"{what} {key!r}: expected a share >= 0, got {weight}")
    total = sum(value.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"the {what} shares must sum to 1, got {total:.6g}")
    return dict(value)


class Mix(BaseModel):
    """Who the applicants are. Defaults: DGEF 2024 figures (approx.) and illustrative shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nationalities: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_NATIONALITY_MIX), validate_default=True
    )
    card_kinds: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_CARD_KIND_MIX),
        validate_default=True,
        description="for nationals other than Algerians, who hold a certificat de résidence algérien",
    )
    prefectures: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_PREFECTURE_MIX), validate_default=True)

    @field_validator("nationalities")
    @classmethod
    def _nationalities(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_mix(value, NATIONALITIES, "nationality")

    @field_validator("card_kinds")
    @classmethod
    def _card_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_mix(value, {k: v for k, v in MOTIFS.items() if k != "certificat_residence_algerien"}, "card kind")

    @field_validator("prefectures")
    @classmethod
    def _prefectures(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_mix(value, DEPARTEMENTS, "prefecture")


class Shares(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    in_renewal_window: Share = Field(0.30, description="card expires 60 to 120 days after the reference date")
    card_handed_over: Share = Field(0.92, description="the current card was handed over (else: available)")
    email_bounces: Share = Field(0.01, description="the e-mail address refuses mail")


class PopulationSpec(BaseModel):
    """A population is a pure function of this spec: applicant i is the same everywhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: StrictInt = Field(gt=0, le=100_000_000)
    seed: StrictInt
    reference_date: date = Field(default_factory=date.today)
    mix: Mix = Field(default_factory=Mix)
    shares: Shares = Field(default_factory=Shares)
    personas: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_PERSONA_MIX), validate_default=True)
    agents_per_prefecture: StrictInt = Field(2, ge=1, le=1000)

    @field_validator("personas")
    @classmethod
    def _personas(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_mix(value, PERSONAS, "persona")


def describe(exc: ValidationError) -> str:
    """One line: the first problem with its field path."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"


def build_spec(source: str, data: Mapping[str, Any]) -> PopulationSpec:
    """Validate a spec, naming the source (a file or the options) in the error."""
    try:
        return PopulationSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, describe(exc)) from None


def load_spec(path: Path, overrides: Mapping[str, Any] | None = None) -> PopulationSpec:
    """Read a population spec from YAML: a whole file, or the ``population:`` section of a
    campaign file; options given on the command line win over the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(str(path), f"not valid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "expected a mapping")
    section = data.get("population", data)
    if not isinstance(section, dict):
        raise ConfigError(str(path), "population: expected a mapping of the spec's fields")
    return build_spec(str(path), {**section, **(overrides or {})})
