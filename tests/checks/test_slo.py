"""SLO files (``checks.slo``): the shipped ``slos/anef.yaml`` is complete and evaluable, the
objectives' selectors count the right events in DuckDB, and a bad file is refused in one line
naming the file, the line, the object and the field.

Most bad cases are ``BASE`` (a small valid file) with one edit, so each refusal is caused by that
edit alone (``test_base_is_valid`` keeps that true) and the expected line is where the edit is.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

import checks.slo_catalogue as generator
from checks.slo import Objective, Selector, SloError, default_slo_path, load_slo_file, load_slos
from core.errors import ConfigError, HarnessError
from scenarios.journeys import known_steps, watch_kind

PROBES = ("security.idor", "security.upload_type", "security.enumeration", "security.reset_reuse")  # several requests
BURN_RATES = {
    ("page", 14.4, "1h", "5m"),
    ("page", 6, "6h", "30m"),
    ("ticket", 3, "1d", "2h"),
    ("ticket", 1, "3d", "6h"),
}

BASE = """\
apiVersion: openslo/v1
kind: Service
metadata:
  name: anef
---
apiVersion: openslo/v1
kind: AlertCondition
metadata:
  name: fast-burn
spec:
  severity: page
  condition:
    kind: burnrate
    op: gte
    threshold: 14.4
    lookbackWindow: 1h
    alertAfter: 5m
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: page-fast
spec:
  alertWhenBreaching: true
  conditions:
    - conditionRef: fast-burn
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: upload-ok
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: anef-harness
        spec:
          steps: [renewal.upload]
          outcomes: [ok]
    total:
      metricSource:
        type: anef-harness
        spec:
          steps: [renewal.upload]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: renewal-upload
  displayName: Renewal uploads
  labels:
    journey: renewal
    tags: [upload, documents]
spec:
  description: Uploads succeed.
  service: anef
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 28d
      isRolling: true
  indicatorRef: upload-ok
  objectives:
    - displayName: 99 % ok
      target: 0.99
  alertPolicies:
    - alertPolicyRef: page-fast
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: renewal-latency
spec:
  service: anef
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: renewal-fast
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: anef-harness
            spec:
              steps: [renewal]
              outcomes: [ok]
              max_duration_ms: 800
              channel: api
        total:
          metricSource:
            type: anef-harness
            spec:
              steps: [renewal]
  objectives:
    - displayName: fast
      targetPercent: 95
    - target: 0.9
  alertPolicies:
    - kind: AlertPolicy
      metadata:
        name: inline-ticket
      spec:
        conditions:
          - kind: AlertCondition
            metadata:
              name: slow-burn
            spec:
              severity: ticket
              condition:
                op: gt
                threshold: 1
                lookbackWindow: 3d
                alertAfter: 6h
"""

SLI_AGAIN = """\
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: upload-ok
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource: {type: anef-harness, spec: {steps: [renewal.upload], outcomes: [lost]}}
    total:
      metricSource: {type: anef-harness, spec: {steps: [renewal.upload]}}
"""


def line_of(text: str) -> int:
    """The line (from 1) of BASE where ``text`` (which must occur once) starts."""
    assert BASE.count(text) == 1, text
    return BASE[: BASE.index(text)].count("\n") + 1


def edit(old: str, new: str) -> str:
    """BASE with ``old`` (which must occur exactly once) replaced by ``new``."""
    count = BASE.count(old)
    if count != 1:
        raise AssertionError(f"BASE changed: {old!r} occurs {count} times, expected once")
    return BASE.replace(old, new)


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes | None
    """The SLO file's content (None: the file does not exist)."""
    subject: str | None
    """The object the message names (``SLO renewal-upload``); None for a problem with the whole file."""
    field_path: str | None
    """The field path after the object (under ``spec``); None when the message names no field."""
    expected: tuple[str, ...]
    """Substrings of the message."""
    line_at: str | tuple[str, str] | None = None
    """The line the message gives: the first containing this (or, for a pair, the first containing
    the second string after the first line containing the first); None: no line."""


RENEWAL_STEPS = "          steps: [renewal.upload]\n          outcomes: [ok]\n"
SLI_TOTAL = "        type: anef-harness\n        spec:\n          steps: [renewal.upload]\n---"

