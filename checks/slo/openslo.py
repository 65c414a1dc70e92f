"""OpenSLO v1 objects as pydantic models: each kind the reader accepts, closed (an unknown key is a
typo, refused with "did you mean"), with what the harness refuses on purpose said in the validators.

The models check one object at a time; references between objects and what the harness can
evaluate are the reader's business (``checks.slo.reader``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from pydantic.alias_generators import to_camel

from checks.slo.fields import (
    HARNESS_SOURCE,
    AnnotationKey,
    Description,
    Duration,
    Finite,
    LabelKey,
    LabelValues,
    Name,
    OutcomeName,
    StepPattern,
    TargetPercent,
    TargetRatio,
    Window,
    problem,
    ref_or_inline,
    source_tag,
)
from core.registry import suggest
from scenarios.events import Channel

KINDS = ("SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource", "Service")


class _Closed(BaseModel):
    """OpenSLO's schema is closed: an unknown key is a typo, refused with "did you mean"."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class Metadata(_Closed):
    name: Name
    display_name: str | None = None
    labels: dict[LabelKey, LabelValues] = Field(default_factory=dict)
    annotations: dict[AnnotationKey, str] = Field(default_factory=dict)


class SelectorSpec(BaseModel):
    """The ``spec`` of an ``anef-harness`` metric source (the harness's own keys, in snake_case)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[StepPattern] = Field(min_length=1)
    outcomes: list[OutcomeName] | None = Field(None, min_length=1)
    max_duration_ms: Finite | None = Field(None, gt=0)
    channel: Channel | None = None


class HarnessSource(_Closed):
    metric_source_ref: Name | None = None
    type: Literal["anef-harness"]
    spec: SelectorSpec


class ExternalSource(_Closed):
    """Another tool's metric source (Prometheus, Datadog, AppDynamics…): its ``spec`` is that tool's
    business ("anything that is valid YAML"), so it is kept, not read; an SLO over it is valid
    OpenSLO that the harness does not evaluate (``checks.slo.reader``)."""

    metric_source_ref: Name | None = None
    type: str | None = None
    spec: Any = None

    @model_validator(mode="before")
    @classmethod
    def _typed(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            kind = data.get("type")
            hint = suggest(kind, [HARNESS_SOURCE], listed=0) if isinstance(kind, str) else ""
            if hint:  # 'anef_harness' is the harness's own type misspelt, not another tool's
                raise problem(f"unknown metricSource type {kind!r}{hint}")
            if kind is None and data.get("metricSourceRef") is None:
                raise problem(
                    "give type (Prometheus, Datadog…; the harness's own is "
                    f"{HARNESS_SOURCE!r}) or metricSourceRef (the name of a DataSource)"
                )
        return data


MetricSource = Annotated[
    Annotated[HarnessSource, Tag("@harness")] | Annotated[ExternalSource, Tag("@external")],
    Discriminator(source_tag),
]


class MetricSpec(_Closed):
    metric_source: MetricSource


class RatioMetric(_Closed):
    counter: bool | None = None  # optional in OpenSLO v1: every official example may omit it
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec | None = None
    raw_type: Literal["success", "failure"] | None = None
    raw: MetricSpec | None = None

    @model_validator(mode="after")
    def _fraction(self) -> RatioMetric:
        """Either ``raw`` with ``rawType``, or ``total`` with exactly one of ``good`` and ``bad``
        (whether the harness can evaluate a raw ratio is the reader's business)."""
        counts = (self.good, self.bad, self.total)
        if self.raw is not None or self.raw_type is not None:
            if any(part is not None for part in counts):
                raise problem("give either raw (with rawType) or total with good or bad, not both")
            if self.raw is None or self.raw_type is None:
                raise problem("a precomputed ratio needs both raw and rawType (success or failure)")
        elif self.total is None or (self.good is None) == (self.bad is None):
            raise problem("give total and exactly one of good and bad")
        return self


class SliSpec(_Closed):
    description: Description = ""
    threshold_metric: MetricSpec | None = None
    ratio_metric: RatioMetric | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> SliSpec:
        if (self.threshold_metric is None) == (self.ratio_metric is None):
            raise problem("give exactly one of ratioMetric and thresholdMetric")
        return self


class InlineIndicator(_Closed):
    metadata: Metadata
    spec: SliSpec


class ObjectiveSpec(_Closed):
    display_name: str = ""
    target: TargetRatio | None = None
    target_percent: TargetPercent | None = None
    op: Any = None
    value: Any = None
    time_slice_target: Any = None
    time_slice_window: Any = None
    indicator: Any = None
    indicator_ref: Any = None
    composite_weight: Any = None

    @field_validator("op", "value")
    @classmethod
    def _threshold_only(cls, value: Any) -> Any:
        raise problem(
            "thresholdMetric objectives (op and value) are not supported: the harness evaluates ratioMetric SLIs"
        )

    @field_validator("time_slice_target", "time_slice_window")
    @classmethod
    def _timeslices_only(cls, value: Any) -> Any:
        raise problem(
            "timeSliceTarget and timeSliceWindow belong to Timeslices budgeting; the harness uses Occurrences"
        )

    @field_validator("indicator", "indicator_ref", "composite_weight")
    @classmethod
    def _composite(cls, value: Any) -> Any:
        raise problem(
            "composite SLOs are not supported: give the SLO one indicator (spec.indicator or "
            "spec.indicatorRef) and one SLO per indicator"
        )

    @model_validator(mode="after")
    def _one_target(self) -> ObjectiveSpec:
        if (self.target is None) == (self.target_percent is None):
            raise problem("give exactly one of target (a ratio such as 0.99) and targetPercent (such as 99)")
        return self

    @property
    def ratio(self) -> float:
        return self.target if self.target is not None else (self.target_percent or 0.0) / 100


class TimeWindow(_Closed):
    duration: Window
    is_rolling: bool = False
    calendar: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _rolling(self) -> TimeWindow:
        if not self.is_rolling or self.calendar is not None:
            raise problem(
                "calendar-aligned time windows are not supported; the harness supports rolling windows "
                "only: {duration: 30d, isRolling: true}"
            )
        return self


class BurnRateCondition(_Closed):
    kind: Literal["burnrate"] = "burnrate"
    op: str
    threshold: Finite = Field(gt=0)
    lookback_window: Window
    alert_after: Duration = "0m"

    @field_validator("op")
    @classmethod
    def _rising(cls, value: str) -> str:
        if value in ("lt", "lte"):
            raise problem(
                f"alerts on a falling burn rate are not supported (a burn-rate alert fires when the burn rate "
                f"rises): expected gte or gt, got {value!r}"
            )
        if value not in ("gte", "gt"):
            raise problem(f"expected gte or gt, got {value!r}")
        return value


class AlertConditionSpec(_Closed):
    description: Description = ""
    severity: str = Field(min_length=1)  # free in OpenSLO v1 ("sev1", "page"…): the alerts' sloth_severity
    condition: BurnRateCondition


class ConditionRef(_Closed):
    condition_ref: Name


class InlineCondition(_Closed):
    kind: Literal["AlertCondition"]
    metadata: Metadata
    spec: AlertConditionSpec


class NotificationTargetSpec(_Closed):
    description: Description = ""
    target: str


class TargetRef(_Closed):
    target_ref: Name


class InlineTarget(_Closed):
    kind: Literal["AlertNotificationTarget"]
    metadata: Metadata
    spec: NotificationTargetSpec


class AlertPolicySpec(_Closed):
    description: Description = ""
    alert_when_no_data: bool = False
    alert_when_resolved: bool = False
    alert_when_breaching: bool = False
    conditions: list[
        Annotated[
            Annotated[ConditionRef, Tag("@ref")] | Annotated[InlineCondition, Tag("@inline")],
            Discriminator(ref_or_inline("conditionRef")),
        ]
    ]
    notification_targets: list[
        Annotated[
            Annotated[TargetRef, Tag("@ref")] | Annotated[InlineTarget, Tag("@inline")],
            Discriminator(ref_or_inline("targetRef")),
        ]
    ] = Field(default_factory=list)

    @field_validator("notification_targets", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("conditions")
    @classmethod
    def _one_condition(cls, value: list[Any]) -> list[Any]:
        if len(value) != 1:
            raise problem(
                f"OpenSLO v1 allows exactly one condition per AlertPolicy, got {len(value)}; "
                "define one AlertPolicy per burn-rate window and list them all under the SLO's alertPolicies"
            )
        return value


class PolicyRef(_Closed):
    alert_policy_ref: Name


class InlinePolicy(_Closed):
    kind: Literal["AlertPolicy"]
    metadata: Metadata
    spec: AlertPolicySpec


class SloSpec(_Closed):
    description: Description = ""
    service: str = Field(min_length=1)
    indicator: InlineIndicator | None = None
    indicator_ref: Name | None = None
    budgeting_method: str
    time_window: list[TimeWindow] | None = None
    objectives: list[ObjectiveSpec] = Field(min_length=1)
    alert_policies: list[
        Annotated[
            Annotated[PolicyRef, Tag("@ref")] | Annotated[InlinePolicy, Tag("@inline")],
            Discriminator(ref_or_inline("alertPolicyRef")),
        ]
    ] = Field(default_factory=list)

    @field_validator("alert_policies", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value  # "alertPolicies:" with nothing after it, as OpenSLO's examples write

    @field_validator("budgeting_method")
    @classmethod
    def _occurrences(cls, value: str) -> str:
        methods = ["Occurrences", "Timeslices", "RatioTimeslices"]
        if value not in methods:
            raise problem(f"unknown budgeting method {value!r}{suggest(value, methods, listed=len(methods))}")
        if value != "Occurrences":
            raise problem(
                f"budgetingMethod {value} is not supported: the harness evaluates Occurrences only "
                "(good events / all events)"
            )
        return value

    @field_validator("time_window")
    @classmethod
    def _one_window(cls, value: list[TimeWindow] | None) -> list[TimeWindow] | None:
        if value is not None and len(value) != 1:
            raise problem(f"expected exactly one time window, got {len(value)}")
        return value

    @model_validator(mode="after")
    def _one_indicator(self) -> SloSpec:
        if (self.indicator is None) == (self.indicator_ref is None):
            raise problem("give exactly one of indicator (inline) and indicatorRef (the name of an SLI)")
        return self


class ServiceSpec(_Closed):
    description: Description = ""


class DataSourceSpec(_Closed):
    description: Description = ""
    type: str
    connection_details: Any = None  # "everything that is valid YAML can be put here"


class OpenSloObject(_Closed):
    api_version: Literal["openslo/v1"]
    metadata: Metadata
    spec: BaseModel


class SloObject(OpenSloObject):
    kind: Literal["SLO"]
    spec: SloSpec


class SliObject(OpenSloObject):
    kind: Literal["SLI"]
    spec: SliSpec


class AlertPolicyObject(OpenSloObject):
    kind: Literal["AlertPolicy"]
    spec: AlertPolicySpec


class AlertConditionObject(OpenSloObject):
    kind: Literal["AlertCondition"]
    spec: AlertConditionSpec


class AlertNotificationTargetObject(OpenSloObject):
    kind: Literal["AlertNotificationTarget"]
    spec: NotificationTargetSpec


class DataSourceObject(OpenSloObject):
    kind: Literal["DataSource"]
    spec: DataSourceSpec


class ServiceObject(OpenSloObject):
    kind: Literal["Service"]
    spec: ServiceSpec = Field(default_factory=ServiceSpec)


MODELS: dict[str, type[OpenSloObject]] = {
    "SLO": SloObject,
    "SLI": SliObject,
    "AlertPolicy": AlertPolicyObject,
    "AlertCondition": AlertConditionObject,
    "AlertNotificationTarget": AlertNotificationTargetObject,
    "DataSource": DataSourceObject,
    "Service": ServiceObject,
}
