"""Reading a campaign file's scenario sections, for the load processes."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core import yamlfile
from core.describe import describe, yaml_type
from core.errors import ConfigError
from scenarios.spec import SCENARIO_KEYS, ScenarioSpec


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping, or a one-line ``ConfigError`` naming the file (and the line)."""
    data = yamlfile.load(path)
    if data is None:
        raise ConfigError(str(path), "the file is empty; expected a mapping of campaign fields (name, duration, …)")
    if not isinstance(data, dict):
        raise ConfigError(
            str(path), f"expected a mapping of campaign fields (name, duration, …), got {yaml_type(data)}"
        )
    return data


def with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The population inherits the campaign's seed; the reference date is today unless fixed."""
    section = data.get("population", {})
    if not isinstance(section, dict):
        return data  # validation names the section and says what it is instead of a mapping
    population = {"seed": data.get("seed", 1), "reference_date": date.today().isoformat(), **section}
    return {**data, "population": population}


def load_scenario(path: Path) -> ScenarioSpec:
    """The scenario sections of a campaign file, validated (other sections are ignored here)."""
    data = with_defaults(read_yaml(path))
    try:
        return ScenarioSpec.model_validate({key: value for key, value in data.items() if key in SCENARIO_KEYS})
    except ValidationError as exc:
        raise ConfigError(str(path), describe(exc)) from None


def results_folder(name: str, root: Path = Path("results")) -> Path:
    return root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