CASES = [
    # --- kinds, versions, names ---
    Case(
        "unknown-kind",
        edit("kind: SLI\n", "kind: Sli\n"),
        "object upload-ok",
        "kind",
        ("unknown kind 'Sli'", "did you mean 'SLI'?"),
        "kind: Sli",
    ),
    Case(
        "unknown-kind-typo",
        edit("kind: AlertPolicy\nmetadata:\n  name: page-fast", "kind: AlertPolicies\nmetadata:\n  name: page-fast"),
        "object page-fast",
        "kind",
        ("unknown kind 'AlertPolicies'", "did you mean 'AlertPolicy'?"),
        "kind: AlertPolicies",
    ),
    Case(
        "missing-kind",
        edit("kind: Service\n", ""),
        "object anef",
        "kind",
        ("Field required", "SLO, SLI"),
        "apiVersion: openslo/v1",
    ),
    Case(
        "other-api-version",
        edit("apiVersion: openslo/v1\nkind: SLI\n", "apiVersion: openslo/v1alpha\nkind: SLI\n"),
        "SLI upload-ok",
        "apiVersion",
        ("expected 'openslo/v1'", "got 'openslo/v1alpha'"),
        "openslo/v1alpha",
    ),
    Case(
        "name-not-rfc1123",
        edit("  name: renewal-upload\n", "  name: Renewal_Upload\n"),
        "SLO Renewal_Upload",
        "metadata.name",
        ("RFC 1123", "'Renewal_Upload'"),
        "name: Renewal_Upload",
    ),
    Case(
        "duplicate-slo-name",
        edit("  name: renewal-latency\n", "  name: renewal-upload\n"),
        "SLO renewal-upload",
        "metadata.name",
        ("duplicate name", f"SLO 'renewal-upload' is already defined at line {line_of('  name: renewal-upload')}"),
        ("kind: SLO\nmetadata:\n  name: renewal-upload\n  displayName", "name: renewal-upload\nspec:"),
    ),
    Case(
        "duplicate-sli-name",
        BASE + SLI_AGAIN,
        "SLI upload-ok",
        "metadata.name",
        ("duplicate name", f"SLI 'upload-ok' is already defined at line {line_of('  name: upload-ok')}"),
        ("alertAfter: 6h", "name: upload-ok"),
    ),
    # --- unknown and missing fields ---
    Case(
        "unknown-field-did-you-mean",
        edit("  indicatorRef: upload-ok\n", "  indicatorRef: upload-ok\n  alertPolicy: []\n"),
        "SLO renewal-upload",
        "alertPolicy",
        ("unknown field", "did you mean 'alertPolicies'?"),
        "alertPolicy: []",
    ),
    Case(
        "unknown-field-in-metadata",
        edit("  displayName: Renewal uploads\n", "  displayname: Renewal uploads\n"),
        "SLO renewal-upload",
        "metadata.displayname",
        ("did you mean 'displayName'?",),
        "displayname:",
    ),
    Case(
        "unknown-field-in-selector",
        edit("max_duration_ms: 800", "max_duration: 800"),
        "SLO renewal-latency",
        "indicator.spec.ratioMetric.good.metricSource.spec.max_duration",
        ("unknown field", "did you mean 'max_duration_ms'?"),
        "max_duration: 800",
    ),
    Case(
        "unknown-field-in-inline-condition",
        edit("                lookbackWindow: 3d\n", "                lookback: 3d\n"),
        "SLO renewal-latency",
        "alertPolicies.0.spec.conditions.0.spec.condition.lookback",
        ("did you mean 'lookbackWindow'?",),
        "lookback: 3d",
    ),
    Case(
        "missing-service",
        edit("  description: Uploads succeed.\n  service: anef\n", "  description: Uploads succeed.\n"),
        "SLO renewal-upload",
        "service",
        ("Field required",),
        ("tags: [upload, documents]", "spec:"),
    ),
    Case(
        "indicator-and-indicator-ref",
        edit("  name: renewal-latency\nspec:\n", "  name: renewal-latency\nspec:\n  indicatorRef: upload-ok\n"),
        "SLO renewal-latency",
        "spec",
        ("exactly one of indicator (inline) and indicatorRef",),
        ("name: renewal-latency", "spec:"),
    ),
    Case(
        "no-objectives",
        edit("  objectives:\n    - displayName: 99 % ok\n      target: 0.99\n", "  objectives: []\n"),
        "SLO renewal-upload",
        "objectives",
        ("at least 1 item",),
        "objectives: []",
    ),
    # --- targets and budgeting ---
    Case(
        "target-of-one",
        edit("      target: 0.99\n", "      target: 1\n"),
        "SLO renewal-upload",
        "objectives.0.target",
        ("strictly between 0 and 1", "got 1", "no error budget"),
        "target: 1",
    ),
    Case(
        "target-of-zero",
        edit("      target: 0.99\n", "      target: 0\n"),
        "SLO renewal-upload",
        "objectives.0.target",
        ("strictly between 0 and 1", "got 0"),
        "target: 0",
    ),
    Case(
        "target-percent-of-100",
        edit("targetPercent: 95", "targetPercent: 100"),
        "SLO renewal-latency",
        "objectives.0.targetPercent",
        ("strictly between 0 and 100", "got 100"),
        "targetPercent: 100",
    ),
    Case(
        "target-as-text",
        edit("      target: 0.99\n", "      target: high\n"),
        "SLO renewal-upload",
        "objectives.0.target",
        ("valid number", "got 'high'"),
        "target: high",
    ),
    Case(
        "target-and-target-percent",
        edit("      target: 0.99\n", "      target: 0.99\n      targetPercent: 99\n"),
        "SLO renewal-upload",
        "objectives.0",
        ("exactly one of target", "targetPercent"),
        "- displayName: 99 % ok",
    ),
    Case(
        "timeslices-budgeting",
        edit("  budgetingMethod: Occurrences\n  timeWindow:", "  budgetingMethod: Timeslices\n  timeWindow:"),
        "SLO renewal-upload",
        "budgetingMethod",
        ("Occurrences only", "Timeslices is not supported"),
        "budgetingMethod: Timeslices",
    ),
    Case(
        "budgeting-typo",
        edit("  budgetingMethod: Occurrences\n  timeWindow:", "  budgetingMethod: Ocurrences\n  timeWindow:"),
        "SLO renewal-upload",
        "budgetingMethod",
        ("unknown budgeting method 'Ocurrences'", "did you mean 'Occurrences'?"),
        "budgetingMethod: Ocurrences",
    ),
    Case(
        "calendar-window",
        edit("      isRolling: true\n", "      isRolling: false\n"),
        "SLO renewal-upload",
        "timeWindow.0",
        ("rolling windows only",),
        "- duration: 28d",
    ),
    # --- selectors: steps, journeys, outcomes, duration, channel ---
    Case(
        "unknown-step-in-sli",
        edit(RENEWAL_STEPS, RENEWAL_STEPS.replace("renewal.upload", "renewal.uplaod")),
        "SLI upload-ok",
        "ratioMetric.good.metricSource.spec.steps.0",
        ("unknown step 'renewal.uplaod'", "did you mean 'renewal.upload'?"),
        "renewal.uplaod",
    ),
    Case(
        "unknown-step-inline",
        edit(
            "              steps: [renewal]\n              outcomes",
            "              steps: [renewal.uplaod]\n              outcomes",
        ),
        "SLO renewal-latency",
        "indicator.spec.ratioMetric.good.metricSource.spec.steps.0",
        ("unknown step 'renewal.uplaod'; did you mean 'renewal.upload'?",),
        "renewal.uplaod",
    ),
    Case(
        "unknown-journey",
        edit(
            "              steps: [renewal]\n  objectives",
            "              steps: [renewl]\n  objectives",
        ),
        "SLO renewal-latency",
        "indicator.spec.ratioMetric.total.metricSource.spec.steps.0",
        ("unknown journey 'renewl'", "did you mean 'renewal'?"),
        "steps: [renewl]",
    ),
    Case(
        "unknown-outcome",
        edit(RENEWAL_STEPS, RENEWAL_STEPS.replace("[ok]", "[lsot]")),
        "SLI upload-ok",
        "ratioMetric.good.metricSource.spec.outcomes.0",
        ("unknown outcome 'lsot'", "did you mean 'lost'?"),
        "[lsot]",
    ),
    Case(
        "negative-max-duration",
        edit("max_duration_ms: 800", "max_duration_ms: -5"),
        "SLO renewal-latency",
        "indicator.spec.ratioMetric.good.metricSource.spec.max_duration_ms",
        ("greater than 0", "got -5"),
        "max_duration_ms: -5",
    ),
    Case(
        "unknown-channel",
        edit("channel: api", "channel: mobile"),
        "SLO renewal-latency",
        "indicator.spec.ratioMetric.good.metricSource.spec.channel",
        ("'api'", "'browser'", "got 'mobile'"),
        "channel: mobile",
    ),
    Case(
        "good-outside-total",
        edit(SLI_TOTAL, SLI_TOTAL.replace("renewal.upload", "renewal.submit")),
        "SLO renewal-upload",
        "indicatorRef",
        ("SLI 'upload-ok'", "good must count only events that total counts", "renewal.upload"),
        "indicatorRef: upload-ok",
    ),
    # --- metric sources ---
    Case(
        "source-type-typo",
        edit(SLI_TOTAL, SLI_TOTAL.replace("anef-harness", "anef-harnes")),
        "SLI upload-ok",
        "ratioMetric.total.metricSource",
        ("unknown metricSource type 'anef-harnes'", "did you mean 'anef-harness'?"),
        ("    total:", "metricSource:"),
    ),
    Case(
        "external-source-without-type",
        edit(SLI_TOTAL, SLI_TOTAL.replace("type: anef-harness", "metricSourceRef: null")),
        "SLI upload-ok",
        "ratioMetric.total.metricSource",
        ("give type", "or metricSourceRef"),
        ("    total:", "metricSource:"),
    ),
    Case(
        "external-source-evaluated",
        edit(SLI_TOTAL, "        type: Prometheus\n        spec:\n          query: sum(anef_step_total)\n---"),
        "SLO renewal-upload",
        "indicatorRef",
        (
            "SLI 'upload-ok'",
            "ratioMetric.total.metricSource.type 'Prometheus'",
            "this SLI mixes 'anef-harness' with 'Prometheus'",
        ),
        "indicatorRef: upload-ok",
    ),
    Case(
        "external-source-inline",
        edit(
            "            type: anef-harness\n            spec:\n              steps: [renewal]\n  objectives",
            "            type: Prometheus\n            spec:\n              query: sum(anef_step_total)\n  objectives",
        ),
        "SLO renewal-latency",
        "indicator.spec.ratioMetric.total.metricSource.type",
        ("'Prometheus'", "good, bad and total must read the same events"),
        "type: Prometheus",
    ),
    Case(
        "metric-source-not-a-mapping",
        edit("      metricSource:\n" + SLI_TOTAL, "      metricSource: everything\n---"),
        "SLI upload-ok",
        "ratioMetric.total.metricSource",
        ("expected a mapping", "got 'everything'"),
        "metricSource: everything",
    ),
    Case(
        "composite-weight",
        edit("      target: 0.99\n", "      target: 0.99\n      compositeWeight: 2\n"),
        "SLO renewal-upload",
        "objectives.0.compositeWeight",
        ("composite SLOs are not supported",),
        "compositeWeight: 2",
    ),
    Case(
        "threshold-objective",
        edit("      target: 0.99\n", "      target: 0.99\n      op: lte\n"),
        "SLO renewal-upload",
        "objectives.0.op",
        ("thresholdMetric", "not supported"),
        "op: lte",
    ),
    # --- references ---
    Case(
        "dangling-indicator-ref",
        edit("indicatorRef: upload-ok", "indicatorRef: upload-okk"),
        "SLO renewal-upload",
        "indicatorRef",
        ("no SLI named 'upload-okk'", "did you mean 'upload-ok'?"),
        "indicatorRef: upload-okk",
    ),
    Case(
        "dangling-alert-policy-ref",
        edit("alertPolicyRef: page-fast", "alertPolicyRef: page-fats"),
        "SLO renewal-upload",
        "alertPolicies.0.alertPolicyRef",
        ("no AlertPolicy named 'page-fats'", "did you mean 'page-fast'?"),
        "alertPolicyRef: page-fats",
    ),
    Case(
        "dangling-condition-ref",
        edit("conditionRef: fast-burn", "conditionRef: fast-brun"),
        "AlertPolicy page-fast",
        "conditions.0.conditionRef",
        ("no AlertCondition named 'fast-brun'", "did you mean 'fast-burn'?"),
        "conditionRef: fast-brun",
    ),
    Case(
        "unknown-service",
        edit(
            "  description: Uploads succeed.\n  service: anef\n", "  description: Uploads succeed.\n  service: anfe\n"
        ),
        "SLO renewal-upload",
        "service",
        ("no Service named 'anfe'", "did you mean 'anef'?"),
        "service: anfe",
    ),
    # --- alerting ---
    Case(
        "severity-empty",
        edit("  severity: page\n", "  severity: ''\n"),
        "AlertCondition fast-burn",
        "severity",
        ("at least 1 character",),
        "severity: ''",
    ),
    Case(
        "burn-rate-falling",
        edit("    op: gte\n", "    op: lte\n"),
        "AlertCondition fast-burn",
        "condition.op",
        ("burn rate rises", "got 'lte'"),
        "op: lte",
    ),
    Case(
        "lookback-in-words",
        edit("lookbackWindow: 1h", "lookbackWindow: 1 hour"),
        "AlertCondition fast-burn",
        "condition.lookbackWindow",
        ("5m, 1h, 30d or 1M", "got '1 hour'"),
        "lookbackWindow: 1 hour",
    ),
    Case(
        "negative-threshold",
        edit("threshold: 14.4", "threshold: -1"),
        "AlertCondition fast-burn",
        "condition.threshold",
        ("greater than 0",),
        "threshold: -1",
    ),
    Case(
        "two-conditions-in-a-policy",
        edit("    - conditionRef: fast-burn\n", "    - conditionRef: fast-burn\n    - conditionRef: fast-burn\n"),
        "AlertPolicy page-fast",
        "conditions",
        ("exactly one condition per AlertPolicy, got 2", "one AlertPolicy per burn-rate window"),
        "  conditions:",
    ),
    # --- the file itself ---
    Case(
        "invalid-yaml",
        edit("  name: anef\n", "  name: anef: again\n"),
        None,
        None,
        ("not valid YAML", "mapping values are not allowed here"),
        "name: anef: again",
    ),
    Case("empty-file", "", None, None, ("empty", "openslo/v1")),
    Case("only-comments-and-separators", "# nothing yet\n---\n---\n", None, None, ("empty",)),
    Case("file-missing", None, None, None, ("not found",)),
    Case("not-utf8", BASE.replace("Uploads succeed.", "Dépôts réussis.").encode("latin-1"), None, None, ("UTF-8",)),
    Case(
        "scalar-document",
        BASE + "---\njust a sentence\n",
        "object #7",
        None,
        ("expected an OpenSLO object", "got a YAML string"),
        "just a sentence",
    ),
    Case(
        "no-slo",
        BASE.split("---\n")[0],
        None,
        None,
        ("no SLO object in the file",),
    ),
]


