"""The active fault set as data: what a profile file and the admin API carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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

from contracts.faults import CATALOGUE, FaultParams
from core import yamlfile
from core.describe import dotted, explain, yaml_type
from core.errors import ConfigError

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"


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
        if fault_id not in CATALOGUE:
            raise ValueError(f"unknown fault id {fault_id!r}{CATALOGUE.hint(fault_id)}")
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
    data, node = yamlfile.load_with_node(path, raw)
    if data is None:
        raise ConfigError(
            str(path), "the file is empty; expected 'faults:' and a list of faults ('faults: []' for none)"
        )
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"expected a mapping with 'faults:' (a list of faults), got {yaml_type(data)}")
    try:
        return FaultSet.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line = yamlfile.line_of(node, loc)
        where = f"{path}:{line}" if line else str(path)
        problem = explain(error, known_at=lambda at: _keys_at(data, at), no_fields="this fault takes no params")
        raise ConfigError(where, f"{dotted(loc) or '(top level)'}: {problem}") from None


def _keys_at(data: dict[str, Any], loc: Sequence[str | int]) -> list[str]:
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
