"""Load shapes: how much load there is at each moment of a campaign.

A shape is a small function, registered by name, that gives the load *level* at ``t`` seconds since
the start of a campaign lasting ``duration`` seconds whose peak level is ``peak``. The level is a
number of users for the closed model and arrivals per second for the open model: the same shapes
serve both, so a campaign switches model without rewriting its shape. The function name is the key
used in campaign files (``shape: spike`` with ``params: {at: 300}``), like Locust's
``LoadTestShape`` but as a plain function so it can be validated and plotted before any load is sent.

A custom shape is registered with the same decorator, in a module imported before the campaign
is validated::

    from scenarios.shapes import shape

    @shape
    def lunch_rush(t: float, *, duration: float, peak: float, noon: float = 0.5) -> float:
        return peak if abs(t / duration - noon) < 0.05 else 0.1 * peak  # quiet, then a rush at noon

Parameters are keyword-only non-negative numbers with defaults; ``level_at`` clamps whatever a
shape returns to ``[0, peak]``, so a shape need not guard its own bounds.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from core.errors import HarnessError, UnknownName
from core.registry import Registry, suggest

__all__ = [
    "SHAPES",
    "ShapeError",
    "UnknownShape",
    "check_shape",
    "constant",
    "end_of_month_peak",
    "level_at",
    "ramp",
    "shape",
    "soak",
    "spike",
    "steps",
]

ShapeFn = TypeVar("ShapeFn", bound=Callable[..., float])

SHAPES: Registry[Callable[..., float]] = Registry("shape")
"""Every registered shape, by the name campaign files use."""

_FIXED = ("duration", "peak")


class ShapeError(HarnessError, ValueError):
    """A shape name, a shape's parameters or a shape's definition is wrong (one-line message)."""


class UnknownShape(ShapeError, UnknownName):
    """A shape name that no shape is registered under ("did you mean", else the names held)."""


def shape(fn: ShapeFn) -> ShapeFn:
    """Register ``fn`` under its own name; its signature is checked now so a typo fails at import."""
    _check_signature(fn)
    existing = SHAPES.get(fn.__name__)
    if existing is not None and _origin(existing) != _origin(fn):
        raise ShapeError(f"shape {fn.__name__!r} is already registered by {_origin(existing)}")
    SHAPES.remove(fn.__name__)  # the same function registered again (its module reloaded): the new one wins
    SHAPES.add(fn.__name__, fn)
    return fn


def check_shape(name: str, params: Mapping[str, float]) -> None:
    """Refuse an unknown shape or bad parameters before any load is sent."""
    fn = _lookup(name)
    try:
        inspect.signature(fn).bind(0.0, duration=1.0, peak=1.0, **params)
    except TypeError:
        raise ShapeError(_unknown_param_message(name, fn, params)) from None
    for key, value in params.items():
        _check_value(name, key, value)
    _trial(name, fn, params)


def level_at(name: str, params: Mapping[str, float], t: float, *, duration: float, peak: float) -> float:
    """The load level at ``t``: 0 outside ``[0, duration]``, otherwise the shape clamped to ``[0, peak]``."""
    fn = _lookup(name)
    if peak <= 0 or duration <= 0 or not 0 <= t <= duration:
        return 0.0
    value = float(fn(t, duration=duration, peak=peak, **params))
    if math.isnan(value):
        raise ShapeError(f"shape {name!r} gave NaN at t={t:g}s with params {dict(params)}")
    return min(max(value, 0.0), peak)


# -- validation helpers -------------------------------------------------------------------------


def _lookup(name: str) -> Callable[..., float]:
    fn = SHAPES.get(name)
    if fn is None:
        names = sorted(SHAPES)
        raise UnknownShape("shape", name, suggest(name, names, listed=0) or f"; expected one of: {', '.join(names)}")
    return fn


def _accepted(fn: Callable[..., float]) -> list[str]:
    """The parameters a campaign file may set for ``fn`` (its keyword-only ones, minus the fixed two)."""
    parameters = inspect.signature(fn).parameters.values()
    return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.name not in _FIXED]


def _unknown_param_message(name: str, fn: Callable[..., float], params: Mapping[str, float]) -> str:
    accepted = _accepted(fn)
    listed = ", ".join(accepted) if accepted else "none"
    unknown = [key for key in params if key not in accepted]
    if not unknown:
        return f"shape {name!r} refused params {dict(params)}; accepted: {listed}"
    close = suggest(unknown[0], accepted, listed=0)
    hint = f" ({close.removeprefix('; ')})" if close else ""
    return f"shape {name!r} has no parameter {unknown[0]!r}{hint}; accepted: {listed}"


def _check_value(name: str, key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"shape {name!r}: parameter {key!r} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ShapeError(f"shape {name!r}: parameter {key!r} must be a finite number >= 0, got {value!r}")


def _trial(name: str, fn: Callable[..., float], params: Mapping[str, float]) -> None:
    """Evaluate the shape once so a shape's own constraints (e.g. a whole ``count``) fail now, not mid-run."""
    try:
        fn(0.0, duration=1.0, peak=1.0, **params)
    except ShapeError:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise ShapeError(f"shape {name!r} fails with params {dict(params)}: {exc}") from None


