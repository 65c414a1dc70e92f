"""Reading ``ledger.json``: the faults the platform says it injected (DESIGN.md, principle 3: the
ledger scores, it never detects). Parsed with the contract's ``Ledger`` model."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from contracts.admin import Ledger
from core.errors import ConfigError


@dataclass(frozen=True)
class Firing:
    """One ledger entry: a fault the platform injected."""

    index: int
    time: float  # epoch seconds
    fault: str
    applicant: str | None  # the platform's applicant id
    object: str | None
    route: str


def read_ledger(results: Path) -> list[Firing]:
    return read_full_ledger(results)[0]


def read_full_ledger(results: Path) -> tuple[list[Firing], dict[str, int]]:
    """The firings, and the platform's draws per fault (empty for an older folder)."""
    path = results / "ledger.json"
    if not path.is_file():
        raise ConfigError(str(path), "missing: no fault ledger was kept (interrupted run, or an older results folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(str(path), f"not readable JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise ConfigError(str(path), 'older or unknown format: expected {"entries": [{time, fault, …}]}')
    try:
        ledger = Ledger.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = first["loc"]
        if where and where[0] == "entries":
            number = where[1] if len(where) > 1 else 0
            raise ConfigError(
                str(path), f"entries.{number}: expected time (ISO 8601), fault, applicant, object, route"
            ) from None
        field = ".".join(str(part) for part in where) or "ledger"
        raise ConfigError(str(path), f"{field}: {first['msg']} (draws: fault id → count)") from None
    firings = [
        Firing(number, entry.time.timestamp(), entry.fault, entry.applicant or None, entry.object, entry.route)
        for number, entry in enumerate(ledger.entries)
    ]
    return firings, dict(ledger.draws)
