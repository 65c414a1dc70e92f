"""How big each part of ``anef-harness bench`` runs (``DEFAULT``: the whole suite within 15 minutes on a
2-core machine; ``QUICK``: a look, and the tests), and the scratch folder a part measures in."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    """How big each part runs."""

    platform_seconds: float
    platform_applicants: int  # at least; the default size prepares enough for renewal.submit too
    platform_submit_room: float  # see platform_steps.SUBMIT_ROOM; 0: only platform_applicants
    platform_connections: int
    population_seed: int
    population_generate: int
    population_naive: int
    overhead_users: int
    overhead_seconds: int
    overhead_rounds: int
    overhead_warmup: int
    detection_defects: tuple[str, ...] | None  # None: the seven documented defects
    detection_rate: float
    detection_scale: float
    detection_parallel: int
    detection_population: int
    detection_realistic_scale: float  # of the 3-minute realistic campaign
    processing_events: int
    processing_baseline: int
    master_workers: tuple[int, ...]
    master_totals: tuple[int, ...]  # events/s offered, all workers together
    master_seconds: float
    memory_minutes: float  # of load
    memory_mark: float  # minute from which growth is measured
    memory_interval: float  # seconds between samples
    memory_window: float  # seconds around each mark whose samples' median is the figure
    memory_population: int


DEFAULT = Sizes(
    platform_seconds=4,
    platform_applicants=1200,
    platform_submit_room=0.6,  # drafts for renewal.submit's 4 s at up to 60 % of /healthz
    platform_connections=32,
    population_seed=100_000,
    population_generate=50_000,
    population_naive=400,
    overhead_users=20,
    overhead_seconds=8,
    overhead_rounds=2,
    overhead_warmup=3,
    detection_defects=None,
    detection_rate=0.1,
    detection_scale=0.12,
    detection_parallel=2,
    detection_population=4_000,
    detection_realistic_scale=0.5,
    processing_events=10_000_000,
    processing_baseline=500_000,
    master_workers=(1, 4, 16, 48),
    master_totals=(5_000, 20_000, 80_000, 160_000, 320_000, 640_000),
    master_seconds=3.0,
    memory_minutes=5,  # the script's default, and the aim of issue 14, is minute 2 to minute 10
    memory_mark=1,
    memory_interval=5,
    memory_window=60,
    memory_population=20_000,
)
QUICK = Sizes(
    platform_seconds=1,
    platform_applicants=60,
    platform_submit_room=0.0,
    platform_connections=8,
    population_seed=3_000,
    population_generate=3_000,
    population_naive=60,
    overhead_users=4,
    overhead_seconds=3,
    overhead_rounds=1,
    overhead_warmup=1,
    detection_defects=("procedure_not_selectable",),
    detection_rate=0.1,
    detection_scale=0.1,
    detection_parallel=1,
    detection_population=3_000,
    detection_realistic_scale=0.12,
    processing_events=100_000,
    processing_baseline=50_000,
    master_workers=(2,),
    master_totals=(1_000, 4_000),
    master_seconds=1.5,
    memory_minutes=0.75,
    memory_mark=0.25,
    memory_interval=1,
    memory_window=6,
    memory_population=3_000,
)


def sizes(quick: bool) -> Sizes:
    return QUICK if quick else DEFAULT


# --- the parts ---------------------------------------------------------------------------------


def in_scratch_folder(prefix: str, measure: Callable[[Path], T], errors: type[Exception], *, kept: str) -> T:
    """``measure`` in a fresh temporary folder, removed once it succeeded; when it fails with
    ``errors`` the folder is kept for a look, and the part's error says where (``kept``: what it holds)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        measured = measure(folder)
    except errors as error:
        raise RuntimeError(f"{error} ({kept} kept in {folder})") from None
    shutil.rmtree(folder, ignore_errors=True)
    return measured
