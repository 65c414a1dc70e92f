"""The report's charts: matplotlib figures rendered as inline SVG, each with a text alternative.

SVG keeps the report one self-contained file that works offline and prints sharply; text is kept
as text (``svg.fonttype: none``) so it stays searchable and small. Every chart carries a
``<title>`` (read by screen readers) saying in words what it shows. The drawing functions know no
language (the caller passes the words and a number format); ``report_charts`` and
``history_trend`` give them the report's.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

import matplotlib

matplotlib.use("Agg")  # no display: figures only ever become SVG text

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from checks.summary import SummaryFile
from dashboards.i18n import Lang
from dashboards.report_data import FAILURES, EventFigures
from dashboards.windows import Window

Format = Callable[[float], str]
Digits = Callable[[float, int], str]  # a number with so many decimals, in the reader's language

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
OUTCOME_COLOURS = {
    "error": "#D55E00",
    "timeout": "#E69F00",
    "blocked": "#CC79A7",
    "lost": "#0072B2",
    "corrupt": "#000000",
    "missing": "#56B4E9",
}
PERCENTILE_COLOURS = {"p50": "#009E73", "p95": "#E69F00", "p99": "#D55E00"}
ACTIVITY_COLOURS = ("#0072B2", "#009E73", "#D55E00")  # throughput, in flight, failures
# Windows: a colour and a hatching each, so they differ in grey print and for colour-blind readers too.
WINDOW_STYLE = {"fault": ("#E69F00", "//"), "drill": ("#56B4E9", "\\\\")}
TEXT = "#1b1b1b"
GRID = "#d9d9d9"
WIDTH_IN = 8.0
# Drop matplotlib's RDF metadata block: nothing in the file may point elsewhere.
NO_METADATA: dict[str, str | None] = {"Creator": None, "Date": None, "Format": None, "Type": None}


@dataclass(frozen=True)
class Chart:
    """One chart: its SVG text and the sentence that stands for it."""

    svg: str
    alt: str


def to_svg(figure: Figure, *, chart_id: str, alt: str) -> Chart:
    """The figure as an ``<svg>`` element (no XML header) with a ``<title>`` and ``role="img"``."""
    buffer = io.StringIO()
    # The salt makes matplotlib's generated ids (clip paths) unique per chart within one page.
    with matplotlib.rc_context({"svg.hashsalt": chart_id, "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata=NO_METADATA, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    opening_end = text.index(">") + 1
    opening = text[:opening_end].replace("<svg", f'<svg role="img" aria-labelledby="{chart_id}-title"', 1)
    title = f'<title id="{chart_id}-title">{escape(alt)}</title>'
    return Chart(opening + title + text[opening_end:], alt)


def _figure(height_in: float) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    figure.set_facecolor("white")
    return figure


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(colors=TEXT, labelsize=8)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def failure_chart(
    steps: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    *,
    labels: dict[str, str],
    axis: str,
    percent: Format,
    alt: str,
) -> Chart:
    """Horizontal bars, one per step, stacked by failure outcome (each a share of the step's attempts)."""
    figure = _figure(0.9 + 0.24 * max(len(steps), 1))
    ax = figure.subplots()
    _style(ax)
    positions = list(range(len(steps)))
    left = [0.0] * len(steps)
    for outcome, values in shares.items():
        if not any(values):
            continue
        colour = OUTCOME_COLOURS.get(outcome, "#777777")
        ax.barh(positions, values, left=left, color=colour, label=labels.get(outcome, outcome), height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(positions, list(steps), fontsize=8)
    ax.invert_yaxis()  # the first step at the top, as in the table below
    ax.set_xlim(0, max([*left, 0.01]) * 1.1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: percent(x)))
    ax.set_xlabel(axis, fontsize=9, color=TEXT)
    if any(any(v) for v in shares.values()):  # above the bars, never over them
        ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(shares))
    return to_svg(figure, chart_id="chart-failures", alt=alt)


def latency_chart(
    starts_s: Sequence[float],
    percentiles: Mapping[str, Sequence[float]],
    *,
    x_label: str,
    y_label: str,
    number: Format,
    alt: str,
) -> Chart:
    """p50, p95 and p99 per time bucket; a log scale when the tail is far above the median."""
    figure = _figure(3.2)
    ax = figure.subplots()
    _style(ax)
    for name, values in percentiles.items():
        ax.plot(starts_s, values, label=name, color=PERCENTILE_COLOURS.get(name), linewidth=1.4, marker=".")
    values = [v for series in percentiles.values() for v in series if v > 0]
    if values and max(values) / min(values) > 50:
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: number(y)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: number(x)))
    ax.set_xlabel(x_label, fontsize=9, color=TEXT)
    ax.set_ylabel(y_label, fontsize=9, color=TEXT)
    ax.legend(fontsize=8, frameon=False)
    return to_svg(figure, chart_id="chart-latency", alt=alt)


