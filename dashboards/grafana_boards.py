"""What the two dashboards show: the SLO overview's and the campaign dashboard's rows and panels.

Counts "over the time range" are ``last_over_time`` of the counters, not ``increase``: a counter
that appears already at 1 (the first defect detected, the first 500) has no earlier sample, and
``increase`` would never count that first event, so a short campaign would show zero where there
was one. Rates use ``$__rate_interval``; a zero that is the honest answer (no fault fired, no alert
firing) comes from ``or on() vector(0)`` rather than an empty panel.
"""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.models.common import BigValueTextMode
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig, DynamicConfigValue

from checks.slo import DEFAULT_TIME_WINDOW, Objective, promql_duration
from dashboards.grafana_panels import (
    GREEN,
    ORANGE,
    RED,
    Item,
    Panels,
    Query,
    or_zero,
    promql_regex,
    quantile,
    rate,
    select,
    share,
    thresholds,
    total,
)
from dashboards.rules import ids

# --- the SLO overview ----------------------------------------------------------------------------------

_SLO = 'sloth_slo=~"$slo", journey=~"$journey"'


def _per_slo(metric: str) -> str:
    return f"max by (sloth_slo) ({select(metric, _SLO)})"


def period_error_ratio(objectives: Sequence[Objective]) -> str:
    """Sloth's error ratio over each SLO's own period (``slo:sli_error:ratio_rate30d`` for 30 days);
    with several periods, each rule is restricted to the SLOs of that period, because the shorter
    names (``ratio_rate3d``) also exist for every SLO as alert windows."""
    by_window: dict[str, list[str]] = {}
    for objective in objectives:
        by_window.setdefault(promql_duration(objective.time_window), []).append(ids(objective).slo)
    if len(by_window) <= 1:
        window = next(iter(by_window), DEFAULT_TIME_WINDOW)
        return f"slo:sli_error:ratio_rate{window}{{{_SLO}}}"
    parts = [
        f'slo:sli_error:ratio_rate{window}{{{_SLO}, sloth_slo=~"{promql_regex(names)}"}}'
        for window, names in sorted(by_window.items())
    ]
    return "(" + " or ".join(parts) + ")"


def slo_overview(p: Panels, objectives: Sequence[Objective]) -> list[Item]:
    """The SLO overview's rows and panels."""
    budget = _per_slo("slo:period_error_budget_remaining:ratio")
    burn = _per_slo("slo:current_burn_rate:ratio")
    alerts = 'count(ALERTS{{alertstate="firing", sloth_severity="{}", sloth_slo=~"$slo"}})'
    slos = p.table(
        "SLOs: SLI, objective, error budget left, burn rate",
        "One line per SLO. SLI: share of good events over the SLO's period (1 − Sloth's period error ratio). "
        "Error budget left: 100 % untouched, 0 % or less exhausted (the SLO is breached). Burn rate: how fast the "
        "budget is spent now (5-minute window); 1 spends it exactly over the period, 14.4 in two days.",
        [
            Query(f"1 - max by (sloth_slo) ({period_error_ratio(objectives)})"),
            Query(_per_slo("slo:objective:ratio")),
            Query(budget),
            Query(burn),
        ],
        height=14,
    )
    slos.with_transformation(DataTransformerConfig(id_val="merge", options={}))
    columns = {"sloth_slo": "SLO", "Value #A": "SLI", "Value #B": "Objective", "Value #C": "Budget left"}
    columns["Value #D"] = "Burn rate"
    organize = {"excludeByName": {"Time": True}, "renameByName": columns}
    slos.with_transformation(DataTransformerConfig(id_val="organize", options=organize))
    for column in ("SLI", "Objective", "Budget left"):
        slos.override_by_name(column, [DynamicConfigValue("unit", "percentunit"), DynamicConfigValue("decimals", 2)])
    slos.override_by_name("Burn rate", [DynamicConfigValue("unit", "none"), DynamicConfigValue("decimals", 2)])
    return [
        p.row("Where the objectives stand"),
        p.stat(
            "SLOs within budget",
            "SLOs whose error budget over their period is not exhausted.",
            [Query(or_zero(f"count({budget} > 0)"))],
        ),
        p.stat(
            "SLOs breached",
            "SLOs whose error budget is exhausted: over their period, fewer good events than the objective.",
            [Query(or_zero(f"count({budget} <= 0)"))],
            steps=thresholds((None, GREEN), (1, RED)),
        ),
        p.stat(
            "Page alerts firing",
            "Burn-rate alerts of severity page firing now (fast burns: 2 % of the budget in an hour, 5 % in six).",
            [Query(or_zero(alerts.format("page")))],
            steps=thresholds((None, GREEN), (1, RED)),
        ),
        p.stat(
            "Ticket alerts firing",
            "Burn-rate alerts of severity ticket firing now (slow burns: 10 % of the budget in one or three days).",
            [Query(or_zero(alerts.format("ticket")))],
            steps=thresholds((None, GREEN), (1, ORANGE)),
        ),
        slos,
        p.row("Over time"),
        p.timeseries(
            "Burn rate",
            "How fast each SLO spends its error budget (5-minute window). Above 1 the budget runs out before the "
            "end of the period; the SRE Workbook pages at 14.4 (1 h) and 6 (6 h).",
            [Query(burn, "{{sloth_slo}}")],
            unit="none",
            steps=thresholds((None, GREEN), (1, ORANGE), (14.4, RED)),
        ),
        p.timeseries(
            "Error budget left",
            "Share of each SLO's error budget not yet spent over its period; at 0 % the SLO is breached.",
            [Query(budget, "{{sloth_slo}}")],
            unit="percentunit",
            steps=thresholds((None, RED), (0, ORANGE), (0.5, GREEN)),
        ),
    ]


