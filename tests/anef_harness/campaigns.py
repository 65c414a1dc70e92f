"""Helpers for campaign tests: derive campaign files from the shipped ones, run the CLI, read results."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def campaign(tmp_path: Path, base: str = "smoke", name: str = "test", **changes: Any) -> Path:
    """A copy of a shipped campaign with top-level sections replaced, or merged for the sections
    of settings (population, load, journey_settings, agents); journeys and faults are replaced."""
    data = yaml.safe_load((ROOT / "campaigns" / f"{base}.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key not in ("journeys", "faults") and isinstance(value, dict) and isinstance(data.get(key), dict):
            merged = copy.deepcopy(data[key])
            merged.update(value)
            data[key] = merged
        else:
            data[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def availability_slos(tmp_path: Path) -> Path:
    """The shipped SLOs without the latency objectives, for tests that judge a fault-free run.

    Their subject is that every step ends ok and the verdict passes; a latency objective judged
    on a dozen events from a 2-core machine shared with other campaigns, Chromium and pytest's
    workers measures the machine, not the platform. The latency SLOs have their own tests
    (``tests/checks``)."""
    documents = yaml.safe_load_all((ROOT / "slos" / "anef.yaml").read_text(encoding="utf-8"))
    kept = [d for d in documents if d and d.get("metadata", {}).get("labels", {}).get("objective") != "latency"]
    path = tmp_path / "availability-slos.yaml"
    path.write_text(yaml.safe_dump_all(kept, sort_keys=False), encoding="utf-8")
    return path


def run(*args: str | Path, timeout: float = 240.0, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    """``anef-harness run …`` in a child process, as a user would type it (stdout and stderr are
    pipes: not a terminal)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "anef_harness",
            "run",
            *map(str, args),
            *(["--quiet"] if quiet else []),
            "--metrics-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def events(results: Path, kind: str = "step") -> list[dict[str, Any]]:
    found = []
    for path in sorted((results / "events").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["kind"] == kind:
                found.append(event)
    return found


def summary(results: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((results / "summary.json").read_text(encoding="utf-8"))
    return loaded