def consistency_chart(
    watches: Sequence[str], percentiles: Mapping[str, Sequence[float]], *, axis: str, number: Format, alt: str
) -> Chart:
    """Grouped horizontal bars: p50, p95 and p99 of each watch across the seam."""
    figure = _figure(0.9 + 0.42 * max(len(watches), 1))
    ax = figure.subplots()
    _style(ax)
    height = 0.8 / max(len(percentiles), 1)
    for offset, (name, values) in enumerate(percentiles.items()):
        positions = [i + (offset - 1) * height for i in range(len(watches))]
        ax.barh(positions, values, height=height, color=PERCENTILE_COLOURS.get(name), label=name)
    ax.set_yticks(range(len(watches)), list(watches), fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: number(x)))
    ax.set_xlabel(axis, fontsize=9, color=TEXT)
    ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(percentiles))
    return to_svg(figure, chart_id="chart-consistency", alt=alt)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


def activity_chart(
    starts_s: Sequence[float],
    series: Sequence[Series],
    windows: Sequence[Window],
    *,
    x_label: str,
    window_labels: Mapping[str, str],
    number: Digits,
    alt: str,
) -> Chart:
    """Small multiples over time (throughput, journeys in flight, failures), sharing the time axis,
    with the fault and drill windows shaded and named (a moment is a dashed line)."""
    figure = _figure(1.2 + 1.5 * len(series))
    axes = figure.subplots(len(series), 1, sharex=True, squeeze=False)[:, 0]
    for ax, line, colour in zip(axes, series, ACTIVITY_COLOURS, strict=False):
        _style(ax)
        _shade(ax, windows)
        ax.plot(starts_s, line.values, color=colour, linewidth=1.4, marker=".", drawstyle="steps-post")
        ax.set_title(line.label, fontsize=9, color=TEXT, loc="left")
        ax.set_ylim(bottom=0, top=max([*line.values, 0.0]) * 1.1 or 1.0)
        _tick_labels(ax, number)
    top = axes[0]
    if windows:  # room above the line for the windows' names, inside the panel
        top.set_ylim(bottom=0, top=max([*series[0].values, 0.0]) * 1.45 or 1.0)
        _tick_labels(top, number)
    on_top = blended_transform_factory(top.transData, top.transAxes)
    for window in windows:
        middle = window.start_s if window.end_s is None else (window.start_s + window.end_s) / 2
        top.text(middle, 0.97, window.label, transform=on_top, ha="center", va="top", fontsize=7, color=TEXT)
    kinds = sorted({w.kind for w in windows})
    if kinds:
        handles = [
            Patch(facecolor=WINDOW_STYLE[k][0], alpha=0.35, hatch=WINDOW_STYLE[k][1], label=window_labels[k])
            for k in kinds
        ]
        axes[-1].legend(handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.35))
    axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda x, _: number(x, 0)))
    axes[-1].set_xlabel(x_label, fontsize=9, color=TEXT)
    return to_svg(figure, chart_id="chart-activity", alt=alt)


def _tick_labels(ax: Axes, number: Digits) -> None:
    """The y ticks with as many decimals as their spacing needs (0.25 steps: two; 5 steps: none)."""
    ticks = [t for t in ax.get_yticks() if t >= 0]
    step = min((b - a for a, b in itertools.pairwise(ticks) if b > a), default=1.0)
    digits = next((d for d in range(4) if abs(round(step, d) - step) < step * 1e-6), 3)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: number(y, digits)))


def _shade(ax: Axes, windows: Sequence[Window]) -> None:
    for window in windows:
        colour, hatch = WINDOW_STYLE[window.kind]
        if window.end_s is None:
            ax.axvline(window.start_s, color=colour, linestyle="--", linewidth=1.2)
        else:
            ax.axvspan(window.start_s, window.end_s, facecolor=colour, alpha=0.25, hatch=hatch, edgecolor=colour)


@dataclass(frozen=True)
class Panel:
    title: str
    values: Sequence[float | None]
    format: Format


def trend_chart(runs: Sequence[str], panels: Sequence[Panel], *, alt: str) -> Chart:
    """Small multiples, one per key figure, over a campaign's runs (oldest first)."""
    figure = _figure(1.0 + 1.3 * len(panels))
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)
    positions = list(range(len(runs)))
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        _style(ax)
        shown = [(x, v) for x, v in zip(positions, panel.values, strict=True) if v is not None]
        if shown:
            ax.plot([x for x, _ in shown], [v for _, v in shown], color="#0072B2", marker="o", linewidth=1.4)
            ax.plot([shown[-1][0]], [shown[-1][1]], color="#D55E00", marker="o", markersize=8)  # this run
        ax.set_title(panel.title, fontsize=9, color=TEXT, loc="left")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _, f=panel.format: f(y)))
        ax.set_ylim(bottom=0)
    last = axes[-1, 0]
    last.set_xticks(positions, list(runs), fontsize=7, rotation=30, ha="right")
    return to_svg(figure, chart_id="chart-trend", alt=alt)


