"""A one-SLO OpenSLO file for tests of what the rules can and cannot express."""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: login-fast
spec:
  service: anef
  budgetingMethod: Occurrences
  objectives:
    - target: 0.95
  indicator:
    metadata:
      name: login-fast-sli
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: anef-harness
            spec: {good}
        total:
          metricSource:
            type: anef-harness
            spec: {total}
"""


ALERTING = """\
  timeWindow:
    - {duration: {window}, isRolling: true}
  alertPolicies:
{policies}
"""

CONDITION = """\
    - kind: AlertPolicy
      metadata: {name: policy-{number}}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: condition-{number}{annotations}}
            spec:
              severity: {severity}
              condition: {kind: burnrate, op: gte, threshold: {threshold}, lookbackWindow: {lookback}{after}}
"""


def write_slo(
    path: Path,
    *,
    good: str,
    total: str,
    window: str | None = None,
    conditions: list[dict[str, str]] | None = None,
) -> Path:
    """The one-SLO file; with ``window`` (an OpenSLO duration) and ``conditions`` (each with keys
    severity, threshold, lookback and optionally after and short), its time window and alerts."""
    text = TEMPLATE.replace("{good}", good).replace("{total}", total)
    if window is not None or conditions:
        policies = "".join(
            CONDITION.replace("{number}", str(number))
            .replace("{severity}", condition["severity"])
            .replace("{threshold}", condition["threshold"])
            .replace("{lookback}", condition["lookback"])
            .replace("{after}", f", alertAfter: {condition['after']}" if "after" in condition else "")
            .replace(
                "{annotations}",
                f", annotations: {{anef-harness/short-window: {condition['short']}}}" if "short" in condition else "",
            )
            for number, condition in enumerate(conditions or [])
        )
        text += ALERTING.replace("{window}", window or "30d").replace("{policies}", policies.rstrip("\n") or "    []")
    path.write_text(text, encoding="utf-8")
    return path
