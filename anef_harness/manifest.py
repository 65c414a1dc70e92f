"""``manifest.json``: what a run was (seed, versions, target, host, the harness's process) and how
it went (times, fault changes and drills as applied, status), rewritten atomically as the run goes."""

from __future__ import annotations

import json
import os
import platform as host_platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.store import RESULTS_FORMAT, process_identity

if TYPE_CHECKING:
    from anef_harness.campaign import Campaign


class Manifest:
    """``manifest.json``: seed, versions, target, times, status; rewritten as the run goes."""

    def __init__(self, results: Path, campaign: Campaign, *, source: Path, workers: int) -> None:
        self.path = results / "manifest.json"
        self.source = source
        self.data: dict[str, Any] = {
            "format": RESULTS_FORMAT,
            "campaign": campaign.name,
            "source": str(source),
            "seed": campaign.seed,
            "population": {"size": campaign.population.size, "seed": campaign.population.seed},
            "reference_date": campaign.population.reference_date.isoformat(),
            "workers": workers,
            "status": "running",
            "started": iso(time.time()),
            "versions": versions(),
            "host": {"machine": host_platform.machine(), "cpus": os.cpu_count(), "python": sys.version.split()[0]},
            # Tells report and gate whether a "running" folder is still being written or was left
            # by a harness that was killed.
            "conductor": process_identity(),
        }

    def write(self) -> None:
        atomic_write(self.path, json.dumps(self.data, indent=1))

    def finish(self, status: str, problem: str | None) -> None:
        self.data.update(status=status, ended=iso(time.time()), problem=problem)
        self.write()


def versions() -> dict[str, str]:
    found = {}
    for package in ("anef-harness", "locust", "playwright", "fastapi", "sqlalchemy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
