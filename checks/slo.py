"""SLO files: OpenSLO v1 objects read into typed models, then into the objectives the harness evaluates.

An SLO file is a YAML stream of OpenSLO v1 objects (``apiVersion: openslo/v1``; several documents
separated by ``---``, or a top-level list). The harness evaluates SLOs whose indicator is a ratio of
step events, selected by its own metric source type ``anef-harness``::

    metricSource:
      type: anef-harness
      spec: {steps: [renewal.upload], outcomes: [ok], max_duration_ms: 800, channel: api}

Other metric source types (``Prometheus``…) are kept when they carry ``spec.query``, for the live
rules, but an SLO the harness must evaluate can only count its own step events.

What the reader accepts beyond the letter of OpenSLO, and what it refuses, on purpose:
- ``budgetingMethod`` must be ``Occurrences`` (good events / all events): the only method that is
  meaningful on a campaign's events; ``Timeslices`` needs a steady stream of time slices.
- ``timeWindow`` must be rolling (it becomes the Prometheus rules' window); absent, it is 30 days.
- An ``AlertPolicy`` has exactly one condition, as OpenSLO v1 says ("max of one condition"): a
  multi-window, multi-burn-rate set is one policy per window, all listed under the SLO.
- A burn-rate ``AlertCondition`` carries the long window in ``lookbackWindow`` and the short window
  of the SRE Workbook's multi-window alerts in ``alertAfter`` (OpenSLO v1 has no field for it).
- ``notificationTargets`` may be absent: the harness notifies no one.
- ``Service``, ``DataSource`` and ``AlertNotificationTarget`` objects are checked and kept (services
  for display); when the file defines Services, an SLO's ``spec.service`` must name one of them.
- A selector's ``channel`` is one of the event channels of ``scenarios.events.Channel``.
- When an SLI gives ``bad`` and ``total``, the objective's good events are ``total AND NOT bad``
  (``Selector.negated``); when it gives ``good``, good must select a subset of total.

Every mistake is one ``SloError`` line: ``FILE:LINE: KIND NAME: field.path: what was expected``,
where the field path starts under ``spec`` (``indicator.spec.ratioMetric.good…``).
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

from core import yamlfile
from core.errors import ConfigError
from core.yamlfile import DuplicateKeyError, SafeDatesLoader, StrictLoader
from scenarios.events import Channel, Outcome
from scenarios.journeys import known_steps

API_VERSION = "openslo/v1"
HARNESS_SOURCE = "anef-harness"
DEFAULT_TIME_WINDOW = "30d"
KINDS = ("SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource", "Service")
OUTCOMES = tuple(outcome.value for outcome in Outcome)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "Q": 90 * 86400, "Y": 365 * 86400}


class SloError(ConfigError):
    """An SLO file that cannot be used: a ``ConfigError`` (so the CLI prints one line and exits 2)
    and so a ``HarnessError``."""


# --- the objectives the harness evaluates --------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """Which step events count. ``negated`` (used when an SLI gives ``bad`` and ``total``) removes
    the events it selects: the good events are then ``total AND NOT bad``."""

    steps: frozenset[str]
    outcomes: frozenset[str] | None = None
    max_duration_ms: float | None = None
    channel: str | None = None
    negated: Selector | None = None

    def sql(self) -> str:
        """A SQL boolean expression (DuckDB) over the columns ``step``, ``outcome``,
        ``duration_ms`` and ``channel`` of the step events; a NULL column never counts as a match."""
        parts = [f"step IN ({_sql_list(self.steps)})"]
        if self.outcomes is not None:
            parts.append(f"outcome IN ({_sql_list(self.outcomes)})")
        if self.max_duration_ms is not None:
            parts.append(f"duration_ms <= {float(self.max_duration_ms)!r}")
        if self.channel is not None:
            parts.append(f"channel = {_sql_text(self.channel)}")
        if self.negated is not None:
            parts.append(f"NOT coalesce({self.negated.sql()}, FALSE)")
        return "(" + " AND ".join(parts) + ")"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: frozenset[str]) -> str:
    return ", ".join(_sql_text(value) for value in sorted(values))


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


def default_slo_path() -> Path:
    """The SLO file shipped with the harness (``slos/anef.yaml`` of the repository)."""
    return Path(__file__).resolve().parents[1] / "slos" / "anef.yaml"


def duration_seconds(shorthand: str) -> float:
    """Seconds in an OpenSLO duration shorthand (``5m``, ``1h``, ``30d``); calendar units are
    approximated (M = 30 d, Q = 90 d, Y = 365 d) because campaigns never span them."""
    match = _DURATION.fullmatch(shorthand)
    if match is None:
        raise ValueError(f"not an OpenSLO duration: {shorthand!r}")
    return float(int(match[1]) * _UNIT_SECONDS[match[2]])


def load_slos(path: Path) -> list[Objective]:
    """The objectives of an SLO file, validated; ``SloError`` (one line) on any mistake."""
    return load_slo_file(path).objectives


def load_slo_file(path: Path) -> SloFile:
    """The objectives and services of an SLO file, validated; ``SloError`` (one line) on any mistake."""
    return _Reader(path).read()


# --- field types -----------------------------------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    """A validation error whose message is ``message`` verbatim (braces in it are not a template)."""
    return PydanticCustomError("slo", "{message}", {"message": message})


def _hint(value: str, choices: Sequence[str]) -> str:
    same = [choice for choice in choices if choice.casefold() == value.casefold()]
    close = same or difflib.get_close_matches(value, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(choices)}"


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_KEY = re.compile(r"[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?")
_ANNOTATION_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?" + _LABEL_KEY.pattern
)
_DURATION = re.compile(r"(\d+)([mhdwMQY])")


def _name(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise _problem(f"expected a name of lowercase letters, digits and '-', at most 63 (RFC 1123), got {value!r}")
    return value


def _label_key(value: str) -> str:
    if not _LABEL_KEY.fullmatch(value):
        raise _problem(f"expected a label key of letters, digits, '-', '_' or '.', at most 63, got {value!r}")
    return value


def _annotation_key(value: str) -> str:
    if not _ANNOTATION_KEY.fullmatch(value):
        raise _problem(f"expected an annotation key such as 'example.org/key', got {value!r}")
    return value


def _label_value(value: Any) -> list[str]:
    """OpenSLO label values are a string or a list of strings; kept as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise _problem(f"expected a string or a list of strings, got {value!r}")


