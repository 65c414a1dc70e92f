"""``anef-harness bench``: the project's benchmarks in one run, one table of figures and ratios.

The benchmarks are the ``benchmarks`` package (they start platforms, Locust, wrk and campaigns);
this command runs ``benchmarks.suite``'s parts and prints the table (``benchmarks.table``).
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anef_harness.exits import ExitCode, fail_usage
from benchmarks.suite import PARTS
from benchmarks.table import Part, Report, markdown, run_parts, table
from core.registry import suggest


class UsageError(Exception):
    """A mistake on the command line, said in one line."""


def bench_command(
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="NAME[,NAME]",
            help="Run only these: platform, population, overhead, detection, processing, master, memory.",
        ),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: a look in a minute, not figures.")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", metavar="FILE", help="Write the figures as JSON.")] = None,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the table as Markdown.")] = False,
) -> None:
    """Run the benchmarks side by side and print one table of figures, references and ratios."""
    try:
        names = chosen(only, PARTS)
        if json_file is not None and not json_file.parent.is_dir():
            raise UsageError(f"--json: folder {json_file.parent} does not exist")
    except UsageError as error:
        fail_usage(error, program="anef-harness bench")

    began = time.monotonic()

    def progress(line: str) -> None:
        elapsed = int(time.monotonic() - began)
        print(f"bench {elapsed // 60:02d}:{elapsed % 60:02d} {line}", file=sys.stderr, flush=True)

    with stdout_to_stderr():  # stray prints of the parts (and their children) stay off the table
        report = run_parts(PARTS, names, quick=quick, progress=progress)
    show(report, as_markdown=as_markdown)
    if json_file is not None:
        json_file.write_text(report.to_json() + "\n", encoding="utf-8")
        progress(f"figures written to {json_file}")
    if report.failed:
        progress(f"failed: {', '.join(report.failed)}")
        raise typer.Exit(ExitCode.INFRA)


def chosen(only: str | None, parts: Mapping[str, Part]) -> list[str]:
    """The parts to run, in the suite's order; an unknown name gets "did you mean"."""
    if only is None:
        return list(parts)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    if not wanted:
        raise UsageError(f"--only: expected one or more of {', '.join(parts)}")
    for name in wanted:
        if name not in parts:
            close = suggest(name, parts, listed=0).removeprefix("; ")  # "did you mean 'x'?" or nothing
            hint = f"{close} " if close else ""
            raise UsageError(f"--only: unknown benchmark '{name}'; {hint}expected one of {', '.join(parts)}")
    return [name for name in parts if name in wanted]


def show(report: Report, *, as_markdown: bool) -> None:
    if as_markdown:
        sys.stdout.write(markdown(report))
        sys.stdout.flush()
        return
    console = Console(width=None if sys.stdout.isatty() else 220)
    console.print(table(report))


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send file descriptor 1 (this process's and its children's) and ``sys.stdout`` to stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
