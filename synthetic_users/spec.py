"""The population spec: a section of the campaign file (``population:``), usable on its own."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from core import yamlfile
from core.describe import describe, explain, yaml_type
from core.errors import ConfigError
from core.registry import suggest
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
            hint = (
                suggest(key, sorted(known))
                or f"; expected one of the {len(known)} codes of synthetic_users/reference.py"
            )
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


def build_spec(source: str, data: Mapping[str, Any]) -> PopulationSpec:
    """Validate a spec, naming the source (a file or the options) in the error."""
    try:
        return PopulationSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, describe(exc, PopulationSpec)) from None


OPTIONS = {"size": "--size", "seed": "--seed", "reference_date": "--reference-date"}


def load_spec(path: Path, overrides: Mapping[str, Any] | None = None) -> PopulationSpec:
    """Read a population spec from YAML: a whole file, or the ``population:`` section of a
    campaign file (whose ``seed`` it inherits, as in a campaign); options given on the command
    line win over the file. Errors name the file, the line and the field (or the option)."""
    text = yamlfile.read_text(path)
    data = yamlfile.load(path, text)
    if data is None:
        raise ConfigError(str(path), "the file is empty; expected a population spec (size, seed, mix, …)")
    if not isinstance(data, dict):
        raise ConfigError(
            str(path),
            f"expected a mapping of the population spec's fields (size, seed, mix, …), got {yaml_type(data)}",
        )
    prefix: tuple[str, ...] = ()
    section = data
    if "population" in data:  # a campaign file
        prefix, section = ("population",), data["population"]
        if not isinstance(section, dict):
            line = yamlfile.line_of(yamlfile.compose(text), prefix)
            raise ConfigError(
                f"{path}:{line}" if line else str(path),
                f"population: expected a mapping of the spec's fields (size, seed, …), got {yaml_type(section)}",
            )
        if "seed" in data:
            section = {"seed": data["seed"], **section}
    given = dict(overrides or {})
    try:
        return PopulationSpec.model_validate({**section, **given})
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        if loc and loc[0] in given:
            raise ConfigError(OPTIONS.get(str(loc[0]), str(loc[0])), explain(error, PopulationSpec)) from None
        line = yamlfile.line_of(yamlfile.compose(text), (*prefix, *loc))
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(
            where, f"{yamlfile.dotted((*prefix, *loc)) or '(top level)'}: {explain(error, PopulationSpec)}"
        ) from None
