"""One live judgement of a running campaign's results folder, in a process of its own.

    python -m checks.live_pass FOLDER

The conductor judges what a campaign recorded so far every few seconds (``dashboards.live``): the
defects detected and the rights at risk, no SLOs. Each pass loads the folder into DuckDB, and a
process that did so keeps more resident memory after every pass (DuckDB's allocator, a folder that
grows), so the conductor would grow with the campaign. A pass in a short-lived process of its own
gives all of it back to the system when it exits. It prints one line of JSON (``LivePass``); a
folder it cannot judge is one line on stderr and exit 1. It imports only what these two figures
need (no SLOs, no shift statistics), so that starting it costs little.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from checks.defects import DETECTOR_PREFILTER, Findings
from checks.rights import rights_in_folder
from checks.store import Results

MODULE = "checks.live_pass"


class LivePass(BaseModel):
    """What one live pass found: detections per defect, and applicants whose rights are at risk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defects: dict[str, int]
    at_risk: int


def live_pass(folder: Path) -> LivePass:
    """Judge what the folder holds so far, as the final judgement counts defects and rights at risk."""
    with Results(folder) as results:
        findings = Findings().extend(results.events_where(DETECTOR_PREFILTER))
        rights = rights_in_folder(results, folder)
    return LivePass(defects=dict(findings.counts), at_risk=rights.count if rights is not None else 0)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1:
        print(f"usage: python -m {MODULE} FOLDER", file=sys.stderr)
        return 2
    try:
        found = live_pass(Path(args[0]))
    except Exception as exc:  # a torn folder mid-run: one line for the conductor's warning, no traceback
        text = str(exc).strip()
        print(text.splitlines()[0] if text else type(exc).__name__, file=sys.stderr)
        return 1
    print(found.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