def _duration(value: str) -> str:
    if not _DURATION.fullmatch(value):
        raise _problem(
            f"expected a duration such as 5m, 1h or 30d (a whole number, then m h d w M Q or Y), got {value!r}"
        )
    return value


def _window(value: str) -> str:
    if int(_duration(value)[:-1]) == 0:
        raise _problem(f"expected a window longer than zero, got {value!r}")
    return value


def _step_pattern(value: str) -> str:
    """A step name ``journey.step``, a journey name (all its steps) or ``*`` (every step)."""
    steps = known_steps()
    journeys = sorted({definition.name for definition in steps.values()})
    if value == "*" or value in steps or value in journeys:
        return value
    close = difflib.get_close_matches(value, [*steps, *journeys], n=1)
    hint = (
        f"; did you mean {close[0]!r}?"
        if close
        else f"; expected 'journey.step', a journey ({', '.join(journeys)}) or '*' for every step"
    )
    raise _problem(f"unknown {'step' if '.' in value else 'journey'} {value!r}{hint}")


def _outcome(value: str) -> str:
    if value not in OUTCOMES:
        raise _problem(f"unknown outcome {value!r}{_hint(value, OUTCOMES)}")
    return value


def _target_ratio(value: float) -> float:
    if not 0 < value < 1:
        why = " (OpenSLO targets are below 1: 100 % leaves no error budget)" if value >= 1 else ""
        raise _problem(f"expected a ratio strictly between 0 and 1 such as 0.999 (99.9 %), got {value}{why}")
    return value


