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


def write_slo(path: Path, *, good: str, total: str) -> Path:
    path.write_text(TEMPLATE.replace("{good}", good).replace("{total}", total), encoding="utf-8")
    return path
