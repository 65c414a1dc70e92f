"""Thresholds in k6's words, for one run: ``renewal.submit:p95<800ms``, ``login.submit:fail<1%``.

Each expression becomes an ``Objective`` (the same model the SLO file's objectives become), so it
is judged, shown and gated exactly like them:

- ``STEP:pNN<DURATION`` (``p50``, ``p95``, ``p99``, ``p99.9``…; ``ms`` or ``s``): at least NN % of
  the step's attempts, whatever their outcome, took at most DURATION; the same durations as the
  table's p50/p95/p99 columns. Failures are judged apart, with ``fail``.
- ``STEP:fail<RATE`` (``1%`` or ``0.01``): at most RATE of the step's attempts end in another
  outcome than ok (error, timeout, blocked, lost, corrupt, missing).

STEP is a step (``renewal.submit``), a journey (``renewal``: all its steps together) or ``*``.
``<=`` is accepted as a synonym of ``<``: a ratio of events met at its target is met.
"""

from __future__ import annotations

import re
import types

from pydantic import ValidationError

from checks.slo import DEFAULT_TIME_WINDOW, Objective, Selector, SelectorSpec
from checks.slo.selector import from_spec
from core.describe import explain

SERVICE = "anef"
_EXPRESSION = re.compile(r"\s*(?P<step>[^:\s]+)\s*:\s*(?P<metric>[A-Za-z][\w.]*)\s*(?P<op><=?)\s*(?P<value>\S+)\s*")
_PERCENTILE = re.compile(r"p(?P<n>\d{1,2}(\.\d+)?)")
_DURATION = re.compile(r"(?P<number>\d+(\.\d+)?)(?P<unit>ms|s)")
_RATE = re.compile(r"(?P<number>\d+(\.\d+)?)(?P<percent>%?)")
EXPECTED = "expected STEP:pNN<DURATION (renewal.submit:p95<800ms) or STEP:fail<RATE (login.submit:fail<1%)"


class ThresholdError(ValueError):
    """An expression that is not a threshold; the message says what was expected."""


def parse_threshold(text: str) -> Objective:
    """The objective a threshold expression stands for, or ``ThresholdError``."""
    match = _EXPRESSION.fullmatch(text)
    if match is None:
        raise ThresholdError(f"{EXPECTED}, got {text!r}")
    step, metric, value = match["step"], match["metric"], match["value"]
    try:
        spec = SelectorSpec(steps=[step])
    except ValidationError as exc:
        raise ThresholdError(f"{text!r}: {explain(exc.errors()[0])}") from None
    total = from_spec(spec)
    if metric == "fail":
        good = from_spec(SelectorSpec(steps=[step], outcomes=["ok"]))
        return _objective(text, step, "fail", 1.0 - _rate(text, value), good, total)
    if percentile := _PERCENTILE.fullmatch(metric):
        share = float(percentile["n"]) / 100
        if not 0 < share < 1:
            raise ThresholdError(f"{text!r}: expected a percentile from p1 to p99.9, got {metric}")
        good = from_spec(SelectorSpec(steps=[step], max_duration_ms=_milliseconds(text, value)))
        return _objective(text, step, metric, share, good, total)
    raise ThresholdError(f"{text!r}: expected the metric pNN (p95, p99…) or fail, got {metric!r}")


def parse_thresholds(texts: list[str]) -> tuple[Objective, ...]:
    """Several expressions; two for the same step and metric are refused (which would win?)."""
    objectives = tuple(parse_threshold(text) for text in texts)
    names = [objective.name for objective in objectives]
    for name in names:
        if names.count(name) > 1:
            twice = [text for text, objective in zip(texts, objectives, strict=True) if objective.name == name]
            raise ThresholdError(f"{twice[1]!r}: the same step and metric as {twice[0]!r}; give one")
    return objectives


def _milliseconds(text: str, value: str) -> float:
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ThresholdError(f"{text!r}: expected a duration such as 800ms or 1.5s, got {value!r}")
    milliseconds = float(match["number"]) * (1000 if match["unit"] == "s" else 1)
    if milliseconds <= 0:
        raise ThresholdError(f"{text!r}: expected a duration above 0, got {value!r}")
    return milliseconds


def _rate(text: str, value: str) -> float:
    match = _RATE.fullmatch(value)
    if match is None:
        raise ThresholdError(f"{text!r}: expected a failure rate such as 1% or 0.01, got {value!r}")
    rate = float(match["number"]) / (100 if match["percent"] else 1)
    if not 0 < rate < 1:
        raise ThresholdError(f"{text!r}: expected a failure rate above 0 and below 100%, got {value!r}")
    return rate


def _objective(text: str, step: str, metric: str, target: float, good: Selector, total: Selector) -> Objective:
    slug = re.sub(r"[^a-z0-9]+", "-", f"{step}-{metric}".lower().replace("*", "all")).strip("-")
    return Objective(
        name=f"threshold-{slug}",
        display_name=f"--threshold {text.strip()}",
        description=f"A threshold of this run: {text.strip()}",
        service=SERVICE,
        target=target,
        good=good,
        total=total,
        time_window=DEFAULT_TIME_WINDOW,
        burn_rate_alerts=(),
        labels=types.MappingProxyType({"objective": "threshold"}),
    )