def write_case(case: Case, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "slos.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    elif case.text is not None:
        path.write_text(case.text, encoding="utf-8")
    return path


def expected_prefix(case: Case, path: Path) -> str:
    where = str(path)
    if case.line_at is not None:
        assert isinstance(case.text, str)
        lines = case.text.splitlines()
        if isinstance(case.line_at, tuple):
            anchor, wanted = case.line_at
            start = case.text[: case.text.index(anchor) + len(anchor)].count("\n")
        else:
            start, wanted = 0, case.line_at
        first = wanted.splitlines()[0]
        where += f":{next(n for n in range(start, len(lines)) if first in lines[n]) + 1}"
    return (
        f"{where}: "
        + (f"{case.subject}: " if case.subject else "")
        + (f"{case.field_path}: " if case.field_path else "")
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_slo_file_is_refused_in_one_line(case: Case, tmp_path: Path) -> None:
    path = write_case(case, tmp_path)

    with pytest.raises(SloError) as raised:
        load_slos(path)

    message = str(raised.value)
    assert "\n" not in message, message
    prefix = expected_prefix(case, path)
    assert message.startswith(prefix), f"expected the message to start with {prefix!r}, got {message!r}"
    for part in case.expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_an_slo_error_is_a_config_error() -> None:
    """The CLI turns a ConfigError into one line and exit code 2: an SLO file is configuration."""
    assert issubclass(SloError, ConfigError)
    assert issubclass(SloError, HarnessError)


# --- what must pass ----------------------------------------------------------------------------


def test_base_is_valid(tmp_path: Path) -> None:
    """The cases edit BASE, so each refusal is caused by its edit alone; BASE also shows what a
    file may hold: references and inline objects, several objectives, targetPercent."""
    path = tmp_path / "slos.yaml"
    path.write_text(BASE, encoding="utf-8")

    loaded = load_slo_file(path)

    assert loaded.services == {"anef": "anef"}
    by_name = {objective.name: objective for objective in loaded.objectives}
    assert list(by_name) == ["renewal-upload", "renewal-latency/0", "renewal-latency/1"]
    upload = by_name["renewal-upload"]
    assert (upload.display_name, upload.description, upload.service) == ("99 % ok", "Uploads succeed.", "anef")
    assert (upload.target, upload.time_window) == (0.99, "28d")
    assert upload.good == Selector(frozenset({"renewal.upload"}), frozenset({"ok"}))
    assert upload.total == Selector(frozenset({"renewal.upload"}))
    assert dict(upload.labels) == {"journey": "renewal", "tags": "upload,documents"}
    assert [
        (a.name, a.severity, a.threshold, a.lookback_window, a.short_window, a.alert_after)
        for a in upload.burn_rate_alerts
    ] == [("fast-burn", "page", 14.4, "1h", "5m", "5m")]
    fast, mostly = by_name["renewal-latency/0"], by_name["renewal-latency/1"]
    renewal_steps = frozenset(known_steps()["renewal.upload"].step_names)
    assert fast.good == Selector(renewal_steps, frozenset({"ok"}), 800.0, "api")
    assert fast.total == Selector(renewal_steps)
    assert (fast.target, fast.display_name, fast.time_window) == (0.95, "fast", "30d")
    assert (mostly.target, mostly.display_name) == (0.9, "renewal-latency")
    assert [(a.name, a.severity, a.threshold) for a in fast.burn_rate_alerts] == [("slow-burn", "ticket", 1.0)]


def test_a_top_level_list_is_a_file_of_objects(tmp_path: Path) -> None:
    listed = "".join("- " + document.replace("\n", "\n  ").rstrip(" ") for document in BASE.split("---\n"))
    path = tmp_path / "slos.yaml"
    path.write_text(listed, encoding="utf-8")
    base = tmp_path / "base.yaml"
    base.write_text(BASE, encoding="utf-8")

    assert load_slos(path) == load_slos(base)


def test_star_selects_every_step_and_bad_total_becomes_good(tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(
        BASE
        + SLI_AGAIN.replace("name: upload-ok", "name: not-lost").replace("[renewal.upload]}}\n", "['*']}}\n")
        + "---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: nothing-lost}\n"
        "spec: {service: anef, budgetingMethod: Occurrences, indicatorRef: not-lost, objectives: [{target: 0.999}]}\n",
        encoding="utf-8",
    )

    objective = next(o for o in load_slos(path) if o.name == "nothing-lost")

    assert objective.total == Selector(frozenset(known_steps()))
    assert objective.good == Selector(
        frozenset(known_steps()), negated=Selector(frozenset({"renewal.upload"}), frozenset({"lost"}))
    )
    assert objective.burn_rate_alerts == ()


def test_other_tools_objects_are_kept(tmp_path: Path) -> None:
    """Valid OpenSLO the harness does not evaluate (a DataSource, a notification target, a
    Prometheus SLI no SLO uses, annotations) does not stop the file from loading."""
    path = tmp_path / "slos.yaml"
    path.write_text(
        BASE
        + """---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: prometheus, annotations: {example.org/owner: qa}}
spec: {type: Prometheus, connectionDetails: {url: "http://127.0.0.1:9090"}}
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: {name: mail}
spec: {target: email}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: live-only}
spec:
  ratioMetric:
    counter: true
    good: {metricSource: {metricSourceRef: prometheus, type: Prometheus, spec: {query: sum(good)}}}
    total: {metricSource: {metricSourceRef: prometheus, type: Prometheus, spec: {query: sum(all)}}}
""",
        encoding="utf-8",
    )

    assert [objective.name for objective in load_slos(path)] == [
        "renewal-upload",
        "renewal-latency/0",
        "renewal-latency/1",
    ]


def test_counter_is_optional_as_in_openslo_v1(tmp_path: Path) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(re.sub(r"^ *counter: true\n", "", BASE, flags=re.MULTILINE), encoding="utf-8")
    base = tmp_path / "base.yaml"
    base.write_text(BASE, encoding="utf-8")

    assert "counter" not in path.read_text()
    assert load_slos(path) == load_slos(base)


def test_unused_slis_of_any_source_are_accepted(tmp_path: Path) -> None:
    """OpenSLO lets a metric source's spec hold anything (AppDynamics has no query), and an SLI may
    be a raw ratio or a threshold: when no SLO uses it, the harness has nothing to refuse."""
    path = tmp_path / "slos.yaml"
    path.write_text(
        BASE
        + """---
apiVersion: openslo/v1
kind: SLI
metadata: {name: app-dynamics}
spec:
  ratioMetric:
    bad: {metricSource: {type: AppDynamics, spec: {applicationName: my-app, metricPath: Slow}}}
    total: {metricSource: {type: AppDynamics, spec: {applicationName: my-app, metricPath: All}}}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: raw-ratio}
spec:
  ratioMetric:
    rawType: success
    raw: {metricSource: {metricSourceRef: prometheus, spec: {query: avg(ratio)}}}
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: lag}
spec:
  thresholdMetric: {metricSource: {type: Prometheus, spec: {query: max(lag)}}}
""",
        encoding="utf-8",
    )

    loaded = load_slo_file(path)

    assert [objective.name for objective in loaded.objectives] == [
        "renewal-upload",
        "renewal-latency/0",
        "renewal-latency/1",
    ]
    assert loaded.kinds["SLI"] == 4
    assert loaded.external == ()


def test_an_slo_over_another_tools_metrics_is_valid_but_not_evaluated(tmp_path: Path) -> None:
    prometheus = "{metricSource: {type: Prometheus, spec: {query: sum(requests)}}}"
    path = tmp_path / "slos.yaml"
    path.write_text(
        BASE
        + f"""---
apiVersion: openslo/v1
kind: SLO
metadata: {{name: web}}
spec:
  service: anef
  budgetingMethod: Occurrences
  indicator:
    metadata: {{name: web-ok}}
    spec: {{ratioMetric: {{good: {prometheus}, total: {prometheus}}}}}
  objectives: [{{target: 0.99}}]
""",
        encoding="utf-8",
    )

    loaded = load_slo_file(path)
    with pytest.raises(SloError) as raised:
        load_slos(path)

    assert [(slo.name, slo.sources) for slo in loaded.external] == [("web", ("Prometheus",))]
    assert len(loaded.objectives) == 3
    message = str(raised.value)
    assert message.startswith(f"{path}:")
    assert "SLO web: indicator.spec.ratioMetric.good.metricSource.type: 'Prometheus': the SLO reads another" in message
    assert "'anef-harness slo check' accepts it" in message


# --- the shipped file ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> list[Objective]:
    return load_slos(default_slo_path())


def test_default_path_is_the_shipped_file() -> None:
    assert default_slo_path() == Path(__file__).resolve().parents[2] / "slos" / "anef.yaml"


def test_shipped_file_has_an_availability_objective_for_every_step(shipped: list[Objective]) -> None:
    names = [objective.name for objective in shipped]
    assert len(names) == len(set(names))
    for step in known_steps():
        matching = [
            o for o in shipped if o.good == Selector(frozenset({step}), frozenset({"ok"})) and o.total.steps == {step}
        ]
        assert matching, f"no availability objective for {step}"
        assert any(o.target == 0.99 and o.total == Selector(frozenset({step})) for o in matching), step


def test_shipped_file_has_a_latency_objective_for_every_request(shipped: list[Objective]) -> None:
    for step in known_steps():
        latency = [o for o in shipped if o.good == Selector(frozenset({step}), frozenset({"ok"}), 800.0)]
        if watch_kind(step) is not None:
            assert not latency, f"{step} is a watch: time to consistency, not a request"
        elif step in PROBES:
            assert not latency, f"{step} is a security probe: several requests, not one"
        else:
            assert [o.target for o in latency] == [0.95], step


def test_shipped_file_has_the_defect_objectives(shipped: list[Objective]) -> None:
    by_name = {objective.name: objective for objective in shipped}
    reset = by_name["reset-email-within-5-minutes"]
    mail = frozenset({"password_reset.email", "security.email", "security.enumeration_email"})
    assert reset.good == Selector(mail, frozenset({"ok"}), 300_000.0)
    assert reset.target == 0.99
    documents = frozenset({"renewal.reconcile", "upload.reconcile", "address_change.reconcile"})
    assert by_name["documents-reach-the-prefecture"].good == Selector(documents, frozenset({"ok"}))
    assert by_name["documents-reach-the-prefecture"].target == 0.999
    lost = by_name["no-lost-documents"]
    assert lost.total == Selector(documents)
    assert lost.good == Selector(documents, negated=Selector(documents, frozenset({"lost"})))
    assert lost.target == 0.99999
    for name in ("procedures-reach-the-prefecture", "agent-requests-visible", "card-handover-visible"):
        assert by_name[name].target == 0.999


def test_every_shipped_objective_has_the_four_burn_rate_alerts(shipped: list[Objective]) -> None:
    for objective in shipped:
        alerts = {(a.severity, a.threshold, a.lookback_window, a.short_window) for a in objective.burn_rate_alerts}
        assert alerts == BURN_RATES, objective.name
        assert {a.alert_after for a in objective.burn_rate_alerts} == {"0m"}, objective.name
        assert (objective.service, objective.time_window) == ("anef", "30d")


def test_defect_watch_objectives_count_the_background_agents_watches(shipped: list[Objective]) -> None:
    by_name = {objective.name: objective for objective in shipped}
    assert by_name["card-handover-visible"].total.steps == {"card_handover.visible", "agent.handover_visible"}
    assert by_name["agent-requests-visible"].total.steps == {"agent_request.visible", "agent.complements_visible"}


def test_generator_is_in_sync_with_the_shipped_file() -> None:
    """A new step must get its SLOs: run ``python slos/generate.py`` and commit the file."""
    assert generator.render() == default_slo_path().read_text(encoding="utf-8"), "run: python slos/generate.py"
    assert generator.main(["--check"]) == 0


def test_the_generated_file_does_not_depend_on_which_journey_module_a_process_imports_first() -> None:
    # A process that imported the background agents' journeys first (as their tests do) registered
    # the agent journey before the applicant's: the file came out in another order.
    script = (
        "import scenarios.journeys.security, scenarios.journeys.background\n"
        "import checks.slo_catalogue as generator\n"
        "from checks.slo import default_slo_path\n"
        "raise SystemExit(0 if generator.render() == default_slo_path().read_text(encoding='utf-8') else 1)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


# --- selectors in DuckDB -------------------------------------------------------------------


@pytest.fixture
def events() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("CREATE TABLE events (step VARCHAR, outcome VARCHAR, duration_ms DOUBLE, channel VARCHAR)")
    connection.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?)",
        [
            ("login.submit", "ok", 120.0, "api"),
            ("login.submit", "ok", 950.0, "api"),  # ok, but slow
            ("login.submit", "ok", 800.0, "browser"),  # exactly at the bound: fast enough
            ("login.submit", "error", 30.0, "api"),
            ("login.submit", "timeout", 10_000.0, "api"),
            ("login.dashboard", "ok", 100.0, "api"),
            ("renewal.reconcile", "ok", 4_000.0, "api"),
            ("renewal.reconcile", "lost", 60_000.0, "api"),
            ("upload.reconcile", "corrupt", 2_000.0, "api"),
            ("address_change.reconcile", "ok", 3_000.0, "browser"),
            ("address_change.reconcile", "lost", None, "api"),
            ("renewal.upload", "ok", None, None),
        ],
    )
    yield connection
    connection.close()


def count(connection: duckdb.DuckDBPyConnection, selector: Selector) -> int:
    row = connection.execute(f"SELECT count(*) FILTER (WHERE {selector.sql()}) FROM events").fetchone()
    assert row is not None
    return int(row[0])


def test_every_shipped_selector_is_valid_sql(shipped: list[Objective], events: duckdb.DuckDBPyConnection) -> None:
    for objective in shipped:
        good, total = count(events, objective.good), count(events, objective.total)
        assert 0 <= good <= total, objective.name


def test_selectors_count_the_right_events(shipped: list[Objective], events: duckdb.DuckDBPyConnection) -> None:
    by_name = {objective.name: objective for objective in shipped}
    availability = by_name["login-submit-availability"]
    assert (count(events, availability.good), count(events, availability.total)) == (3, 5)
    latency = by_name["login-submit-latency"]
    assert (count(events, latency.good), count(events, latency.total)) == (2, 5)
    lost = by_name["no-lost-documents"]  # bad/total: good = total and not bad
    assert (count(events, lost.good), count(events, lost.total)) == (3, 5)
    arrived = by_name["documents-reach-the-prefecture"]
    assert (count(events, arrived.good), count(events, arrived.total)) == (2, 5)


def test_selector_sql_quotes_literals_and_ignores_nulls(events: duckdb.DuckDBPyConnection) -> None:
    events.execute("INSERT INTO events VALUES ('it''s.odd', 'ok', 1.0, 'api')")
    odd = Selector(frozenset({"it's.odd"}), frozenset({"ok"}), channel="api")
    assert count(events, odd) == 1
    assert count(events, Selector(frozenset({"x') OR TRUE OR ('"}))) == 0
    upload = Selector(frozenset({"renewal.upload"}))
    assert count(events, upload) == 1
    assert count(events, replace_channel(upload, "api")) == 0  # a NULL channel is not api
    assert count(events, Selector(frozenset({"renewal.upload"}), max_duration_ms=1.0)) == 0
    assert (
        count(
            events,
            Selector(
                frozenset({"renewal.upload"}), negated=Selector(frozenset({"renewal.upload"}), max_duration_ms=1.0)
            ),
        )
        == 1
    )


def replace_channel(selector: Selector, channel: str) -> Selector:
    return Selector(selector.steps, selector.outcomes, selector.max_duration_ms, channel, selector.negated)
