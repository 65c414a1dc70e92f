"""Reading a campaign file's scenario sections, for the load processes."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scenarios.spec import SCENARIO_KEYS, ScenarioSpec
from synthetic_users.errors import ConfigError
from synthetic_users.spec import describe


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping, or a one-line ``ConfigError`` naming the file (and the line)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), f"expected UTF-8 text, got byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        raise ConfigError(str(path), "the file is empty; expected a mapping of campaign fields (name, duration, …)")
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"expected a mapping of campaign fields, got a YAML {type(data).__name__}")
    return data


def with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The population inherits the campaign's seed; the reference date is today unless fixed."""
    population = dict(data.get("population") or {})
    if isinstance(data.get("population"), dict) or "population" not in data:
        population.setdefault("seed", data.get("seed", 1))
        population.setdefault("reference_date", date.today().isoformat())
        return {**data, "population": population}
    return data


def load_scenario(path: Path) -> ScenarioSpec:
    """The scenario sections of a campaign file, validated (other sections are ignored here)."""
    data = with_defaults(read_yaml(path))
    try:
        return ScenarioSpec.model_validate({key: value for key, value in data.items() if key in SCENARIO_KEYS})
    except ValidationError as exc:
        raise ConfigError(str(path), describe(exc)) from None


def results_folder(name: str, root: Path = Path("results")) -> Path:
    return root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
