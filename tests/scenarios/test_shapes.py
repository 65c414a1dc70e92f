"""Load shapes: each shape's level at its characteristic times, clamping, the bounds, and the errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from core.errors import HarnessError
from scenarios.shapes import SHAPES, ShapeError, check_shape, level_at, shape

DURATION = 1000.0
PEAK = 100.0


def level(name: str, t: float, params: Mapping[str, float] | None = None, *, duration: float = DURATION) -> float:
    return level_at(name, params or {}, t, duration=duration, peak=PEAK)


def samples(name: str, params: Mapping[str, float] | None = None, n: int = 2000) -> list[float]:
    return [level(name, DURATION * i / n, params) for i in range(n + 1)]


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names registered by a test, removed afterwards so the registry stays as shipped."""
    names: list[str] = []
    yield names
    for name in names:
        SHAPES.remove(name)


def test_builtin_shapes_are_registered_under_their_function_names() -> None:
    assert {"constant", "ramp", "steps", "spike", "soak", "end_of_month_peak"} <= set(SHAPES)
    assert all(fn.__name__ == name and fn.__doc__ for name, fn in SHAPES.items())


def test_constant_is_peak_all_along() -> None:
    assert set(samples("constant")) == {PEAK}


def test_ramp_climbs_linearly_over_the_whole_duration_by_default() -> None:
    assert level("ramp", 0) == 0
    assert level("ramp", DURATION / 4) == pytest.approx(PEAK / 4)
    assert level("ramp", DURATION) == pytest.approx(PEAK)


def test_ramp_from_a_start_fraction_then_holds() -> None:
    params = {"start": 0.5, "over": 100}
    assert level("ramp", 0, params) == pytest.approx(50)
    assert level("ramp", 50, params) == pytest.approx(75)
    assert level("ramp", 100, params) == pytest.approx(PEAK)
    assert level("ramp", 900, params) == pytest.approx(PEAK)


@pytest.mark.parametrize("count", [1, 3, 4, 7])
def test_steps_has_count_equal_stairs_up_to_peak(count: int) -> None:
    values = samples("steps", {"count": count})
    assert sorted(set(values)) == pytest.approx([PEAK * (i + 1) / count for i in range(count)])
    assert values == sorted(values)
    assert level("steps", DURATION / count - 1, {"count": count}) == pytest.approx(PEAK / count)


def test_steps_defaults_to_four_stairs() -> None:
    assert len(set(samples("steps"))) == 4


def test_spike_is_base_before_peak_during_and_base_after() -> None:
    assert level("spike", 100) == pytest.approx(20)
    assert level("spike", 499) == pytest.approx(20)
    assert level("spike", 500) == PEAK
    assert level("spike", 599) == PEAK
    assert level("spike", 600) == pytest.approx(20)
    assert level("spike", 900) == pytest.approx(20)


def test_spike_params_move_and_size_the_jump() -> None:
    params = {"base": 0.5, "at": 100, "length": 10}
    assert [level("spike", t, params) for t in (99, 100, 109, 110)] == [50, PEAK, PEAK, 50]


def test_soak_ramps_up_holds_and_ramps_down() -> None:
    # Default warm-up and cool-down: min(60 s, 10 % of the duration) = 60 s here.
    assert level("soak", 0) == 0
    assert level("soak", 30) == pytest.approx(PEAK / 2)
    assert level("soak", 60) == PEAK
    assert level("soak", 500) == PEAK
    assert level("soak", DURATION - 30) == pytest.approx(PEAK / 2)
    assert level("soak", DURATION) == 0


def test_soak_short_campaign_uses_ten_percent_and_explicit_params() -> None:
    assert level("soak", 5, duration=100) == pytest.approx(PEAK / 2)
    params = {"warmup": 100, "cooldown": 200}
    assert level("soak", 50, params) == pytest.approx(PEAK / 2)
    assert level("soak", DURATION - 100, params) == pytest.approx(PEAK / 2)


def test_end_of_month_peak_day_is_busier_than_night() -> None:
    day = DURATION / 30
    for d in (0, 10, 29):
        midnight, midday = level("end_of_month_peak", d * day), level("end_of_month_peak", (d + 0.5) * day)
        assert midday > 3 * midnight
        assert midnight == pytest.approx(midday * 0.1)


def test_end_of_month_peak_last_days_peak_higher_than_first_days() -> None:
    day = DURATION / 30
    middays = [level("end_of_month_peak", (d + 0.5) * day) for d in range(30)]
    assert middays[0] == pytest.approx(35)
    assert middays[-5:] == pytest.approx([PEAK] * 5)
    assert middays[:25] == sorted(middays[:25])
    assert max(middays[:25]) < PEAK


def test_end_of_month_peak_params() -> None:
    params = {"days": 10, "peak_days": 2, "base": 0.5, "night": 0.0}
    day = DURATION / 10
    assert level("end_of_month_peak", 0, params) == 0
    assert level("end_of_month_peak", day / 2, params) == pytest.approx(50)
    assert level("end_of_month_peak", 8.5 * day, params) == pytest.approx(PEAK)


