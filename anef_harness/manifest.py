"""Writing ``manifest.json`` (the model is ``scenarios.manifest.ManifestFile``): started when the
run starts, rewritten atomically as the run goes."""

from __future__ import annotations

import os
import platform as host_platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from scenarios.manifest import MANIFEST, HostInfo, PopulationInfo, moment, new_manifest, process_identity

if TYPE_CHECKING:
    from anef_harness.campaign import Campaign


class Manifest:
    """``manifest.json``: seed, versions, target, times, status; ``data`` is the typed file,
    which the conductor fills in as the run goes and ``write`` saves."""

    def __init__(self, results: Path, campaign: Campaign, *, source: Path, workers: int) -> None:
        self.path = results / MANIFEST
        self.source = source
        self.data = new_manifest(
            campaign=campaign.name,
            source=str(source),
            seed=campaign.seed,
            population=PopulationInfo(size=campaign.population.size, seed=campaign.population.seed),
            reference_date=campaign.population.reference_date,
            workers=workers,
            status="running",
            started=moment(time.time()),
            versions=versions(),
            host=HostInfo(machine=host_platform.machine(), cpus=os.cpu_count(), python=sys.version.split()[0]),
            conductor=process_identity(),
        )

    def write(self) -> None:
        atomic_write(self.path, self.data.json_text())

    def finish(self, status: str, problem: str | None) -> None:
        self.data.status, self.data.ended, self.data.problem = status, moment(time.time()), problem
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
