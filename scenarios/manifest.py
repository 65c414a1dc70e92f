"""``manifest.json``, one model for the harness that writes it and every reader (judgement, scoring,
report, history, the CLI): what a run was (seed, versions, target, host, the harness's process) and
how it went (times, fault changes and drills as applied, status).

It lives beside the step events because both are contracts of the results folder that load
processes, judgement and the report share; the writer (``anef_harness``) and the readers
(``checks``, ``dashboards``) may all import from here. Readers ignore fields added later and take
the defaults for fields a previous harness did not write. Times are written as ISO 8601 in UTC
with milliseconds, as they always were.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError

from core.errors import ConfigError
from scenarios.events import FORMAT as EVENTS_FORMAT

RESULTS_FORMAT = 1  # manifest.json "format": bumped when the folder's layout changes
MANIFEST = "manifest.json"

# A moment as the manifest has always written it: "2025-03-01T10:00:00.123+00:00".
Moment = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(timespec="milliseconds"), when_used="json")]


def moment(epoch: float) -> datetime:
    """An epoch time as a manifest moment (UTC)."""
    return datetime.fromtimestamp(epoch, UTC)


class _Part(BaseModel):
    # A reader of a file other versions write: fields added later are ignored, never fatal.
    model_config = ConfigDict(extra="ignore")


class ProcessIdentity(_Part):
    """What tells a process from a later one that reuses its pid."""

    host: str = ""
    pid: int | None = None
    start_ticks: int | None = None


class PopulationInfo(_Part):
    size: int
    seed: int


class HostInfo(_Part):
    machine: str = ""
    cpus: int | None = None
    python: str = ""


class TargetInfo(_Part):
    url: str | None = None
    embedded: bool = False
    mailbox: str | None = None


class FaultChangeRecord(_Part):
    """One scheduled fault change as the conductor applied it (or failed to)."""

    at_s: float
    started: Moment | None = None
    applied: Moment | None = None
    faults: str = ""
    error: str | None = None
    note: str | None = None


class ManifestFile(_Part):
    """``manifest.json``. ``format`` is None in a folder that is not one of ours (or too old)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    format: int | None = None
    events_format: int | None = None  # of the event lines (``scenarios.events.FORMAT``); None before it was kept
    campaign: str | None = None
    source: str | None = None  # the campaign file the run was started from
    seed: int | None = None
    population: PopulationInfo | None = None
    reference_date: date | None = None
    workers: int | None = None
    status: str | None = None  # running, complete, partial, interrupted, failed
    problem: str | None = None
    started: Moment | None = None
    load_started: Moment | None = None
    load_ended: Moment | None = None
    ended: Moment | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    host: HostInfo | None = None
    # Tells report and gate whether a "running" folder is still being written or was left by a
    # harness that was killed.
    conductor: ProcessIdentity | None = None
    target: TargetInfo | None = None
    metrics: str | None = None  # the live metrics endpoint
    pushgateway: str | None = None  # where the final figures were pushed
    report: str | None = None
    pids: dict[str, int] = Field(default_factory=dict)
    processes: dict[str, int | None] = Field(default_factory=dict)  # exit codes of the load processes
    # None: not recorded (the load never ended); scoring then takes every scheduled change as applied.
    fault_changes: list[FaultChangeRecord] | None = None
    killed_by_drill: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def json_text(self) -> str:
        return self.model_dump_json(indent=1)


def new_manifest(**fields: object) -> ManifestFile:
    """A manifest as a harness of this version starts it (both format versions set)."""
    return ManifestFile.model_validate({"format": RESULTS_FORMAT, "events_format": EVENTS_FORMAT, **fields})


def read_manifest(folder: Path, notes: list[str] | None = None) -> ManifestFile:
    """The folder's manifest for a reader that can do without it: missing or unreadable gives the
    defaults (and, if unreadable, a note such as ``manifest.json: not JSON …``)."""
    path = folder / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ManifestFile()
    except (OSError, UnicodeDecodeError) as exc:
        _note(notes, path, exc)
        return ManifestFile()
    try:
        data = json.loads(text)
        return ManifestFile.model_validate(data if isinstance(data, dict) else {})
    except ValueError as exc:  # ValidationError is a ValueError
        _note(notes, path, exc)
        return ManifestFile()


def load_manifest(folder: Path) -> ManifestFile:
    """The manifest of a results folder to judge: a one-line ``ConfigError`` if it is missing,
    unreadable or of another results format."""
    if not folder.is_dir():
        raise ConfigError(str(folder), "no such results folder")
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(folder), "not a results folder: manifest.json is missing") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), f"not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "expected a JSON object")
    version = data.get("format")
    if version != RESULTS_FORMAT:
        raise ConfigError(
            str(path), f"results format {version!r}, this harness reads format {RESULTS_FORMAT}: rerun the campaign"
        )
    try:
        return ManifestFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), problem(exc)) from None


def process_identity(pid: int | None = None) -> ProcessIdentity:
    """This process (or ``pid``): host, pid, start time."""
    pid = os.getpid() if pid is None else pid
    return ProcessIdentity(host=socket.gethostname(), pid=pid, start_ticks=_start_ticks(pid))


def conductor_alive(manifest: ManifestFile) -> bool:
    """Whether the harness process a manifest names still runs (True when it cannot be told:
    another host, or a manifest that does not say)."""
    conductor = manifest.conductor
    if conductor is None or conductor.host != socket.gethostname() or conductor.pid is None:
        return True
    try:
        os.kill(conductor.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    ticks = _start_ticks(conductor.pid)
    return ticks is None or conductor.start_ticks in (None, ticks)


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux ``/proc``), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    except (OSError, IndexError, ValueError):
        return None


def _note(notes: list[str] | None, path: Path, exc: BaseException) -> None:
    if notes is not None:
        notes.append(f"{path.name}: {problem(exc)}")


def problem(exc: BaseException) -> str:
    """One line for a note or an error (the results files' readers share it): a validation
    error's first problem with where it is, else the error's text."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        return f"{where}: {first['msg']}"
    return " ".join(str(exc).split())