# --- the campaign dashboard ------------------------------------------------------------------------

_J = 'journey=~"$journey"'
_NOT_OK = 'outcome!="ok"'
_5XX = 'status=~"5.."'
_HTTP = "anef_platform_http_requests_total"


def campaign(p: Panels) -> list[Item]:
    """The campaign dashboard's rows and panels."""
    name = p.stat(
        "Campaign",
        "The campaign and run the harness is exposing metrics for.",
        [Query(total("anef_campaign_info", "campaign, run_id"), "{{campaign}} · {{run_id}}")],
        width=4,
    )
    name.text_mode(BigValueTextMode.NAME)
    outcomes = p.table(
        "Step outcomes",
        "Attempts of each step by outcome over the time range. ok: the effect is visible where it must be; "
        "blocked: a refusal the applicant's true state does not justify; lost: never visible by its deadline; "
        "corrupt: visible but different; missing: an expected procedure or element was absent.",
        [Query(total("anef_step_total", "step, outcome", _J))],
    )
    matrix = {"columnField": "outcome", "rowField": "step", "valueField": "Value", "emptyValue": "zero"}
    outcomes.with_transformation(DataTransformerConfig(id_val="groupingToMatrix", options=matrix))
    steps_total = rate("anef_step_total", "step", _J)
    failures = f"({rate('anef_step_total', 'step', _J, _NOT_OK)} or 0 * {steps_total}) / {steps_total}"
    quantiles = ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
    return [
        p.row("At a glance"),
        name,
        p.stat(
            "Journeys",
            "Journeys ended in the time range, by outcome (ok, failed, abandoned, skipped).",
            [Query(total("anef_journey_total", "outcome", _J), "{{outcome}}")],
            width=8,
        ),
        p.stat(
            "Steps not OK",
            "Share of step attempts that did not end ok, over the time range.",
            [Query(share(total("anef_step_total", "", _J, _NOT_OK), total("anef_step_total", "", _J)))],
            unit="percentunit",
            width=4,
            steps=thresholds((None, GREEN), (0.01, ORANGE), (0.05, RED)),
        ),
        p.stat(
            "Defects detected",
            "Documented ANEF defects (and generic faults) detected from what applicants and agents observed.",
            [Query(or_zero(total("anef_defect_detected_total", "")))],
            width=4,
            steps=thresholds((None, GREEN), (1, RED)),
        ),
        p.stat(
            "Rights at risk",
            "Projection: synthetic applicants whose renewal failed and whose card expires before a next attempt "
            "could succeed; they would fall out of legal residence.",
            [Query("max(last_over_time(anef_applicants_at_risk[$__range]))")],
            width=4,
            steps=thresholds((None, GREEN), (1, RED)),
        ),
        p.row("Journeys"),
        p.bars(
            "Journeys by outcome",
            "Journeys ended in the time range, per journey and outcome.",
            [Query(total("anef_journey_total", "journey, outcome", _J), "{{journey}} · {{outcome}}")],
        ),
        p.bars(
            "Failed journeys: the step where they failed",
            "Failed journeys in the time range, by the step that failed them (0 when none failed).",
            [Query(or_zero(total("anef_journey_total", "failed_step", _J, 'failed_step!=""')), "{{failed_step}}")],
            steps=thresholds((None, GREEN), (1, RED)),
        ),
        p.timeseries(
            "Journeys ended per second",
            "Journeys ending per second, by outcome.",
            [Query(rate("anef_journey_total", "outcome", _J), "{{outcome}}")],
            unit="ops",
            width=24,
        ),
        p.row("Steps"),
        p.timeseries(
            "Failure rate per step",
            "Share of each step's attempts that did not end ok (error, timeout, blocked, lost, corrupt, missing).",
            [Query(failures, "{{step}}")],
            unit="percentunit",
        ),
        p.timeseries(
            "Step latency (attempts that ended ok)",
            "Percentiles of the duration of the step attempts that ended ok; failures are counted, not timed.",
            [Query(quantile(q, "anef_step_duration_seconds", "step", _J), f"{{{{step}}}} {n}") for q, n in quantiles],
            unit="s",
        ),
        outcomes,
        p.row("Across the seam (front office / prefecture)"),
        p.timeseries(
            "Time to consistency across the seam",
            "How long an effect took to appear on the other side: the document at the prefecture, the reset e-mail "
            "in the mailbox, the agent's request on the applicant's dashboard.",
            [
                Query(quantile(q, "anef_reconcile_lag_seconds", "step", _J), f"{{{{step}}}} {n}")
                for q, n in quantiles[:2]
            ],
            unit="s",
        ),
        p.timeseries(
            "Platform sync lag",
            "The platform's own figure: age of the oldest message waiting in either outbox of the sync bridge.",
            [Query("max(anef_platform_sync_lag_seconds)", "oldest message waiting")],
            unit="s",
        ),
        p.row("Defects detected and faults injected"),
        p.bars(
            "Defects detected",
            "Defects detected in the time range from what applicants and agents observed (never from the "
            "platform's fault ledger).",
            [Query(or_zero(total("anef_defect_detected_total", "defect")), "{{defect}}")],
            steps=thresholds((None, GREEN), (1, RED)),
        ),
        p.bars(
            "Faults injected (ground truth)",
            "Faults the platform fired in the time range, from its own counter: what the harness had to catch.",
            [Query(or_zero(total("anef_platform_fault_injected_total", "fault")), "{{fault}}")],
            steps=thresholds((None, GREEN), (1, ORANGE)),
        ),
        p.timeseries(
            "Faults injected per second",
            "Faults fired by the platform per second, by fault (also marked as annotations).",
            [Query(or_zero(rate("anef_platform_fault_injected_total", "fault")), "{{fault}}")],
            unit="ops",
            width=24,
        ),
        p.row("What the platform reports vs what applicants live"),
        p.timeseries(
            "Platform 5xx vs applicants' failed steps",
            "The platform's own metrics count server errors (HTTP 5xx); applicants also live refusals, lost "
            "documents and missing procedures answered 200. The gap between the two lines is the silent failures.",
            [
                Query(share(rate(_HTTP, "", _5XX), rate(_HTTP, "")), "platform: 5xx"),
                Query(
                    share(rate("anef_step_total", "", _J, _NOT_OK), rate("anef_step_total", "", _J)),
                    "applicants: steps not ok",
                ),
            ],
            unit="percentunit",
            width=16,
        ),
        p.stat(
            "Over the time range",
            "Share of the platform's answers that were 5xx, and of the applicants' steps that did not end ok.",
            [
                Query(share(total(_HTTP, "", _5XX), total(_HTTP, "")), "platform: 5xx"),
                Query(
                    share(total("anef_step_total", "", _J, _NOT_OK), total("anef_step_total", "", _J)),
                    "applicants: steps not ok",
                ),
            ],
            unit="percentunit",
            width=8,
        ),
    ]