def _percent(value: float) -> float:
    if not 0 < value < 100:
        raise _problem(f"expected a percentage strictly between 0 and 100 such as 99.9, got {value}")
    return value


Name = Annotated[str, AfterValidator(_name)]
Description = Annotated[str, Field(max_length=1050)]
Duration = Annotated[str, AfterValidator(_duration)]
Window = Annotated[str, AfterValidator(_window)]
Finite = Annotated[float, Field(allow_inf_nan=False, strict=True)]


def _ref_or_inline(ref_key: str) -> Callable[[Any], str]:
    """A discriminator: the reference form when the mapping has ``ref_key``, else the inline object
    (so an error names the fields of the form the author meant, not of both)."""

    def tag(value: Any) -> str:
        return "@ref" if isinstance(value, Mapping) and ref_key in value else "@inline"

    return tag


def _source_tag(value: Any) -> str:
    return "@harness" if isinstance(value, Mapping) and value.get("type") == HARNESS_SOURCE else "@external"


# --- OpenSLO v1 models ------------------------------------------------------------------------------


class _Closed(BaseModel):
    """OpenSLO's schema is closed: an unknown key is a typo, refused with "did you mean"."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class Metadata(_Closed):
    name: Name
    display_name: str | None = None
    labels: dict[Annotated[str, AfterValidator(_label_key)], Annotated[list[str], BeforeValidator(_label_value)]] = (
        Field(default_factory=dict)
    )
    annotations: dict[Annotated[str, AfterValidator(_annotation_key)], str] = Field(default_factory=dict)


class SelectorSpec(BaseModel):
    """The ``spec`` of an ``anef-harness`` metric source (the harness's own keys, in snake_case)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[Annotated[str, AfterValidator(_step_pattern)]] = Field(min_length=1)
    outcomes: list[Annotated[str, AfterValidator(_outcome)]] | None = Field(None, min_length=1)
    max_duration_ms: Finite | None = Field(None, gt=0)
    channel: Channel | None = None


class HarnessSource(_Closed):
    metric_source_ref: Name | None = None
    type: Literal["anef-harness"]
    spec: SelectorSpec


class ExternalSpec(BaseModel):
    """Another tool's query: only ``query`` (PromQL for Prometheus) is read, for the live rules."""

    model_config = ConfigDict(extra="allow", frozen=True)

    query: str


class ExternalSource(_Closed):
    metric_source_ref: Name | None = None
    type: str | None = None
    spec: ExternalSpec

    @model_validator(mode="before")
    @classmethod
    def _needs_query(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not (isinstance(data.get("spec"), Mapping) and "query" in data["spec"]):
            kind = data.get("type")
            if isinstance(kind, str) and difflib.get_close_matches(kind, [HARNESS_SOURCE], n=1):
                raise _problem(f"unknown metricSource type {kind!r}; did you mean {HARNESS_SOURCE!r}?")
            raise _problem(
                f"a metricSource of type {kind!r} needs spec.query (e.g. PromQL); "
                f"the harness's own type is {HARNESS_SOURCE!r}, with steps and outcomes in spec"
            )
        return data


MetricSource = Annotated[
    Annotated[HarnessSource, Tag("@harness")] | Annotated[ExternalSource, Tag("@external")],
    Discriminator(_source_tag),
]


class MetricSpec(_Closed):
    metric_source: MetricSource


class RatioMetric(_Closed):
    counter: bool
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec | None = None
    raw_type: Literal["success", "failure"] | None = None
    raw: MetricSpec | None = None

    @model_validator(mode="after")
    def _fraction(self) -> RatioMetric:
        if self.raw is not None or self.raw_type is not None:
            raise _problem("precomputed (raw) ratios are not supported: the harness counts events; give good and total")
        if self.total is None or (self.good is None) == (self.bad is None):
            raise _problem("give total and exactly one of good and bad")
        return self


class SliSpec(_Closed):
    description: Description = ""
    threshold_metric: MetricSpec | None = None
    ratio_metric: RatioMetric | None = None

    @model_validator(mode="after")
    def _one_metric(self) -> SliSpec:
        if (self.threshold_metric is None) == (self.ratio_metric is None):
            raise _problem("give exactly one of ratioMetric and thresholdMetric")
        return self


class InlineIndicator(_Closed):
    metadata: Metadata
    spec: SliSpec


class ObjectiveSpec(_Closed):
    display_name: str = ""
    target: Annotated[Finite, AfterValidator(_target_ratio)] | None = None
    target_percent: Annotated[Finite, AfterValidator(_percent)] | None = None
    op: Any = None
    value: Any = None
    time_slice_target: Any = None
    time_slice_window: Any = None

    @field_validator("op", "value")
    @classmethod
    def _threshold_only(cls, value: Any) -> Any:
        raise _problem("op and value compare a thresholdMetric, which the harness does not evaluate")

    @field_validator("time_slice_target", "time_slice_window")
    @classmethod
    def _timeslices_only(cls, value: Any) -> Any:
        raise _problem(
            "timeSliceTarget and timeSliceWindow belong to Timeslices budgeting; the harness uses Occurrences"
        )

    @model_validator(mode="after")
    def _one_target(self) -> ObjectiveSpec:
        if (self.target is None) == (self.target_percent is None):
            raise _problem("give exactly one of target (a ratio such as 0.99) and targetPercent (such as 99)")
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
            raise _problem("the harness supports rolling windows only: {duration: 30d, isRolling: true}")
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
            raise _problem(f"a burn-rate alert fires when the burn rate rises: expected gte or gt, got {value!r}")
        if value not in ("gte", "gt"):
            raise _problem(f"expected gte or gt, got {value!r}")
        return value


class AlertConditionSpec(_Closed):
    description: Description = ""
    severity: Literal["page", "ticket"]
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
            Discriminator(_ref_or_inline("conditionRef")),
        ]
    ]
    notification_targets: list[
        Annotated[
            Annotated[TargetRef, Tag("@ref")] | Annotated[InlineTarget, Tag("@inline")],
            Discriminator(_ref_or_inline("targetRef")),
        ]
    ] = Field(default_factory=list)

    @field_validator("conditions")
    @classmethod
    def _one_condition(cls, value: list[Any]) -> list[Any]:
        if len(value) != 1:
            raise _problem(
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
            Discriminator(_ref_or_inline("alertPolicyRef")),
        ]
    ] = Field(default_factory=list)

    @field_validator("budgeting_method")
    @classmethod
    def _occurrences(cls, value: str) -> str:
        methods = ["Occurrences", "Timeslices", "RatioTimeslices"]
        if value not in methods:
            raise _problem(f"unknown budgeting method {value!r}{_hint(value, methods)}")
        if value != "Occurrences":
            raise _problem(
                f"the harness evaluates budgetingMethod Occurrences only (good events / all events), got {value!r}"
            )
        return value

    @field_validator("time_window")
    @classmethod
    def _one_window(cls, value: list[TimeWindow] | None) -> list[TimeWindow] | None:
        if value is not None and len(value) != 1:
            raise _problem(f"expected exactly one time window, got {len(value)}")
        return value

    @model_validator(mode="after")
    def _one_indicator(self) -> SloSpec:
        if (self.indicator is None) == (self.indicator_ref is None):
            raise _problem("give exactly one of indicator (inline) and indicatorRef (the name of an SLI)")
        return self


