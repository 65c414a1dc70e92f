"""The processes of one ``anef-harness run`` sampled for resident memory, and each one's growth.

Processes are told apart by their command lines and their parent chain under the conductor: the
conductor itself (``anef-harness run``, the mailbox in it), Locust (one process, or a master and its
workers), the browser process and what it starts (Playwright's driver and Chromium, one group summed),
and the embedded platform, the system under test: sampled and shown, never judged. A process that
ends and another of the same role that starts are two rows.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psutil

from checks.live_pass import MODULE as LIVE_PASS_MODULE

BOUND = 0.10  # growth of resident memory between the two marks that fails a harness process
CONDUCTOR = "conductor (anef-harness run)"
PLATFORM = "platform (system under test)"
PLATFORM_MAIL = "platform's mail sender (system under test)"
CHROMIUM = "Playwright driver + Chromium"
LIVE_PASSES = "live judgement passes (short-lived)"
GROUPS = (CHROMIUM, LIVE_PASSES)  # roles whose processes are one row


@dataclass(frozen=True)
class Sample:
    """One process's (or group's) memory at one moment (``at``: monotonic seconds)."""

    at: float
    rss: int
    uss: int | None = None


@dataclass
class Series:
    """Every sample of one process of the run, or of a group summed (Chromium's processes)."""

    role: str
    judged: bool  # a harness process; the platform is shown, not judged
    samples: list[Sample] = field(default_factory=list)
    processes: int = 1  # the most processes summed into one sample (a group)


@dataclass(frozen=True)
class Growth:
    """One row of the table: resident memory at the first mark, at the end, its growth, its peak."""

    role: str
    judged: bool
    rss_from: int | None
    rss_end: int | None
    peak: int
    uss_from: int | None = None
    uss_end: int | None = None
    processes: int = 1
    missing: str = ""  # why a mark has no sample (the process ended, or started late)

    @property
    def growth(self) -> float | None:
        if self.rss_from is None or self.rss_end is None or not self.rss_from:
            return None
        return self.rss_end / self.rss_from - 1

    @property
    def failed(self) -> str | None:
        """Why this row fails the bound, or None; the platform's row never fails."""
        if not self.judged:
            return None
        if self.growth is None:
            return self.missing or "no sample at a mark"
        if self.growth >= BOUND:
            return f"grew {self.growth:.1%} (bound {BOUND:.0%})"
        return None


def role_of(command: Sequence[str]) -> tuple[str, bool] | None:
    """A run's child process named by its command line (``python -m …``): its role and whether it
    is judged; None when it is none of the harness's own."""
    module = command[command.index("-m") + 1] if "-m" in command[:-1] else ""
    if module == "locust":
        if "--master" in command:
            return "Locust master", True
        if "--worker" in command:
            return "Locust worker", True
        return "Locust", True
    if module == "reference_platform":
        return PLATFORM, False
    if module == "reference_platform.mail":
        return PLATFORM_MAIL, False
    if module == "scenarios.browser":
        return "browser process (Python)", True
    if module == LIVE_PASS_MODULE:
        return LIVE_PASSES, False
    return None


class Sampler:
    """Samples a conductor and all its descendants; call ``sample`` every few seconds."""

    def __init__(self, conductor: int, *, uss: bool = True) -> None:
        self.conductor = conductor
        self.uss = uss
        self.series: dict[str, Series] = {}
        self.load_began: float | None = None  # when the first Locust process was seen
        self._keys: dict[tuple[int, float], str] = {}  # (pid, create time) → its series
        self._browsers: set[int] = set()  # pids whose descendants are the Chromium group

    def sample(self, now: float) -> bool:
        """One sample of every process at ``now`` (monotonic seconds); False once the conductor ended."""
        try:
            root = psutil.Process(self.conductor)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return False
        measured: dict[str, list[Sample]] = {}
        for process in tree:
            try:
                key = self._key(process, root)
                if key is None:
                    continue
                memory = process.memory_full_info() if self.uss else process.memory_info()
            except psutil.Error:
                continue  # it ended between the listing and the reading
            measured.setdefault(key, []).append(Sample(now, memory.rss, getattr(memory, "uss", None)))
            if self.load_began is None and key.startswith("Locust"):
                self.load_began = now
        for key, parts in measured.items():
            series = self.series[key]
            uss = [part.uss for part in parts]
            summed = None if None in uss else sum(u for u in uss if u is not None)
            series.samples.append(Sample(now, sum(part.rss for part in parts), summed))
            series.processes = max(series.processes, len(parts))
        return True

    def _key(self, process: psutil.Process, conductor: psutil.Process) -> str | None:
        """The series of a process; None for one not to sample yet: ended but not reaped, or forked
        by the conductor and not yet running its own program (named at a later sample)."""
        identity = (process.pid, process.create_time())
        if identity in self._keys:
            return self._keys[identity]
        if process.pid != self.conductor and (
            process.status() == psutil.STATUS_ZOMBIE or process.cmdline() == conductor.cmdline()
        ):
            return None
        if process.pid == self.conductor:
            role, judged = CONDUCTOR, True
        elif any(parent.pid in self._browsers for parent in process.parents()):
            role, judged = CHROMIUM, True
        else:
            role, judged = role_of(process.cmdline()) or (f"other: {process.name()}", True)
            if role.startswith("browser"):
                self._browsers.add(process.pid)
        key = role if role in GROUPS else self._new_key(role)
        self.series.setdefault(key, Series(role=key, judged=judged))
        self._keys[identity] = key
        return key

    def _new_key(self, role: str) -> str:
        if role not in self.series:
            return role
        number = 2
        while f"{role} #{number}" in self.series:
            number += 1
        return f"{role} #{number}"


def growth(series: Series, *, began: float, mark: float, end: float, window: float, slack: float) -> Growth:
    """The row of one series. Documents, uploads and answers come and go in a load process, so one
    sample swings by tens of MB: each figure is the median of the samples within ``window / 2``
    seconds of its mark (``mark`` and ``end``, in seconds of load; the end's window stops at the end).
    A process not sampled near a mark, or gone more than ``slack`` seconds before the end, has no
    figure there and the row says why. The peak is over the whole load (``began`` to ``end``)."""
    during = [sample for sample in series.samples if 0 <= sample.at - began <= end]
    first = [sample for sample in during if abs(sample.at - began - mark) <= window / 2]
    last = [sample for sample in during if sample.at - began >= end - window / 2]
    missing = []
    if not first:
        missing.append(f"not running at {mark:g} s")
    if not during or end - (during[-1].at - began) > slack:
        seen = f" (last seen at {during[-1].at - began:.0f} s)" if during else ""
        missing.append(f"not running at {end:g} s{seen}")
        last = []
    return Growth(
        role=series.role,
        judged=series.judged,
        rss_from=_median(sample.rss for sample in first),
        rss_end=_median(sample.rss for sample in last),
        peak=max((sample.rss for sample in during), default=0),
        uss_from=_median(sample.uss for sample in first),
        uss_end=_median(sample.uss for sample in last),
        processes=series.processes,
        missing="; ".join(missing),
    )


def _median(values: Iterable[int | None]) -> int | None:
    """The median of the values (one of them), or None when there are none or one is unknown."""
    known = list(values)
    if not known or None in known:
        return None
    return int(statistics.median_low(value for value in known if value is not None))