def _fraction(name: str, key: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ShapeError(f"shape {name!r}: parameter {key!r} is a fraction of peak in [0, 1], got {value!r}")


def _whole(name: str, key: str, value: float, *, minimum: int = 1) -> int:
    if value != int(value) or value < minimum:
        raise ShapeError(f"shape {name!r}: parameter {key!r} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _check_signature(fn: Callable[..., float]) -> None:
    """A shape is ``(t, *, duration, peak, <keyword-only params with defaults>)``; anything else is refused."""
    where = f"shape {getattr(fn, '__name__', fn)!r}"
    parameters = list(inspect.signature(fn).parameters.values())
    if not parameters or parameters[0].kind not in (parameters[0].POSITIONAL_ONLY, parameters[0].POSITIONAL_OR_KEYWORD):
        raise ShapeError(f"{where} must take the time t as its first positional parameter")
    rest = {p.name: p for p in parameters[1:]}
    for fixed in _FIXED:
        if fixed not in rest or rest[fixed].kind is not inspect.Parameter.KEYWORD_ONLY:
            raise ShapeError(f"{where} must take {fixed!r} as a keyword-only parameter")
    for p in rest.values():
        if p.name not in _FIXED and (p.kind is not p.KEYWORD_ONLY or p.default is p.empty):
            raise ShapeError(f"{where}: parameter {p.name!r} must be keyword-only with a default")


def _origin(fn: Callable[..., float]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


# -- the shapes ---------------------------------------------------------------------------------


@shape
def constant(t: float, *, duration: float, peak: float) -> float:
    """The peak level from start to end: the baseline capacity check."""
    return peak


@shape
def ramp(t: float, *, duration: float, peak: float, start: float = 0.0, over: float | None = None) -> float:
    """A linear climb from ``start`` x peak to peak over ``over`` seconds, then a hold: finds the breaking point."""
    _fraction("ramp", "start", start)
    over = duration if over is None else over
    progress = 1.0 if over <= 0 else min(t / over, 1.0)
    return peak * (start + (1.0 - start) * progress)


@shape
def steps(t: float, *, duration: float, peak: float, count: float = 4) -> float:
    """``count`` equal stairs from peak/count up to peak: shows at which level latency starts to climb."""
    n = _whole("steps", "count", count)
    stair = min(int(t * n / duration), n - 1)
    return peak * (stair + 1) / n


@shape
def spike(
    t: float,
    *,
    duration: float,
    peak: float,
    base: float = 0.2,
    at: float | None = None,
    length: float | None = None,
) -> float:
    """A ``base`` x peak level with a sudden jump to peak at ``at`` for ``length`` seconds: tests surge and recovery."""
    _fraction("spike", "base", base)
    at = duration / 2 if at is None else at
    length = duration / 10 if length is None else length
    return peak if at <= t < at + length else base * peak


@shape
def soak(
    t: float,
    *,
    duration: float,
    peak: float,
    warmup: float | None = None,
    cooldown: float | None = None,
) -> float:
    """A long hold at peak between a short warm-up and cool-down: surfaces leaks and slow drifts."""
    warmup = min(60.0, 0.1 * duration) if warmup is None else warmup
    cooldown = warmup if cooldown is None else cooldown
    up = t / warmup if warmup > 0 else 1.0
    down = (duration - t) / cooldown if cooldown > 0 else 1.0
    # min() also handles warm-up and cool-down overlapping on a short campaign: a triangle, no jump.
    return peak * min(1.0, up, down)


@shape
def end_of_month_peak(
    t: float,
    *,
    duration: float,
    peak: float,
    days: float = 30,
    night: float = 0.1,
    base: float = 0.35,
    peak_days: float = 5,
) -> float:
    """A month compressed into the campaign: daily waves that swell towards the end-of-month rush.

    Each of ``days`` days has a daytime wave (a raised cosine peaking at midday over a ``night``
    floor); the last ``peak_days`` days reach peak, earlier days rise linearly from ``base`` x peak.
    The pattern is illustrative, drawn from the well-known end-of-month rush on prefecture
    appointments and ANEF renewals (permits expiring, deadlines before month end); it is not a
    published figure.
    """
    n = _whole("end_of_month_peak", "days", days)
    rush = _whole("end_of_month_peak", "peak_days", peak_days, minimum=0)
    _fraction("end_of_month_peak", "night", night)
    _fraction("end_of_month_peak", "base", base)
    day_length = duration / n
    day = min(int(t / day_length), n - 1)
    hour = (t - day * day_length) / day_length
    return peak * _month_factor(day, n, rush, base) * _day_factor(hour, night)


def _month_factor(day: int, days: int, peak_days: int, base: float) -> float:
    """Share of peak reached on ``day``: ``base`` on the first day, rising to 1 for the last ``peak_days``."""
    ordinary = days - peak_days
    if day >= ordinary:
        return 1.0
    return base + (1.0 - base) * day / ordinary


def _day_factor(hour: float, night: float) -> float:
    """Share of the day's level at ``hour`` (0 = midnight, 0.5 = midday, as a fraction of the day)."""
    wave = 0.5 * (1.0 - math.cos(2.0 * math.pi * hour))
    return night + (1.0 - night) * wave
