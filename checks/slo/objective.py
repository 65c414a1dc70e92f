"""The objectives the harness evaluates, as the reader leaves them: plain frozen dataclasses, with
no trace of the OpenSLO objects they came from (dashboards, rules and the gate read these)."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field

from checks.slo.selector import Selector

DEFAULT_TIME_WINDOW = "30d"


@dataclass(frozen=True)
class BurnRateAlert:
    """One window of a multi-window, multi-burn-rate alert (an OpenSLO burn-rate AlertCondition):
    fire when the error ratio over ``lookback_window`` (and over the short window ``alert_after``)
    exceeds ``threshold`` × (1 − target)."""

    name: str
    severity: str
    threshold: float
    lookback_window: str
    alert_after: str
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
class SloFile:
    """What an SLO file holds for the harness: its objectives and, for display, its services
    (``metadata.name`` → display name)."""

    objectives: list[Objective]
    services: Mapping[str, str]
