"""The gate's judgement as JUnit XML, for CI pages (GitLab, Jenkins, GitHub Actions reporters).

Layout (docs/ci.md tells it to users): four suites, each with the run's properties —
``run`` (one case, ``complete``: an error when the results are partial, aborted or unfinished),
``slos`` (one case per SLO of the SLO file), ``defects`` (one case per declared defect) and
``shifts`` (two cases per step against the baseline: ``STEP latency shift``
and ``STEP failure_rate shift``, a failure when flagged, skipped with their reason when not tested:
no baseline, or too few attempts). The set of cases depends on the SLO file and the
harness's version, never on what happened in the run, so a CI page compares runs case by case.

Every failure says what failed in words, in its ``message`` (one line) *and* in its text (GitLab
shows only the text). Every case's ``time`` is the evaluated window — the load's duration, over
which every SLO, detector and shift is judged — and so is each suite's (its cases are
judged over the same window, not one after another). Suites carry the window's start as
``timestamp`` (UTC, as the Ant schema wants it: no zone), the harness's host as ``hostname``.
The file is valid against the Apache Ant JUnit schema and Jenkins' junit-10.xsd (tested).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from checks.defects import DETECTORS
from checks.evaluate import GATING_DEFECTS, SloResult, Summary
from checks.gate import incomplete
from checks.shift import ShiftBounds, ShiftCheck
from checks.summary import DefectSample

JUNIT = "junit.xml"
# XML 1.0 cannot carry most control characters: a platform message holding one must not make the
# whole file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class _Suite:
    name: str
    cases: list[ET.Element] = field(default_factory=list)
    out: list[str] = field(default_factory=list)  # the suite's system-out

    def case(self, name: str, classname: str, seconds: float) -> ET.Element:
        element = ET.Element("testcase", {"name": name, "classname": classname, "time": _seconds(seconds)})
        self.cases.append(element)
        return element

    def count(self, tag: str) -> int:
        return sum(1 for case in self.cases if case.find(tag) is not None)


def junit(summary: Summary) -> ET.Element:
    """The summary as a JUnit ``testsuites`` element: suites ``run``, ``slos``, ``defects``, ``shifts``."""
    seconds = _window_seconds(summary)
    suites = [
        _run(summary, seconds),
        _slos(summary, seconds),
        _defects(summary, seconds),
        _shifts(summary, seconds),
    ]
    root = ET.Element("testsuites")
    properties = _properties(summary, seconds)
    for number, suite in enumerate(suites):
        element = ET.SubElement(
            root,
            "testsuite",
            {
                "name": suite.name,
                "package": f"anef-harness.{summary.campaign}",
                "id": str(number),
                "timestamp": _timestamp(summary),
                "hostname": _hostname(summary),
                "tests": str(len(suite.cases)),
                "failures": str(suite.count("failure")),
                "errors": str(suite.count("error")),
                "skipped": str(suite.count("skipped")),
                "time": _seconds(seconds),
            },
        )
        listed = ET.SubElement(element, "properties")
        for name, value in properties:
            ET.SubElement(listed, "property", {"name": name, "value": _clean(value)})
        element.extend(suite.cases)
        ET.SubElement(element, "system-out").text = _clean("\n".join(suite.out)) if suite.out else ""
        ET.SubElement(element, "system-err").text = ""
    ET.indent(root)
    return root


def write_junit(summary: Summary, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    ET.ElementTree(junit(summary)).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path


# --- the suites ------------------------------------------------------------------------------


def _run(summary: Summary, seconds: float) -> _Suite:
    suite = _Suite("run")
    case = suite.case("complete", "run", seconds)
    reason = incomplete(summary.status, summary.manifest)
    if reason is not None:
        accounting = summary.accounting
        text = (
            f"{reason}.\n"
            f"run status: {summary.status}\n"
            f"recorded: {accounting.outcomes} step outcome(s), {accounting.unfinished} of them attempts left open "
            "and closed as errors\n"
            "The verdict below judges only what was recorded: the gate exits 3, not 0 or 1."
        )
        _result(case, "error", "partial_results", reason, text)
    return suite


def _slos(summary: Summary, seconds: float) -> _Suite:
    suite = _Suite("slos")
    for slo in summary.slos:
        case = suite.case(slo.name, "slo", seconds)
        if slo.sli is None:
            why = f"no attempts in this campaign count for {slo.name}: nothing to judge"
            _result(case, "skipped", None, why, why)
        elif not slo.met:
            _result(case, "failure", "slo_breached", _slo_message(slo), _slo_text(slo, seconds))
    return suite


def _slo_message(slo: SloResult) -> str:
    sli, burn = slo.sli or 0.0, slo.burn_rate or 0.0  # a breached SLO has both
    return (
        f"SLO {slo.name} breached: {sli:.3%} of attempts good ({slo.good} of {slo.total}), "
        f"objective {slo.objective:.3%}; burn rate {burn:.2f} (the error budget spent {burn:.1f} times over)"
    )


def _slo_text(slo: SloResult, seconds: float) -> str:
    sli, burn = slo.sli or 0.0, slo.burn_rate or 0.0
    bad = slo.total - slo.good
    allowed = (1 - slo.objective) * slo.total
    return "\n".join(
        [
            f"SLO {slo.name} breached" + (f": {slo.display_name}" if slo.display_name else ""),
            f"SLI: {sli:.3%} of attempts good ({slo.good} good of {slo.total}, {bad} bad)",
            f"objective: {slo.objective:.3%} good (error budget: {allowed:.1f} bad attempt(s) of {slo.total})",
            f"burn rate: {burn:.2f}: the campaign spent its error budget {burn:.1f} times over "
            "(1 = exactly the budget)",
            f"window: {_seconds(seconds)} s, the whole campaign",
        ]
    )


def _defects(summary: Summary, seconds: float) -> _Suite:
    suite = _Suite("defects")
    for defect in sorted(DETECTORS):
        case = suite.case(defect, "defect", seconds)
        count = summary.findings.counts.get(defect, 0)
        if not count:
            continue
        samples = [DefectSample.model_validate(s) for s in summary.findings.samples.get(defect, [])]
        incidents = summary.findings.incidents.get(defect, count)
        seen = f"detected {incidents} time(s) ({count} symptom(s))"
        if defect in GATING_DEFECTS:
            first = samples[0] if samples else DefectSample()
            message = f"{defect}: {DETECTORS[defect].title}; {seen}; first: {_sample_line(first, summary)}"
            text = _defect_text(defect, seen, samples, summary)
            _result(case, "failure", "defect_detected", message, text)
        else:  # a generic fault: reported, judged through the SLOs
            suite.out.append(f"{defect} ({DETECTORS[defect].title}): {seen}; a generic fault, judged through the SLOs")
            suite.out.extend(f"  {_sample_line(s, summary)}" for s in samples)
    return suite


def _defect_text(defect: str, seen: str, samples: list[DefectSample], summary: Summary) -> str:
    declared = DETECTORS[defect]
    lines = [
        f"{defect}: {declared.title}",
        f"what the applicant lives: {declared.lives.en}",
        f"{seen}; one detection fails the gate",
        "",
        f"first {len(samples)} symptom(s), as the harness saw them:",
    ]
    for sample in samples:
        lines.append(f"- {_sample_line(sample, summary)}")
        if sample.message:
            lines.append(f"  what was seen: {sample.message}")
        ids = ", ".join(f"{key} {value}" for key, value in sample.evidence.items() if value)
        if ids:
            lines.append(f"  ids: {ids}")
    return "\n".join(lines)


def _sample_line(sample: DefectSample, summary: Summary) -> str:
    who = "an applicant" if sample.applicant is None else f"applicant {sample.applicant}"
    if sample.applicant_id:
        who += f" (platform id {sample.applicant_id})"
    when = ""
    window = summary.window
    if sample.time is not None and window is not None:
        when = f", {sample.time - window[0]:.1f} s after the start"
    return f"{who} at step {sample.step or '?'}{when}: {sample.why or sample.title}"


def _shifts(summary: Summary, seconds: float) -> _Suite:
    report = summary.shift
    suite = _Suite("shifts")
    suite.out.append(report.headline())
    for check in report.checks:
        case = suite.case(check.name, "shift", seconds)
        if check.skipped is not None:
            _result(case, "skipped", None, check.skipped, check.skipped)
        elif check.flagged:
            message = f"{check.what.replace('_', ' ')} shift: {check.line(report.bounds)}"
            bounds = report.bounds
            text = "\n".join(
                [
                    message,
                    f"baseline: {report.baseline.folder} ({report.baseline.origin})",
                    f"common drift of the acting steps: x{report.drift:.2f} (factored out of latency)",
                    f"flagged: adjusted p below {bounds.alpha:g} and the {bounds.confidence:.0%} interval's lower "
                    f"end beyond the bound ({_bound_words(check, bounds)}); campaign file: shift",
                ]
            )
            _result(case, "failure", "shift", message, text)
    return suite


def _bound_words(check: ShiftCheck, bounds: ShiftBounds) -> str:
    """The bound the check was held to: the campaign's, or a watch's wait between two looks."""
    words = bounds.words(check.what)
    if check.what == "latency" and check.bound > bounds.min_latency_shift_ms:
        return f"{words}; for this watch +{check.bound:g} ms, the wait after the look at the baseline's band"
    return words


# --- attributes ------------------------------------------------------------------------------


def _result(case: ET.Element, tag: str, kind: str | None, message: str, text: str) -> None:
    attributes = {"message": _clean(message)}
    if kind is not None:
        attributes["type"] = kind
    ET.SubElement(case, tag, attributes).text = _clean(text)


def _properties(summary: Summary, seconds: float) -> list[tuple[str, str]]:
    manifest = summary.manifest
    target = manifest.target
    where = "unknown"
    if target is not None:
        where = f"embedded ({target.url})" if target.embedded else target.url or "unknown"
    found = [
        ("campaign", summary.campaign),
        ("status", summary.status),
        ("verdict", summary.verdict),
        ("partial", "true" if summary.partial else "false"),
        ("seed", "" if manifest.seed is None else str(manifest.seed)),
        ("target", where),
        ("harness_version", manifest.versions.get("anef-harness", "unknown")),
        ("window_s", _seconds(seconds)),
    ]
    if summary.shift.baseline.folder is not None:
        found.append(("baseline", str(summary.shift.baseline.folder)))
    return found


def _window_seconds(summary: Summary) -> float:
    window = summary.window
    return 0.0 if window is None else window[1] - window[0]


def _timestamp(summary: Summary) -> str:
    window = summary.window
    if window is not None:
        at = datetime.fromtimestamp(window[0], UTC)
    elif summary.manifest.started is not None:
        at = summary.manifest.started.astimezone(UTC)
    else:
        at = datetime.now(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S")


def _hostname(summary: Summary) -> str:
    conductor = summary.manifest.conductor
    return conductor.host if conductor is not None and conductor.host else "localhost"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