# --- the report's charts, in the reader's language ------------------------------------------------


def report_charts(
    summary: SummaryFile, events: EventFigures, windows: Sequence[Window], words: Lang
) -> dict[str, Chart | None]:
    """The failure, activity, latency and consistency charts of a campaign (None where there is no data)."""
    return {
        "failures": _failures(summary, words) if summary.steps else None,
        "activity": _activity(events, windows, words) if events.activity else None,
        "latency": _latency(events, words) if events.timeline else None,
        "consistency": _consistency(summary, words) if summary.time_to_consistency else None,
    }


def _failures(summary: SummaryFile, words: Lang) -> Chart:
    steps = summary.steps
    shares = {o: [f.outcomes.get(o, 0) / f.total if f.total else 0.0 for f in steps.values()] for o in FAILURES}
    worst = sorted((kv for kv in steps.items() if kv[1].failures), key=lambda kv: -kv[1].failure_rate)[:3]
    top = ", ".join(f"{name} {words.pct(f.failure_rate)}" for name, f in worst)
    alt = words.t("steps_alt", top=top) if worst else words.t("steps_alt_clean")
    labels = {o: words.t(f"outcome.{o}") for o in FAILURES}
    return failure_chart(list(steps), shares, labels=labels, axis=words.t("steps_axis"), percent=words.pct, alt=alt)


def _activity(events: EventFigures, windows: Sequence[Window], words: Lang) -> Chart:
    line = events.activity
    width = events.bucket_s
    busiest = max(line, key=lambda b: b.steps)
    worst = max(line, key=lambda b: b.failures)
    alt = words.t(
        "activity_alt",
        bucket=words.seconds(width),
        high=words.num(busiest.steps / width, 1),
        at=words.seconds(busiest.start_s),
        flight=words.num(max(b.in_flight for b in line), 1),
        failures=words.num(worst.failures / width, 2),
        failed_at=words.seconds(worst.start_s),
        windows=len(windows),
    )
    return activity_chart(
        [b.start_s for b in line],
        [
            Series(words.t("activity_throughput"), [b.steps / width for b in line]),
            Series(words.t("activity_in_flight"), [b.in_flight for b in line]),
            Series(words.t("activity_failures"), [b.failures / width for b in line]),
        ],
        windows,
        x_label=words.t("latency_x"),
        window_labels={"fault": words.t("window.fault"), "drill": words.t("window.drill")},
        number=words.num,
        alt=alt,
    )


def _latency(events: EventFigures, words: Lang) -> Chart:
    line = events.timeline
    highest = max(line, key=lambda b: b.p95_ms)
    alt = words.t(
        "latency_alt",
        bucket=words.seconds(events.bucket_s),
        low=words.ms(min(b.p95_ms for b in line)),
        high=words.ms(highest.p95_ms),
        at=words.seconds(highest.start_s),
    )
    return latency_chart(
        [b.start_s for b in line],
        {"p50": [b.p50_ms for b in line], "p95": [b.p95_ms for b in line], "p99": [b.p99_ms for b in line]},
        x_label=words.t("latency_x"),
        y_label=words.t("latency_y"),
        number=words.num,
        alt=alt,
    )


def _consistency(summary: SummaryFile, words: Lang) -> Chart:
    watches = summary.time_to_consistency
    slowest, figures = max(watches.items(), key=lambda kv: kv[1].p99_ms)
    return consistency_chart(
        list(watches),
        {
            "p50": [w.p50_ms for w in watches.values()],
            "p95": [w.p95_ms for w in watches.values()],
            "p99": [w.p99_ms for w in watches.values()],
        },
        axis=words.t("latency_y"),
        number=words.num,
        alt=words.t("consistency_alt", step=slowest, value=words.ms(figures.p99_ms)),
    )


def history_trend(
    runs: Sequence[str],
    rates: Sequence[float],
    p95: Sequence[float | None],
    rights: Sequence[float | None],
    words: Lang,
) -> Chart:
    """Failure rate, p95 and rights at risk over a campaign's runs (oldest first, this run last)."""

    def count(value: float | None) -> str:
        return "—" if value is None else words.num(value)

    alt = words.t(
        "trend_alt",
        n=len(runs),
        fr0=words.pct(rates[0]),
        fr1=words.pct(rates[-1]),
        p0=words.ms(p95[0]),
        p1=words.ms(p95[-1]),
        r0=count(rights[0]),
        r1=count(rights[-1]),
    )
    panels = [
        Panel(words.t("fig.failure_rate"), rates, words.pct),
        Panel(words.t("fig.p95_ms"), p95, words.num),
        Panel(words.t("fig.rights_at_risk"), rights, words.num),
    ]
    return trend_chart(runs, panels, alt=alt)