@pytest.mark.parametrize("name", sorted({"constant", "ramp", "steps", "spike", "soak", "end_of_month_peak"}))
def test_every_shape_is_zero_outside_the_duration_and_within_bounds(name: str) -> None:
    assert level(name, -0.001) == 0
    assert level(name, DURATION + 0.001) == 0
    assert all(0 <= value <= PEAK for value in samples(name))


def test_level_is_clamped_to_zero_and_peak(registered: list[str]) -> None:
    @shape
    def wild(t: float, *, duration: float, peak: float) -> float:
        return 3 * peak if t < duration / 2 else -peak

    registered.append("wild")
    assert level("wild", 1) == PEAK
    assert level("wild", DURATION - 1) == 0


def test_no_load_without_peak_or_duration() -> None:
    assert level_at("constant", {}, 0, duration=0, peak=PEAK) == 0
    assert level_at("constant", {}, 0, duration=DURATION, peak=0) == 0


def test_custom_shape_is_usable_by_name(registered: list[str]) -> None:
    @shape
    def lunch_rush(t: float, *, duration: float, peak: float, noon: float = 0.5) -> float:
        return peak if abs(t / duration - noon) < 0.05 else 0.1 * peak

    registered.append("lunch_rush")
    check_shape("lunch_rush", {"noon": 0.25})
    assert level("lunch_rush", 250, {"noon": 0.25}) == PEAK
    assert level("lunch_rush", 500, {"noon": 0.25}) == pytest.approx(10)


def test_custom_shape_with_a_bad_signature_is_refused_at_registration() -> None:
    with pytest.raises(ShapeError, match="'width' must be keyword-only with a default"):

        @shape
        def bad(t: float, *, duration: float, peak: float, width: float) -> float:
            return peak

    with pytest.raises(ShapeError, match="'duration' as a keyword-only parameter"):

        @shape
        def positional(t: float, duration: float, peak: float) -> float:
            return peak

    assert "bad" not in SHAPES
    assert "positional" not in SHAPES


def test_a_builtin_name_cannot_be_taken_by_another_function() -> None:
    with pytest.raises(ShapeError, match=r"'ramp' is already registered by scenarios\.shapes\.ramp$"):

        @shape
        def ramp(t: float, *, duration: float, peak: float) -> float:
            return peak

    assert SHAPES["ramp"].__module__ == "scenarios.shapes"


def test_check_shape_accepts_valid_params() -> None:
    check_shape("constant", {})
    check_shape("ramp", {"start": 0.1, "over": 300})
    check_shape("steps", {"count": 5})
    check_shape("spike", {"base": 0, "at": 10, "length": 5})
    check_shape("soak", {"warmup": 0, "cooldown": 30})
    check_shape("end_of_month_peak", {"days": 31, "night": 0.05, "base": 0.3, "peak_days": 0})


def test_unknown_shape_suggests_the_closest_name() -> None:
    with pytest.raises(ShapeError, match=r"^unknown shape 'rmap'; did you mean 'ramp'\?$"):
        check_shape("rmap", {})
    with pytest.raises(ShapeError, match="unknown shape 'zigzag'; expected one of: constant, "):
        level_at("zigzag", {}, 0, duration=1, peak=1)


def test_unknown_param_is_named_with_the_accepted_ones() -> None:
    with pytest.raises(ShapeError) as caught:
        check_shape("ramp", {"ovr": 10})
    assert str(caught.value) == "shape 'ramp' has no parameter 'ovr' (did you mean 'over'?); accepted: start, over"
    with pytest.raises(ShapeError, match="shape 'constant' has no parameter 'level'; accepted: none"):
        check_shape("constant", {"level": 1})
    with pytest.raises(ShapeError, match="has no parameter 'duration'"):
        check_shape("soak", {"duration": 10})


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("steps", {"count": -1}, "parameter 'count' must be a finite number >= 0, got -1"),
        ("spike", {"at": -5.0}, "parameter 'at' must be a finite number >= 0, got -5.0"),
        ("soak", {"warmup": float("inf")}, "parameter 'warmup' must be a finite number >= 0"),
        ("ramp", {"over": "ten"}, "parameter 'over' must be a number, got 'ten'"),
        ("ramp", {"over": True}, "parameter 'over' must be a number, got True"),
        ("steps", {"count": 0}, "parameter 'count' must be a whole number >= 1, got 0"),
        ("steps", {"count": 2.5}, "parameter 'count' must be a whole number >= 1, got 2.5"),
        ("ramp", {"start": 1.5}, "parameter 'start' is a fraction of peak in [0, 1], got 1.5"),
    ],
)
def test_bad_param_values_are_refused(name: str, params: Mapping[str, float], message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        check_shape(name, params)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_shape_error_is_a_harness_error_and_a_value_error() -> None:
    assert issubclass(ShapeError, HarnessError)
    assert issubclass(ShapeError, ValueError)
