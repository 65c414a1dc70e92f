"""The objectives the harness evaluates, as the reader leaves them: plain frozen dataclasses, with
no trace of the OpenSLO objects they came from (dashboards, rules and the gate read these)."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field

from checks.slo.selector import Selector

DEFAULT_TIME_WINDOW = "30d"


SHORT_WINDOW_ANNOTATION = "anef-harness/short-window"
SHORT_WINDOW_DIVISOR = 12  # the SRE Workbook's and Sloth's short windows: 1h → 5m, 6h → 30m, 1d → 2h, 3d → 6h


@dataclass(frozen=True)
class BurnRateAlert:
    """One window pair of a multi-window, multi-burn-rate alert (an OpenSLO burn-rate AlertCondition):
    the condition holds when the error ratio over ``lookback_window`` and over ``short_window``
    both exceed ``threshold`` × (1 − target); the alert fires once it has held for ``alert_after``
    (OpenSLO: "the duration the condition needs to be valid for before alerting").

    ``short_window`` is the condition's annotation ``anef-harness/short-window`` when given, else
    1/12 of ``lookback_window`` (the Workbook's ratio). Durations are OpenSLO shorthands."""

    name: str
    severity: str
    threshold: float
    lookback_window: str
    short_window: str
    alert_after: str = "0m"
    op: str = "gte"  # "gte" or "gt": whether a burn rate equal to the threshold fires


@dataclass(frozen=True)
class Objective:
    """One objective of one SLO, ready to evaluate: good events / total events ≥ ``target``.
    ``name`` is the SLO's ``metadata.name``, plus ``/<index>`` (from 0, as in ``objectives.0``)
    when the SLO has several objectives."""

    name: str
    display_name: str
    description: str
    service: str
    target: float
    good: Selector
    total: Selector
    time_window: str
    burn_rate_alerts: tuple[BurnRateAlert, ...]
    labels: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}), hash=False)


@dataclass(frozen=True)
class ExternalSlo:
    """A valid SLO the harness does not evaluate: its SLI reads another tool's metrics (Prometheus,
    Datadog…). ``where`` and ``problem`` make the ``SloError`` a command that needs it gives."""

    name: str
    sources: tuple[str, ...]
    where: str
    problem: str


@dataclass(frozen=True)
class SloFile:
    """What an SLO file holds for the harness: its objectives, for display its services
    (``metadata.name`` → display name), the SLOs over other tools' metrics it does not evaluate, and
    how many objects of each kind the file holds."""

    objectives: list[Objective]
    services: Mapping[str, str]
    external: tuple[ExternalSlo, ...] = ()
    kinds: Mapping[str, int] = field(default_factory=lambda: types.MappingProxyType({}))
