"""The CI gate: a verdict and an exit code from a campaign's summary, and JUnit XML for CI tools.

Exit codes (DESIGN.md): 0 every SLO met and no defect detected; 1 an SLO breached, a defect
detected or a regression against the baseline. JUnit has one test case per SLO, per defect class
and per regressed step, so a CI page lists what broke by name.
"""

from __future__ import annotations

from pathlib import Path

from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from checks.defects import DETECTORS
from checks.evaluate import GATING_DEFECTS, Summary

EXIT_PASS, EXIT_FAIL = 0, 1


def exit_code(summary: Summary) -> int:
    return EXIT_FAIL if summary.verdict == "fail" else EXIT_PASS


def junit(summary: Summary) -> JUnitXml:
    """The summary as JUnit XML: suites ``slos``, ``defects`` and ``regressions``."""
    xml = JUnitXml(f"anef-harness {summary.campaign}")
    xml.add_testsuite(_slos(summary))
    xml.add_testsuite(_defects(summary))
    if summary.regressions:
        xml.add_testsuite(_regressions(summary))
    return xml


def _slos(summary: Summary) -> TestSuite:
    suite = TestSuite("slos")
    for slo in summary.slos:
        case = TestCase(slo.name, classname="slo")
        if slo.sli is None:
            case.result = [Skipped("no events for this SLO in the campaign")]
        elif not slo.met:
            message = (
                f"SLI {slo.sli:.4%} below objective {slo.objective:.4%} ({slo.good}/{slo.total} good); "
                f"burn rate {slo.burn_rate:.2f}"
            )
            case.result = [Failure(message, "slo_breached")]
        suite.add_testcase(case)
    return suite


def _defects(summary: Summary) -> TestSuite:
    suite = TestSuite("defects")
    for defect in sorted(DETECTORS):
        case = TestCase(defect, classname="defect")
        count = summary.findings.counts.get(defect, 0)
        samples = "\n".join(str(s) for s in summary.findings.samples.get(defect, []))
        if count and defect in GATING_DEFECTS:
            sample = summary.findings.samples.get(defect, [{}])[0]
            failure = Failure(f"detected {count} time(s): {sample.get('why', '')}", "defect_detected")
            failure.text = samples
            case.result = [failure]
        elif count:  # a generic fault: reported, judged through the SLOs
            case.system_out = f"observed {count} time(s); judged through the SLOs\n{samples}"
        suite.add_testcase(case)
    return suite


def _regressions(summary: Summary) -> TestSuite:
    suite = TestSuite("regressions")
    for regression in summary.regressions:
        case = TestCase(f"{regression.step} {regression.what}", classname="regression")
        message = f"{regression.what} {regression.now:g} against {regression.baseline:g} in the baseline"
        case.result = [Failure(message, "regression")]
        suite.add_testcase(case)
    return suite


def write_junit(summary: Summary, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit(summary).write(str(path), pretty=True)
    return path
