"""The one pydantic-error describer: a validation error as one line naming the field, what was
expected and what was given, with "did you mean" for a misspelt key or value.

Campaign, population, profile and SLO files and the admin API all describe their errors here, so a
user meets one wording whatever file they got wrong.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from core.registry import suggest

Loc = tuple[str | int, ...]
# Error types whose message is already a whole sentence (a validator's own words).
VERBATIM = frozenset({"value_error", "missing"})


def describe(
    exc: ValidationError,
    model: type[BaseModel] | None = None,
    *,
    known_at: Callable[[Sequence[str | int]], list[str]] | None = None,
) -> str:
    """``field.path: what is wrong`` for the first error of ``exc``."""
    first = exc.errors()[0]
    return f"{dotted(clean(first['loc'])) or '(top level)'}: {explain(first, model, known_at=known_at)}"


def explain(
    error: ErrorDetails,
    model: type[BaseModel] | None = None,
    *,
    known_at: Callable[[Sequence[str | int]], list[str]] | None = None,
    no_fields: str = "",
    quote: bool = False,
) -> str:
    """What is wrong with one field, without its path. With ``model`` (or ``known_at``, the keys
    accepted at a path), an unknown key gets "did you mean" or the keys expected there; with
    ``quote``, a scalar given where a mapping was expected is shown as written (``got 'all'``)."""
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if kind == "extra_forbidden" and (model is not None or known_at is not None):
        *parent, _key = error["loc"]  # with pydantic's union tags: they say which member of a union
        key = str(_key)
        known = known_at(parent) if known_at is not None else fields_at(model, parent) if model else []
        if not known:
            return "unknown field" + (f"; {no_fields}" if no_fields else "")
        return "unknown field" + suggest(key, known, listed=1000)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {yaml_type(given, quote=quote)}"
    if kind == "list_type":
        return f"expected a list, got {yaml_type(given)}"
    if kind == "literal_error" and isinstance(given, str):
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        hint = suggest(given, choices, listed=0)
        return f"{message}, got {given!r}{hint}"
    if isinstance(given, date) and ", got " not in message:  # YAML read it as a date or a time
        return f"{message}, got {given.isoformat()}"
    if kind in VERBATIM or kind == "extra_forbidden" or ", got " in message:
        return message
    if given is None:
        return f"{message}, got nothing (an empty value)"
    return f"{message}, got {given!r}" if isinstance(given, str | int | float | bool) else message


def yaml_type(value: Any, *, quote: bool = False) -> str:
    """How a YAML reader would name what was given: a mapping, a list, a string, a number… (with
    ``quote``, a scalar itself: ``'all'``, ``3``, ``True``)."""
    if quote and isinstance(value, str | int | float):
        return repr(value)
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return names.get(type(value), "nothing" if value is None else "a value")


def clean(loc: Sequence[str | int]) -> Loc:
    """The field path as written in the file: without pydantic's union tags and ``[key]`` markers."""
    return tuple(part for part in loc if not (isinstance(part, str) and (part.startswith("@") or part == "[key]")))


def dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys (aliases) the model at ``loc`` inside ``model`` accepts (none where there is no
    model), following lists, dicts, ``Optional`` and pydantic's union tags."""
    current: Any = model
    for part in loc:
        current = _bare(current)
        if get_origin(current) in (Union, types.UnionType):
            current = next((m for m in get_args(current) if _tag(m) == part), None)
            if current is None:
                return []
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            found = next((f for name, f in current.model_fields.items() if (f.alias or name) == part), None)
            if found is None:
                return []
            current = found.annotation
        else:
            return []
    current = _bare(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _bare(annotation: Any) -> Any:
    """Without ``Annotated`` and without ``| None``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return _bare(members[0])
    return annotation


def _tag(annotation: Any) -> str | None:
    if get_origin(annotation) is Annotated:
        return next((meta.tag for meta in get_args(annotation)[1:] if isinstance(meta, Tag)), None)
    return None
