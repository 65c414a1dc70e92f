"""The rate each fault was configured at, from the campaign's fault profile and schedule: what the
estimated rate is compared with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts.fault_set import FaultSet, FaultSpec, load_profile
from contracts.faults import ProcedureNotForwarded, ProcedureNotSelectable
from core.errors import ConfigError
from scenarios.manifest import ManifestFile


@dataclass(frozen=True)
class Configured:
    rate: float | None
    note: str | None
    sticky: bool = False  # the rate is a share of applicants (scope.share), not of events
    procedures: frozenset[str] | None = None  # the procedures the fault is limited to (its parameters)


def configured_rates(results: Path, manifest: ManifestFile) -> dict[str, Configured]:
    """Per fault id, the probability per eligible event the campaign configured, if it held all along."""
    try:
        campaign = yaml.safe_load((results / "campaign.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    faults = campaign.get("faults") if isinstance(campaign, dict) else None
    faults = faults if isinstance(faults, dict) else {}
    base = Path(manifest.source or results / "campaign.yaml").parent
    sets = [_fault_set(faults.get("profile", "none"), None, base)]
    applied = manifest.fault_changes
    for number, change in enumerate(faults.get("schedule") or []):
        if applied is not None and (number >= len(applied) or applied[number].error):
            continue  # not applied (the run ended first, or the admin API refused it)
        if isinstance(change, dict):
            sets.append(_fault_set(change.get("profile"), change.get("faults"), base))
    ids = {spec.id for fault_set in sets if fault_set is not None for spec in fault_set.faults}
    return {fault: _rate_of(fault, sets) for fault in ids}


def _fault_set(profile: object, inline: object, base: Path) -> FaultSet | None:
    try:
        if inline is not None:
            return FaultSet.model_validate({"faults": inline})
        if profile in (None, "none"):
            return FaultSet()
        path = Path(str(profile))
        return load_profile(path if path.is_absolute() or not (base / path).exists() else base / path)
    except (ConfigError, ValueError, OSError):
        return None


def _rate_of(fault: str, sets: list[FaultSet | None]) -> Configured:
    if any(s is None for s in sets):
        return Configured(None, "unknown: a profile of the campaign could not be read")
    specs = [next((spec for spec in s.faults if spec.id == fault), None) for s in sets if s is not None]
    effective = {_effective(spec) for spec in specs}
    if len(effective) > 1:
        return Configured(None, "scheduled")
    spec = specs[0]
    if spec is None:
        return Configured(None, "not configured")
    notes = []
    if spec.scope is not None and spec.scope.share is not None:
        notes.append(f"rate {spec.rate:g} × sticky share {spec.scope.share:g}")
    if spec.scope is not None and spec.scope.routes is not None:
        notes.append(f"routes {', '.join(spec.scope.routes)}")
    if spec.window is not None:
        notes.append("time window")
    sticky = spec.scope is not None and spec.scope.share is not None
    return Configured(_effective(spec), "; ".join(notes) or None, sticky, _procedures(spec))


def _procedures(spec: FaultSpec) -> frozenset[str] | None:
    params = spec.params
    if isinstance(params, ProcedureNotForwarded):
        return frozenset(params.procedures)
    if isinstance(params, ProcedureNotSelectable):
        return frozenset({params.procedure})
    return None


def _effective(spec: FaultSpec | None) -> float:
    if spec is None:
        return 0.0
    share = spec.scope.share if spec.scope is not None and spec.scope.share is not None else 1.0
    return spec.rate * share
