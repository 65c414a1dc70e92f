"""The few panel shapes our Grafana dashboards use, built with grafana-foundation-sdk.

Every panel queries one Prometheus data source (referenced by uid, on the panel and on each
target, as Grafana 8.3+ saves them), has a description saying what it means, and gets an id and
refIds (A, B, …) here, because the SDK leaves them unset and Grafana needs them unique.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig, ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.builders.dashboard import Dashboard, DashboardLink, Row, ThresholdsConfig
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    GraphTresholdsStyleMode,
    LegendDisplayMode,
    LegendPlacement,
    VizOrientation,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE_TYPE = "prometheus"
# Colours from green (good) to red; a threshold step starts at its value.
GREEN, ORANGE, RED = "green", "orange", "red"

P = TypeVar("P", timeseries.Panel, stat.Panel, table.Panel, bargauge.Panel)


@dataclass(frozen=True)
class Query:
    """One PromQL target: its expression and its legend (``{{label}}`` templates)."""

    expr: str
    legend: str = ""


def thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (from minus infinity)."""
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value, color) for value, color in steps])


@dataclass
class Panels:
    """Makes the panels of one dashboard: same data source, ids numbered in order of creation."""

    datasource_uid: str
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def datasource(self) -> DataSourceRef:
        return DataSourceRef(type_val=DATASOURCE_TYPE, uid=self.datasource_uid)

    def row(self, title: str) -> Row:
        return Row(title).id(next(self._ids))

    def timeseries(
        self,
        title: str,
        description: str,
        queries: Sequence[Query],
        *,
        unit: str = "short",
        width: int = 12,
        height: int = 8,
        steps: ThresholdsConfig | None = None,
    ) -> timeseries.Panel:
        panel = self._common(timeseries.Panel(), title, description, queries, unit, width, height, instant=False)
        panel.legend(
            VizLegendOptions()
            .show_legend(True)
            .display_mode(LegendDisplayMode.TABLE)
            .placement(LegendPlacement.BOTTOM)
            .calcs(["lastNotNull", "max"])
        )
        if steps is not None:
            panel.thresholds(steps).thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.DASHED))
        return panel

    def stat(
        self,
        title: str,
        description: str,
        queries: Sequence[Query],
        *,
        unit: str = "short",
        width: int = 6,
        height: int = 5,
        steps: ThresholdsConfig | None = None,
    ) -> stat.Panel:
        panel = self._common(stat.Panel(), title, description, queries, unit, width, height)
        panel.reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        panel.graph_mode(BigValueGraphMode.NONE).color_mode(BigValueColorMode.BACKGROUND)
        panel.thresholds(steps or thresholds((None, GREEN)))
        return panel

    def bars(
        self,
        title: str,
        description: str,
        queries: Sequence[Query],
        *,
        unit: str = "short",
        width: int = 12,
        height: int = 8,
        steps: ThresholdsConfig | None = None,
    ) -> bargauge.Panel:
        panel = self._common(bargauge.Panel(), title, description, queries, unit, width, height)
        panel.reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        panel.display_mode(BarGaugeDisplayMode.BASIC).orientation(VizOrientation.HORIZONTAL).show_unfilled(True)
        panel.thresholds(steps or thresholds((None, GREEN)))
        return panel

    def table(
        self,
        title: str,
        description: str,
        queries: Sequence[Query],
        *,
        unit: str = "short",
        width: int = 24,
        height: int = 10,
    ) -> table.Panel:
        return self._common(table.Panel(), title, description, queries, unit, width, height, as_table=True)

    def _common(
        self,
        panel: P,
        title: str,
        description: str,
        queries: Sequence[Query],
        unit: str,
        width: int,
        height: int,
        *,
        instant: bool = True,
        as_table: bool = False,
    ) -> P:
        """Id, title, description, data source, unit, size and targets: instant ones (one value at the
        end of the time range) except for time series."""
        panel.id(next(self._ids)).title(title).description(description).datasource(self.datasource)
        panel.unit(unit).span(width).height(height)
        for ref_id, query in zip(string.ascii_uppercase, queries, strict=False):
            target = Dataquery().expr(query.expr).ref_id(ref_id).datasource(self.datasource)
            if query.legend:
                target.legend_format(query.legend)
            if instant:
                target.instant()
            else:
                target.range()
            if as_table:
                target.format(PromQueryFormat.TABLE)
            panel.with_target(target)
        return panel


# --- dashboards and PromQL helpers ----------------------------------------------------------------------

Item = Row | timeseries.Panel | stat.Panel | table.Panel | bargauge.Panel
TAGS = ["anef-harness"]
_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def dashboard(title: str, uid: str, description: str) -> Dashboard:
    """A dashboard with our common settings: tag, last hour, refreshed every 10 s, linked to the others."""
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .time("now-1h", "now")
        .refresh("10s")
        .timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .link(DashboardLink("ANEF harness").type(DashboardLinkType.DASHBOARDS).tags(TAGS).keep_time(True))
    )


def add_panels(board: Dashboard, items: Sequence[Item]) -> None:
    """Rows (never collapsed: their panels follow them at top level) and panels, in order."""
    for item in items:
        if isinstance(item, Row):
            board.with_row(item)
        else:
            board.with_panel(item)


def promql_regex(values: Sequence[str]) -> str:
    """An RE2 alternation matching exactly ``values``, escaped for a PromQL double-quoted string."""
    escaped = ("".join("\\\\" + char if char in _RE2_SPECIAL else char for char in value) for value in values)
    return "|".join(escaped).replace('"', '\\"')


def select(metric: str, *matchers: str) -> str:
    return f"{metric}{{{', '.join(matchers)}}}" if matchers else metric


def total(metric: str, by: str, *matchers: str) -> str:
    """The counter's count in the time range, as the process that exposes it counted it."""
    return f"{sum_by(by)} (last_over_time({select(metric, *matchers)}[$__range]))"


def rate(metric: str, by: str, *matchers: str) -> str:
    return f"{sum_by(by)} (rate({select(metric, *matchers)}[$__rate_interval]))"


def sum_by(by: str) -> str:
    return f"sum by ({by})" if by else "sum"


def quantile(q: float, histogram: str, by: str, *matchers: str) -> str:
    return f"histogram_quantile({q}, {rate(histogram + '_bucket', by + ', le', *matchers)})"


def or_zero(expr: str) -> str:
    """``expr``, or 0 when it has no series (nothing happened: the honest answer is zero)."""
    return f"{expr} or on() vector(0)"


def share(part: str, whole: str) -> str:
    """``part / whole``, where a missing ``part`` (nothing failed) counts as zero."""
    return f"({or_zero(part)}) / {whole}"
