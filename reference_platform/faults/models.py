"""The active fault set as data: what a profile file and the admin API carry."""

from __future__ import annotations

import difflib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from reference_platform import yamlfile
from reference_platform.errors import ConfigError
from reference_platform.faults.catalogue import CATALOGUE, FaultParams

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"


class Scope(BaseModel):
    """Where a fault may fire: routes (globs on the path or route template) and a sticky share
    of applicants (the same applicants every time, as real bugs do)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: list[str] | None = Field(None, min_length=1)
    share: float | None = Field(None, gt=0, le=1)


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start and self.end and self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must come after start")
        return self

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    rate: float = Field(ge=0, le=1)
    scope: Scope | None = None
    window: Window | None = None
    params: SerializeAsAny[FaultParams] | None = Field(None, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fault(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fault_id = data.get("id")
        if not isinstance(fault_id, str):
            return data
        kind = CATALOGUE.get(fault_id)
        if kind is None:
            close = difflib.get_close_matches(fault_id, CATALOGUE, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown fault id {fault_id!r}{hint}")
        return data

    @field_validator("params", mode="before")
    @classmethod
    def _params_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        """Validate the params against the fault's own model (errors at ``params.<field>``)."""
        kind = CATALOGUE.get(info.data.get("id", ""))
        return kind.params.model_validate(value or {}) if kind is not None else value

    @property
    def kind_params(self) -> FaultParams:
        assert self.params is not None  # filled by the validator
        return self.params


class FaultSet(BaseModel):
    """The body of ``PUT /_admin/faults`` and the content of a profile file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    faults: list[FaultSpec] = Field(default_factory=list)


def describe_validation_error(exc: ValidationError) -> str:
    """One line: the first problem, with its field path."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"


def load_profile(name_or_path: str | Path) -> FaultSet:
    """Read a profile by name (``anef-2024``) or path; errors name the file, the line and the field."""
    path = Path(name_or_path)
    if not path.exists() and (PROFILES_DIR / f"{name_or_path}.yaml").exists():
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise ConfigError(str(path), f"cannot read ({exc.strerror}); known profiles: {known}") from None
    data, node = yamlfile.load(path, raw)
    if data is None:
        raise ConfigError(
            str(path), "the file is empty; expected 'faults:' and a list of faults ('faults: []' for none)"
        )
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"expected a mapping with 'faults:' (a list of faults), got {_yaml_type(data)}")
    try:
        return FaultSet.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line = yamlfile.line_of(node, loc)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(where, f"{yamlfile.dotted(loc) or '(top level)'}: {_explain(error, data)}") from None


def _explain(error: ErrorDetails, data: dict[str, Any]) -> str:
    """What is wrong with one field of a profile: expected and given, "did you mean" for a typo."""
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if kind == "extra_forbidden":
        *parent, key = error["loc"]
        known = _keys_at(data, parent)
        if not known:
            return "unknown field; this fault takes no params"
        close = difflib.get_close_matches(str(key), known, n=1)
        return "unknown field; " + (f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(known)}")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {_yaml_type(given)}"
    if kind == "list_type":
        return f"expected a list, got {_yaml_type(given)}"
    if isinstance(given, date):  # YAML read it as a date or a time
        return f"{message}, got {given.isoformat()}"
    if kind in ("value_error", "missing") or ", got " in message:
        return message
    if given is None:
        return f"{message}, got nothing (an empty value)"
    return f"{message}, got {given!r}" if isinstance(given, str | int | float | bool) else message


def _keys_at(data: dict[str, Any], loc: list[str | int]) -> list[str]:
    """The keys a profile accepts at ``loc`` (a fault's params depend on its id)."""
    models: dict[tuple[str | int, ...], type[BaseModel]] = {(): FaultSet}
    if len(loc) >= 2 and loc[0] == "faults" and isinstance(loc[1], int):
        models[tuple(loc[:2])] = FaultSpec
        models[(*loc[:2], "scope")] = Scope
        models[(*loc[:2], "window")] = Window
        try:
            kind = CATALOGUE.get(data["faults"][loc[1]]["id"])
        except (KeyError, IndexError, TypeError):
            kind = None
        if kind is not None:
            models[(*loc[:2], "params")] = kind.params
    model = models.get(tuple(loc))
    return list(model.model_fields) if model is not None else []


def _yaml_type(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return names.get(type(value), "nothing" if value is None else "a value")
