"""The CI gate's decision: an exit code, and why, from a campaign's judgement.

One function, ``decide``, for ``anef-harness gate`` and the end of ``anef-harness run``, so the two
never disagree (DESIGN.md): 0 every SLO met, no defect detected, no shift; 1 one of them
failed; 3 the results are partial, aborted or unfinished — the verdict is still shown and written,
but a verdict on half a run is not a verdict, whatever it says.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.evaluate import Summary
from core.exits import ExitCode
from scenarios.manifest import ManifestFile

NOT_A_VERDICT = "a verdict on half a run is not a verdict"


@dataclass(frozen=True)
class Decision:
    code: ExitCode
    reason: str | None = None  # one line, when the results are not complete


def decide(summary: Summary) -> Decision:
    """The exit code of ``run`` and ``gate`` for a judged results folder."""
    reason = incomplete(summary.status, summary.manifest)
    if reason is not None:
        return Decision(ExitCode.INFRA, f"{reason}; {NOT_A_VERDICT}")
    return Decision(ExitCode.FAILED if summary.verdict == "fail" else ExitCode.OK)


def incomplete(status: str, manifest: ManifestFile) -> str | None:
    """Why the results of a run with this status are not whole, in words; None when they are."""
    harness = _harness(manifest)
    if status == "complete":
        return None
    if status == "aborted":
        return f"partial results: {harness} stopped before the end of the run (killed or crashed)"
    if status == "interrupted":
        return "partial results: the run was interrupted (Ctrl-C or SIGTERM) before its end"
    if status == "partial":
        if manifest.killed_by_drill:
            return f"partial results: a drill killed load process(es) {', '.join(manifest.killed_by_drill)}"
        failed = [w for w in manifest.warnings if w.startswith("load process(es) failed")]
        return f"partial results: {failed[0] if failed else 'a load process stopped before the end'}"
    if status == "failed":
        return f"aborted results: the run failed ({manifest.problem or 'no reason recorded'})"
    if status == "running":
        return f"unfinished results: {harness} is still running this campaign; judge the folder once it has ended"
    return f"unfinished results: the manifest says the run is {status!r}, not complete"


def _harness(manifest: ManifestFile) -> str:
    conductor = manifest.conductor
    if conductor is None or conductor.pid is None:
        return "the harness"
    where = f" on {conductor.host}" if conductor.host else ""
    return f"the harness (pid {conductor.pid}{where})"
