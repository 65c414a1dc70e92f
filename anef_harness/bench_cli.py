"""``anef-harness bench``: the project's benchmarks in one run, one table of figures and ratios.

The benchmarks are scripts of the checkout (``benchmarks/``, beside this package; not part of the
installed distribution): they start platforms, Locust, wrk and campaigns, and use the test
support code. This command finds them next to the package, runs ``benchmarks/suite.py``'s parts
and prints the table (``anef_harness.bench``). Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from anef_harness.bench import Part, Report, markdown, run_parts, table

EXIT_FAILED = 3
EXIT_USAGE = 2
CHECKOUT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A mistake on the command line, said in one line."""


def bench_command(
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="NAME[,NAME]",
            help="Run only these: platform, population, overhead, detection, processing.",
        ),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: a look in a minute, not figures.")] = False,
    json_file: Annotated[Path | None, typer.Option("--json", metavar="FILE", help="Write the figures as JSON.")] = None,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the table as Markdown (README).")] = False,
) -> None:
    """Run the benchmarks side by side and print one table of figures, references and ratios."""
    try:
        parts = load_parts(CHECKOUT)
        names = chosen(only, parts)
        if json_file is not None and not json_file.parent.is_dir():
            raise UsageError(f"--json: folder {json_file.parent} does not exist")
    except UsageError as error:
        typer.echo(f"anef-harness bench: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None

    began = time.monotonic()

    def progress(line: str) -> None:
        elapsed = int(time.monotonic() - began)
        print(f"bench {elapsed // 60:02d}:{elapsed % 60:02d} {line}", file=sys.stderr, flush=True)

    with stdout_to_stderr():  # stray prints of the parts (and their children) stay off the table
        report = run_parts(parts, names, quick=quick, progress=progress)
    show(report, as_markdown=as_markdown)
    if json_file is not None:
        json_file.write_text(report.to_json() + "\n", encoding="utf-8")
        progress(f"figures written to {json_file}")
    if report.failed:
        progress(f"failed: {', '.join(report.failed)}")
        raise typer.Exit(EXIT_FAILED)


def load_parts(checkout: Path) -> Mapping[str, Part]:
    """``benchmarks/suite.py``'s parts, from the checkout this package was installed from."""
    if not (checkout / "benchmarks" / "suite.py").is_file():
        raise UsageError(
            f"the benchmarks are scripts of the project's checkout; no benchmarks/suite.py in {checkout} "
            "(install the project in editable mode from a clone)"
        )
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    parts: Mapping[str, Part] = importlib.import_module("benchmarks.suite").PARTS
    return parts


def chosen(only: str | None, parts: Mapping[str, Part]) -> list[str]:
    """The parts to run, in the suite's order; an unknown name gets "did you mean"."""
    if only is None:
        return list(parts)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    if not wanted:
        raise UsageError(f"--only: expected one or more of {', '.join(parts)}")
    for name in wanted:
        if name not in parts:
            close = difflib.get_close_matches(name, list(parts), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
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
