"""The results folder, created (or refused) before anything starts: a folder that cannot be
written, or whose disk has not the room the campaign needs, stops the run before any load."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from anef_harness.campaign import Campaign
from core.errors import HarnessError

# Space a campaign's results take, per virtual user and second of load (events, logs, the
# embedded platform's data): measured on the shipped campaigns, with a margin.
BYTES_PER_USER_SECOND = 4096
MIN_FREE_BYTES = 64 * 2**20


def needed_bytes(campaign: Campaign) -> int:
    users = campaign.load.users + campaign.agents.users + campaign.browser.users
    return MIN_FREE_BYTES + int(BYTES_PER_USER_SECOND * users * campaign.duration)


def results_dir(campaign: Campaign, out: Path | None) -> Path:
    """Create the results folder, or refuse (before any load) one that cannot be written or
    whose disk has not the room the campaign needs."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out or campaign.outputs.root / f"{campaign.name}-{stamp}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".writable"
        with probe.open("wb") as handle:
            handle.write(b"\0" * 65536)  # a full disk fails here, not on the first event
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise HarnessError(f"{folder}: cannot write the results folder ({exc.strerror or exc})") from None
    needed = needed_bytes(campaign)
    if free < needed:
        raise HarnessError(
            f"{folder}: {free / 2**20:.0f} MiB free on its disk, the campaign needs about {needed / 2**20:.0f} MiB "
            "(events, logs, platform data); free some space or choose another --out"
        )
    return folder
