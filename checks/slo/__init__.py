"""SLO files: OpenSLO v1 objects read into typed models, then into the objectives the harness evaluates.

Owns the SLO file format and the objectives (``Objective``, ``Selector``) that the gate, the rules
and the dashboards read. Must not evaluate anything (``checks.evaluate`` does) nor know how the
objectives are shown. One module per idea: ``fields`` (field types), ``openslo`` (the models),
``reader`` (a file → objectives), ``selector`` (which events count, as SQL), ``objective``.

An SLO file is a YAML stream of OpenSLO v1 objects (``apiVersion: openslo/v1``; several documents
separated by ``---``, or a top-level list). The harness evaluates SLOs whose indicator is a ratio of
step events, selected by its own metric source type ``anef-harness``::

    metricSource:
      type: anef-harness
      spec: {steps: [renewal.upload], outcomes: [ok], max_duration_ms: 800, channel: api}

Other tools' metric sources (``Prometheus``, ``Datadog``…, whatever their ``spec``) are valid
OpenSLO: an SLI over them that no SLO uses is checked and ignored; an SLO over them is listed in
``SloFile.external`` (``anef-harness slo check`` accepts it), and ``load_slos`` refuses it, because
the gate and the rules count the harness's own step events only.

What the reader accepts beyond the letter of OpenSLO, and what it refuses, on purpose:
- ``budgetingMethod`` must be ``Occurrences`` (good events / all events): the only method that is
  meaningful on a campaign's events; ``Timeslices`` needs a steady stream of time slices.
- ``timeWindow`` must be rolling (it becomes the Prometheus rules' window); absent, it is 30 days.
- An ``AlertPolicy`` has exactly one condition, as OpenSLO v1 says ("max of one condition"): a
  multi-window, multi-burn-rate set is one policy per window, all listed under the SLO.
- A burn-rate ``AlertCondition``'s ``lookbackWindow`` is the long window of the SRE Workbook's
  multi-window alerts; the short window is its annotation ``anef-harness/short-window``, else 1/12
  of the long window (1h → 5m, 6h → 30m, 1d → 2h, 3d → 6h); ``alertAfter`` is, as OpenSLO defines
  it, how long the condition must hold before the alert fires (the rule's ``for:``).
- ``severity`` is free text, as in OpenSLO v1 (the alerts' ``sloth_severity``); ``counter`` is
  optional; durations take every OpenSLO unit (s m h d w M Q Y; M = 30 d, Q = 90 d, Y = 365 d).
- Not supported, and said so: Timeslices and RatioTimeslices budgeting, calendar-aligned windows,
  composite SLOs (objectives with their own indicator or a ``compositeWeight``), thresholdMetric
  and raw-ratio SLIs in an SLO, alerts on a falling burn rate (``op: lt``/``lte``).
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

from checks.slo.fields import (
    API_VERSION,
    HARNESS_SOURCE,
    OUTCOMES,
    Description,
    Duration,
    Finite,
    Name,
    Window,
    duration_seconds,
    promql_duration,
    seconds_as_promql,
)
from checks.slo.objective import (
    DEFAULT_TIME_WINDOW,
    SHORT_WINDOW_ANNOTATION,
    BurnRateAlert,
    ExternalSlo,
    Objective,
    SloFile,
)
from checks.slo.openslo import (
    KINDS,
    MODELS,
    AlertConditionObject,
    AlertConditionSpec,
    AlertNotificationTargetObject,
    AlertPolicyObject,
    AlertPolicySpec,
    BurnRateCondition,
    ConditionRef,
    DataSourceObject,
    DataSourceSpec,
    ExternalSource,
    HarnessSource,
    InlineCondition,
    InlineIndicator,
    InlinePolicy,
    InlineTarget,
    Metadata,
    MetricSource,
    MetricSpec,
    NotificationTargetSpec,
    ObjectiveSpec,
    OpenSloObject,
    PolicyRef,
    RatioMetric,
    SelectorSpec,
    ServiceObject,
    ServiceSpec,
    SliObject,
    SliSpec,
    SloObject,
    SloSpec,
    TargetRef,
    TimeWindow,
)
from checks.slo.reader import (
    Loc,
    SloError,
    default_slo_path,
    load_slo_file,
    load_slos,
)
from checks.slo.selector import (
    Selector,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_TIME_WINDOW",
    "HARNESS_SOURCE",
    "KINDS",
    "MODELS",
    "OUTCOMES",
    "SHORT_WINDOW_ANNOTATION",
    "AlertConditionObject",
    "AlertConditionSpec",
    "AlertNotificationTargetObject",
    "AlertPolicyObject",
    "AlertPolicySpec",
    "BurnRateAlert",
    "BurnRateCondition",
    "ConditionRef",
    "DataSourceObject",
    "DataSourceSpec",
    "Description",
    "Duration",
    "ExternalSlo",
    "ExternalSource",
    "Finite",
    "HarnessSource",
    "InlineCondition",
    "InlineIndicator",
    "InlinePolicy",
    "InlineTarget",
    "Loc",
    "Metadata",
    "MetricSource",
    "MetricSpec",
    "Name",
    "NotificationTargetSpec",
    "Objective",
    "ObjectiveSpec",
    "OpenSloObject",
    "PolicyRef",
    "RatioMetric",
    "Selector",
    "SelectorSpec",
    "ServiceObject",
    "ServiceSpec",
    "SliObject",
    "SliSpec",
    "SloError",
    "SloFile",
    "SloObject",
    "SloSpec",
    "TargetRef",
    "TimeWindow",
    "Window",
    "default_slo_path",
    "duration_seconds",
    "load_slo_file",
    "load_slos",
    "promql_duration",
    "seconds_as_promql",
]
