"""The exit codes of ``anef-harness run`` and ``gate`` (DESIGN.md), the contract CI reads.

Here, in the neutral base, so that the gate's decision (``checks.gate``) and the commands that
exit with it (``anef_harness``) name the same codes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every SLO met, no defect detected, no shift against the baseline
    FAILED = 1  # an SLO breached, a defect detected or a shift against the baseline
    USAGE = 2  # invalid usage or configuration (said in one line on stderr)
    INFRA = 3  # the harness or its infrastructure failed, or the results are partial, aborted or unfinished