class ServiceSpec(_Closed):
    description: Description = ""


class DataSourceSpec(_Closed):
    description: Description = ""
    type: str
    connection_details: dict[str, Any] = Field(default_factory=dict)


class _Object(_Closed):
    api_version: Literal["openslo/v1"]
    metadata: Metadata
    spec: BaseModel


class SloObject(_Object):
    kind: Literal["SLO"]
    spec: SloSpec


class SliObject(_Object):
    kind: Literal["SLI"]
    spec: SliSpec


class AlertPolicyObject(_Object):
    kind: Literal["AlertPolicy"]
    spec: AlertPolicySpec


class AlertConditionObject(_Object):
    kind: Literal["AlertCondition"]
    spec: AlertConditionSpec


class AlertNotificationTargetObject(_Object):
    kind: Literal["AlertNotificationTarget"]
    spec: NotificationTargetSpec


class DataSourceObject(_Object):
    kind: Literal["DataSource"]
    spec: DataSourceSpec


class ServiceObject(_Object):
    kind: Literal["Service"]
    spec: ServiceSpec = Field(default_factory=ServiceSpec)


MODELS: dict[str, type[_Object]] = {
    "SLO": SloObject,
    "SLI": SliObject,
    "AlertPolicy": AlertPolicyObject,
    "AlertCondition": AlertConditionObject,
    "AlertNotificationTarget": AlertNotificationTargetObject,
    "DataSource": DataSourceObject,
    "Service": ServiceObject,
}

