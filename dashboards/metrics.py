"""The harness's Prometheus metrics (DESIGN.md, "Metrics", harness side), declared once on an
explicit registry.

They are fed from the campaign's step events, which every load process writes to the results
folder: the conductor tails those files and exposes one endpoint with the whole campaign's
figures, however many workers run (Prometheus needs no ``sum`` across workers, and a worker that
dies loses nothing already written). Defects and rights at risk come from judging what was
recorded so far (``update_judgement``), never from the platform's ledger.

``anef_step_duration_seconds`` observes the attempts that ended ``ok``: a failure's duration is
usually its timeout, and it would blur the percentiles; failures are counted by
``anef_step_total``. A latency SLO ("ok within 800 ms") is then the ratio of a bucket of the
histogram to the step total, which is what the generated rules compute. Its buckets include the
Observatoire's page-load bands (400 ms and 800 ms; shared/reference-data.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from scenarios.events import Event, JourneyEvent, Outcome, StepEvent
from scenarios.journeys import watch_kind

DURATION_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass
class HarnessMetrics:
    """The harness's metrics on their own registry."""

    registry: CollectorRegistry
    steps: Counter
    step_duration: Histogram
    journeys: Counter
    reconcile_lag: Histogram
    defects: Counter
    at_risk: Gauge
    campaign: Gauge
    _defects_seen: dict[str, int] = field(default_factory=dict)

    def observe(self, event: Event) -> None:
        """Count one step or journey event (attempts announced or withdrawn count nothing)."""
        if isinstance(event, StepEvent):
            self.steps.labels(event.journey, event.step, event.outcome.value).inc()
            if event.outcome is Outcome.OK:
                self.step_duration.labels(event.journey, event.step).observe(event.seconds)
                if watch_kind(event.step) is not None:  # a time to consistency
                    self.reconcile_lag.labels(event.journey, event.step).observe(event.seconds)
        elif isinstance(event, JourneyEvent):
            self.journeys.labels(event.journey, event.outcome.value, event.failed_step or "").inc()

    def observe_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.observe(event)

    def update_judgement(self, defects: Mapping[str, int], at_risk: int) -> None:
        """Bring the defect counters up to the counts found so far, and set the rights at risk.

        Counters only rise: a count lower than before (a judgement on fewer events) is ignored."""
        for defect, count in defects.items():
            seen = self._defects_seen.get(defect, 0)
            if count > seen:
                self.defects.labels(defect).inc(count - seen)
                self._defects_seen[defect] = count
            elif defect not in self._defects_seen:
                self.defects.labels(defect)  # a zero series, so dashboards show the defect as absent
                self._defects_seen[defect] = 0
        self.at_risk.set(at_risk)


def build_metrics(campaign: str = "", run_id: str = "") -> HarnessMetrics:
    """A fresh set of the harness's metrics on a new registry."""
    disable_created_metrics()  # type: ignore[no-untyped-call]  # the ``_created`` series double every counter for no dashboard's use
    registry = CollectorRegistry(auto_describe=True)
    metrics = HarnessMetrics(
        registry=registry,
        steps=Counter(
            "anef_step",
            "Step attempts of the synthetic applicants' journeys, by outcome (ok, error, timeout, blocked, "
            "lost, corrupt, missing).",
            ["journey", "step", "outcome"],
            registry=registry,
        ),
        step_duration=Histogram(
            "anef_step_duration_seconds",
            "Duration of the step attempts that ended ok (for a watch step: the time to consistency).",
            ["journey", "step"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        ),
        journeys=Counter(
            "anef_journey",
            "Journeys ended, by outcome (ok, failed, abandoned, skipped) and the step where they failed.",
            ["journey", "outcome", "failed_step"],
            registry=registry,
        ),
        reconcile_lag=Histogram(
            "anef_reconcile_lag_seconds",
            "Time until an effect appeared on the other side of the seam (prefecture, dashboard, mailbox).",
            ["journey", "step"],
            buckets=LAG_BUCKETS,
            registry=registry,
        ),
        defects=Counter(
            "anef_defect_detected",
            "Documented defects and generic faults detected from what applicants and agents observed.",
            ["defect"],
            registry=registry,
        ),
        at_risk=Gauge(
            "anef_applicants_at_risk",
            "Projection: synthetic applicants whose renewal failed and whose card expires before a next "
            "attempt could succeed.",
            registry=registry,
        ),
        campaign=Gauge(
            "anef_campaign_info",
            "The campaign being run (always 1).",
            ["campaign", "run_id"],
            registry=registry,
        ),
    )
    metrics.at_risk.set(0)
    if campaign or run_id:
        metrics.campaign.labels(campaign, run_id).set(1)
    return metrics
