"""The benchmark table: typed figures, the machine they ran on, running the parts, rendering.

The measurements themselves live in the benchmark scripts beside this module (they start
platforms, Locust, wrk and campaigns); ``benchmarks/suite.py`` turns each script's results into
``Figure`` rows. Every row pairs a figure with a reference measured in the same run, so the ratio
holds on any machine even when the absolute numbers do not.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rich import box
from rich.table import Table

Progress = Callable[[str], None]
Part = Callable[[bool, Progress], Sequence["Figure"]]
"""One benchmark: ``part(quick, progress)`` measures and returns its rows."""


@dataclass(frozen=True)
class Figure:
    """One row: a figure and the reference it is read against, both measured in this run."""

    benchmark: str
    measure: str
    value: float | None
    unit: str
    reference: float | None = None
    reference_label: str = ""
    reference_unit: str | None = None  # when it differs from ``unit``
    ratio_style: Literal["times", "percent"] = "times"
    note: str = ""
    failed: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.reference:
            return None
        return self.value / self.reference


@dataclass(frozen=True)
class Machine:
    """Where the figures were measured; the load average says whether the cores were shared."""

    cpu: str
    cores: int
    memory_gb: float
    python: str
    system: str
    load_average: tuple[float, float, float]

    @classmethod
    def here(cls) -> Machine:
        return cls(
            cpu=_cpu_model(),
            cores=os.cpu_count() or 1,
            memory_gb=round(_memory_bytes() / 2**30, 1),
            python=platform.python_version(),
            system=f"{platform.system()} {platform.release()}",
            load_average=_load_average(),
        )

    def describe(self) -> str:
        load = ", ".join(f"{value:.1f}" for value in self.load_average)
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory_gb:g} GB, Python {self.python}, {self.system}; "
            f"load average at start {load}"
        )


@dataclass(frozen=True)
class Report:
    machine: Machine
    started: datetime
    wall_seconds: float
    quick: bool
    benchmarks: tuple[str, ...]
    figures: tuple[Figure, ...]
    load_average_at_end: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0))

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.benchmark for f in self.figures if f.failed))

    def to_json(self) -> str:
        figures = [{**asdict(f), "ratio": f.ratio} for f in self.figures]
        data = {
            "machine": asdict(self.machine),
            "started": self.started.isoformat(timespec="seconds"),
            "wall_seconds": round(self.wall_seconds, 1),
            "quick": self.quick,
            "benchmarks": list(self.benchmarks),
            "failed": list(self.failed),
            "load_average_at_end": list(self.load_average_at_end),
            "figures": figures,
        }
        return json.dumps(data, indent=1, ensure_ascii=False)


def run_parts(parts: Mapping[str, Part], names: Sequence[str], *, quick: bool, progress: Progress) -> Report:
    """Run the named parts in order; a part that fails becomes one row saying so, the rest still run."""
    machine = Machine.here()
    started = datetime.now(UTC)
    began = time.monotonic()
    figures: list[Figure] = []
    for number, name in enumerate(names, 1):
        progress(f"[{number}/{len(names)}] {name}: starting")
        part_began = time.monotonic()
        try:
            rows = [replace(row, benchmark=name) for row in parts[name](quick, progress)]
        except Exception as error:
            message = " ".join(str(error).split())[:300] or type(error).__name__
            rows = [Figure(name, "—", None, "", failed=f"{type(error).__name__}: {message}")]
            progress(f"[{number}/{len(names)}] {name}: FAILED after {time.monotonic() - part_began:.0f} s: {message}")
        else:
            progress(f"[{number}/{len(names)}] {name}: done in {time.monotonic() - part_began:.0f} s")
        figures.extend(rows)
    return Report(
        machine=machine,
        started=started,
        wall_seconds=time.monotonic() - began,
        quick=quick,
        benchmarks=tuple(names),
        figures=tuple(figures),
        load_average_at_end=_load_average(),
    )


# --- rendering ---------------------------------------------------------------------------------

COLUMNS = ("benchmark", "measure", "figure", "reference (same run)", "ratio", "note")


def cells(figure: Figure) -> tuple[str, str, str, str, str, str]:
    """A row's text, the same in the terminal and in Markdown."""
    if figure.failed:
        return (figure.benchmark, figure.measure, "FAILED", "", "", figure.failed)
    reference = ""
    if figure.reference is not None:
        reference = _quantity(figure.reference, figure.reference_unit or figure.unit)
        if figure.reference_label:
            reference += f" ({figure.reference_label})"
    ratio = figure.ratio
    shown_ratio = "" if ratio is None else (f"{ratio:.0%}" if figure.ratio_style == "percent" else f"{ratio:.2f}×")
    value = "—" if figure.value is None else _quantity(figure.value, figure.unit)
    return (figure.benchmark, figure.measure, value, reference, shown_ratio, figure.note)


def title(report: Report) -> str:
    return f"anef-harness bench{' --quick' if report.quick else ''}, {report.started:%Y-%m-%d %H:%M} UTC"


def footer(report: Report) -> str:
    load = ", ".join(f"{value:.1f}" for value in report.load_average_at_end)
    return f"wall time {report.wall_seconds / 60:.1f} min; load average at end {load}"


def table(report: Report) -> Table:
    out = Table(
        title=f"{title(report)}\n{report.machine.describe()}",
        caption=footer(report),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    for column in COLUMNS:
        out.add_column(column, justify="right" if column in ("figure", "ratio") else "left")
    previous = ""
    for figure in report.figures:
        if previous and figure.benchmark != previous:
            out.add_section()
        previous = figure.benchmark
        row = cells(figure)
        out.add_row(*row, style="red" if figure.failed else None)
    return out


def markdown(report: Report) -> str:
    """The table for docs/benchmarks.md: the machine above it, the wall time below."""
    lines = [
        f"*{title(report)}* — {report.machine.describe()}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---:" if column in ("figure", "ratio") else "---" for column in COLUMNS) + "|",
    ]
    for figure in report.figures:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells(figure)) + " |")
    lines += ["", f"*{footer(report)}*"]
    return "\n".join(lines) + "\n"


def _quantity(value: float, unit: str) -> str:
    number = value
    if float(number).is_integer():
        text = f"{int(number):,}"
    elif abs(number) >= 100:
        text = f"{number:,.0f}"
    elif abs(number) >= 10:
        text = f"{number:.1f}"
    else:
        text = f"{number:.2f}"
    return f"{text} {unit}".strip()


# --- the machine -------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)