Loc = tuple[str | int, ...]


# --- reading a file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One object of the file: its position (from 1), raw data and YAML node (for line numbers)."""

    number: int
    data: Any
    node: yaml.Node

    @property
    def label(self) -> str:
        """``KIND NAME`` as far as the raw data says (``object #3`` when it does not)."""
        data = self.data if isinstance(self.data, Mapping) else {}
        kind = data.get("kind") if data.get("kind") in KINDS else "object"
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        return f"{kind} {name}" if isinstance(name, str) and name else f"{kind} #{self.number}"


@dataclass(frozen=True)
class _Parsed:
    item: _Item
    model: _Object


class _Reader:
    """Reads one file: YAML → objects (each validated on its own) → references → objectives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.by_kind: dict[str, dict[str, _Parsed]] = {kind: {} for kind in KINDS}

    def read(self) -> SloFile:
        for item in self._items():
            self._add(item)
        slos = self.by_kind["SLO"]
        if not slos:
            self._fail_file("no SLO object in the file; expected at least one object with kind: SLO")
        self._check_references()
        services = {name: p.model.metadata.display_name or name for name, p in self.by_kind["Service"].items()}
        objectives = [objective for parsed in slos.values() for objective in self._objectives(parsed)]
        return SloFile(objectives, types.MappingProxyType(services))

    # -- errors --

    def _fail_file(self, problem: str, line: int | None = None) -> NoReturn:
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        raise SloError(where, problem.replace("\n", " "))

    def _fail(self, item: _Item, loc: Loc, problem: str, *, line: int | None = None) -> NoReturn:
        """One line: the file and line, the object, the field path (under ``spec``) and the problem."""
        clean = _clean(loc)
        shown = clean[1:] if len(clean) > 1 and clean[0] == "spec" else clean
        where = f"{item.label}: {'.'.join(str(part) for part in shown)}: " if shown else f"{item.label}: "
        self._fail_file(where + problem, line or _line(item.node, clean))

    def _fail_validation(self, item: _Item, model: type[BaseModel], exc: ValidationError) -> NoReturn:
        errors = exc.errors()
        # An unknown key is most often the misspelling of a missing one: name it, with "did you mean".
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        self._fail(item, tuple(error["loc"]), _describe(error, model))

    # -- pass 1: each object on its own --

    def _items(self) -> Iterator[_Item]:
        if not self.path.exists():
            self._fail_file("SLO file not found")
        try:
            text = yamlfile.read_text(self.path)
        except ConfigError as exc:
            raise SloError(exc.source, exc.problem) from None
        duplicate: DuplicateKeyError | None = None
        try:
            documents = list(yaml.load_all(text, Loader=StrictLoader))
        except DuplicateKeyError as exc:
            duplicate, documents = exc, list(yaml.load_all(text, Loader=SafeDatesLoader))  # to name its object
        except yaml.YAMLError as exc:
            raise SloError(*yamlfile.syntax_problem(str(self.path), exc, text)) from None
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        number = 0
        for index, (data, node) in enumerate(zip(documents, nodes, strict=True)):
            if data is None:
                continue  # an empty document (a stray ---)
            pairs = zip(data, node.value, strict=True) if isinstance(data, list) else [(data, node)]
            for position, (entry, entry_node) in enumerate(pairs):
                number += 1
                item = _Item(number, entry, entry_node)
                if duplicate is not None and duplicate.document == index:
                    loc = duplicate.path[1:] if isinstance(data, list) else duplicate.path
                    if not isinstance(data, list) or duplicate.path[0] == position:
                        self._fail(item, loc, duplicate.explanation, line=duplicate.line)
                yield item
        if number == 0:
            self._fail_file("the file is empty; expected OpenSLO v1 objects (apiVersion: openslo/v1, kind: SLO, …)")

    def _add(self, item: _Item) -> None:
        data = item.data
        if not isinstance(data, Mapping):
            self._fail(
                item,
                (),
                f"expected an OpenSLO object (apiVersion, kind, metadata, spec), got a YAML {_yaml_type(data)}",
            )
        if data.get("apiVersion") != API_VERSION:
            found = f"got {data['apiVersion']!r}" if "apiVersion" in data else "it is missing"
            self._fail(item, ("apiVersion",), f"expected {API_VERSION!r} (OpenSLO v1), {found}")
        kind = data.get("kind")
        if "kind" not in data:
            self._fail(item, ("kind",), f"Field required; expected one of {', '.join(KINDS)}")
        if not isinstance(kind, str) or kind not in KINDS:
            self._fail(item, ("kind",), f"unknown kind {kind!r}{_hint(str(kind), KINDS)}")
        model = MODELS[kind]
        try:
            parsed = _Parsed(item, model.model_validate(data))
        except ValidationError as exc:
            self._fail_validation(item, model, exc)
        name = parsed.model.metadata.name
        earlier = self.by_kind[kind].get(name)
        if earlier is not None:
            line = _line(earlier.item.node, ("metadata", "name"))
            self._fail(item, ("metadata", "name"), f"duplicate name: {kind} {name!r} is already defined at line {line}")
        self.by_kind[kind][name] = parsed

    # -- pass 2: references between objects --

    def _check_references(self) -> None:
        for parsed in self.by_kind["SLO"].values():
            spec = parsed.model.spec
            assert isinstance(spec, SloSpec)
            if spec.indicator_ref is not None:
                self._resolve(parsed.item, ("spec", "indicatorRef"), "SLI", spec.indicator_ref)
            for number, policy in enumerate(spec.alert_policies):
                loc: Loc = ("spec", "alertPolicies", number)
                if isinstance(policy, PolicyRef):
                    self._resolve(parsed.item, (*loc, "alertPolicyRef"), "AlertPolicy", policy.alert_policy_ref)
                else:
                    self._check_policy(parsed.item, (*loc, "spec"), policy.spec)
            services = self.by_kind["Service"]
            if services and spec.service not in services:
                self._fail(parsed.item, ("spec", "service"), _missing("Service", spec.service, services))
        for parsed in self.by_kind["AlertPolicy"].values():
            assert isinstance(parsed.model.spec, AlertPolicySpec)
            self._check_policy(parsed.item, ("spec",), parsed.model.spec)

    def _check_policy(self, item: _Item, loc: Loc, spec: AlertPolicySpec) -> None:
        for number, condition in enumerate(spec.conditions):
            if isinstance(condition, ConditionRef):
                where: Loc = (*loc, "conditions", number, "conditionRef")
                self._resolve(item, where, "AlertCondition", condition.condition_ref)
        for number, target in enumerate(spec.notification_targets):
            if isinstance(target, TargetRef):
                where = (*loc, "notificationTargets", number, "targetRef")
                self._resolve(item, where, "AlertNotificationTarget", target.target_ref)

    def _resolve(self, item: _Item, loc: Loc, kind: str, name: str) -> _Object:
        found = self.by_kind[kind].get(name)
        if found is None:
            self._fail(item, loc, _missing(kind, name, self.by_kind[kind]))
        return found.model

    # -- pass 3: objectives --

    def _objectives(self, parsed: _Parsed) -> list[Objective]:
        item, slo = parsed.item, parsed.model
        assert isinstance(slo.spec, SloSpec)
        spec = slo.spec
        origin: Loc
        prefix: Loc
        if spec.indicator is not None:
            indicator, origin, prefix = spec.indicator.spec, ("spec", "indicator"), ("spec", "indicator", "spec")
        else:
            assert spec.indicator_ref is not None
            referenced = self._resolve(item, ("spec", "indicatorRef"), "SLI", spec.indicator_ref)
            assert isinstance(referenced.spec, SliSpec)
            indicator, origin, prefix = referenced.spec, ("spec", "indicatorRef"), ("spec", "indicatorRef")
        good, total = self._ratio(item, indicator, origin, prefix, spec.indicator_ref)
        alerts = tuple(self._alerts(spec))
        window = spec.time_window[0].duration if spec.time_window else DEFAULT_TIME_WINDOW
        labels = types.MappingProxyType({key: ",".join(value) for key, value in slo.metadata.labels.items()})
        several = len(spec.objectives) > 1
        return [
            Objective(
                name=f"{slo.metadata.name}/{number}" if several else slo.metadata.name,
                display_name=objective.display_name or slo.metadata.display_name or slo.metadata.name,
                description=spec.description,
                service=spec.service,
                target=objective.ratio,
                good=good,
                total=total,
                time_window=window,
                burn_rate_alerts=alerts,
                labels=labels,
            )
            for number, objective in enumerate(spec.objectives)
        ]

    def _ratio(self, item: _Item, sli: SliSpec, origin: Loc, prefix: Loc, ref: str | None) -> tuple[Selector, Selector]:
        """(good, total) of an SLI, or the reason the harness cannot count it (at the SLO's field
        ``origin``; ``prefix`` is where the SLI's fields are when it is inline)."""
        source = f"SLI {ref!r}: " if ref is not None else ""
        at = origin if ref is not None else prefix
        if sli.ratio_metric is None:
            self._fail(item, at, f"{source}the harness evaluates ratioMetric SLIs only (good or bad events / total)")
        ratio = sli.ratio_metric
        selectors: dict[str, Selector] = {}
        for part in ("good", "bad", "total"):
            metric: MetricSpec | None = getattr(ratio, part)
            if metric is None:
                continue
            found = metric.metric_source
            if not isinstance(found, HarnessSource):
                inside: Loc = ("ratioMetric", part, "metricSource", "type")
                self._fail(
                    item,
                    origin if ref is not None else (*prefix, *inside),
                    f"{source}{'.'.join(map(str, inside)) + ' ' if ref is not None else ''}{found.type!r}: "
                    f"the harness can evaluate only metricSource type {HARNESS_SOURCE!r} (its step events); "
                    "other types are kept for the live rules",
                )
            selectors[part] = _selector(found.spec)
        total = selectors["total"]
        if "bad" in selectors:
            return replace(total, negated=selectors["bad"]), total
        good = selectors["good"]
        outside = _outside(good, total)
        if outside:
            self._fail(item, at, f"{source}good must count only events that total counts, but {outside}")
        return good, total

    def _alerts(self, spec: SloSpec) -> Iterator[BurnRateAlert]:
        for entry in spec.alert_policies:
            if isinstance(entry, PolicyRef):
                policy = self.by_kind["AlertPolicy"][entry.alert_policy_ref].model.spec
            else:
                policy = entry.spec
            assert isinstance(policy, AlertPolicySpec)
            for condition in policy.conditions:
                if isinstance(condition, ConditionRef):
                    model = self.by_kind["AlertCondition"][condition.condition_ref].model
                    name = model.metadata.name
                    assert isinstance(model.spec, AlertConditionSpec)
                    alert = model.spec
                else:
                    name, alert = condition.metadata.name, condition.spec
                burn = alert.condition
                yield BurnRateAlert(
                    name, alert.severity, burn.threshold, burn.lookback_window, burn.alert_after, burn.op
                )


def _selector(spec: SelectorSpec) -> Selector:
    """The selector with its step patterns expanded to concrete step names."""
    known = known_steps()
    steps: set[str] = set()
    for pattern in spec.steps:
        if pattern == "*":
            steps.update(known)
        elif pattern in known:
            steps.add(pattern)
        else:
            steps.update(step for step, definition in known.items() if definition.name == pattern)
    outcomes = frozenset(spec.outcomes) if spec.outcomes is not None else None
    return Selector(frozenset(steps), outcomes, spec.max_duration_ms, spec.channel)


def _outside(good: Selector, total: Selector) -> str:
    """Why ``good`` may count an event that ``total`` does not ("" when it cannot)."""
    if good.steps - total.steps:
        return f"it counts steps total does not: {', '.join(sorted(good.steps - total.steps))}"
    if total.outcomes is not None and (good.outcomes is None or good.outcomes - total.outcomes):
        return f"it counts outcomes total does not (total: {', '.join(sorted(total.outcomes))})"
    if total.max_duration_ms is not None and (good.max_duration_ms or float("inf")) > total.max_duration_ms:
        return f"it counts events longer than total's max_duration_ms {total.max_duration_ms}"
    if total.channel is not None and good.channel != total.channel:
        return f"it counts channels total does not (total: {total.channel})"
    return ""


def _missing(kind: str, name: str, defined: Mapping[str, Any]) -> str:
    if not defined:
        return f"no {kind} named {name!r}: the file defines no {kind}"
    return f"no {kind} named {name!r} in the file{_hint(name, sorted(defined))}"


def _yaml_type(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")


# --- error messages and line numbers ----------------------------------------------------------------


def _clean(loc: Sequence[str | int]) -> Loc:
    """The field path as written in the file: without pydantic's union tags and ``[key]`` markers."""
    return tuple(part for part in loc if not (isinstance(part, str) and (part.startswith("@") or part == "[key]")))


def _describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """One line for a pydantic error: unknown keys get "did you mean", a wrong value says what it got."""
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        *parent, key = error["loc"]
        known = _fields_at(model, parent)
        if not known:
            return "unknown field"
        return f"unknown field{_hint(str(key), known)}"
    if kind == "slo":
        return message
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        given = error.get("input")
        shown = repr(given) if isinstance(given, str | int | float | bool) else f"a YAML {_yaml_type(given)}"
        return f"expected a mapping (key: value), got {shown}"
    shown = error.get("input")
    if kind == "literal_error" and isinstance(shown, str):
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        close = difflib.get_close_matches(shown, choices, n=1)
        return f"{message}, got {shown!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    if kind == "missing" or not isinstance(shown, str | int | float | bool | None):
        return message
    return f"{message}, got {shown!r}"


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys (aliases) the model at ``loc`` accepts, following pydantic's union tags in ``loc``."""
    current: Any = model
    for part in loc:
        current = _bare(current)
        if get_origin(current) in (Union, types.UnionType):
            current = next((m for m in get_args(current) if _tag(m) == part), None)
            if current is None:
                return []
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            found = next((f for name, f in current.model_fields.items() if (f.alias or name) == part), None)
            if found is None:
                return []
            current = found.annotation
        else:
            return []
    current = _bare(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _bare(annotation: Any) -> Any:
    """Without ``Annotated`` and without ``| None``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return _bare(members[0])
    return annotation


def _tag(annotation: Any) -> str | None:
    if get_origin(annotation) is Annotated:
        return next((meta.tag for meta in get_args(annotation)[1:] if isinstance(meta, Tag)), None)
    return None


def _line(node: yaml.Node, loc: Sequence[str | int]) -> int:
    """The line (from 1) of the deepest key or item of ``loc`` found in the YAML (a missing field:
    its parent's line)."""
    best: yaml.Node = node
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if pair is None:
                break
            best, node = pair
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            best = node = node.value[part]
        else:
            break
    return best.start_mark.line + 1
