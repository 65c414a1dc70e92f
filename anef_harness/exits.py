"""The process's exit codes and its one-line usage error, in one place for every command.

CI reads the exit code: 0 the campaign passed, 1 it failed its gate, 2 the input was wrong (said
in one line on stderr), 3 the harness or its infrastructure failed, or the results are partial, aborted or
unfinished (``checks.gate.decide``).
Only the command modules call these; the rest of the project raises ``HarnessError``.
"""

from __future__ import annotations

from typing import NoReturn

import typer

from core.exits import ExitCode

__all__ = ["PROGRAM", "ExitCode", "fail", "fail_usage"]

PROGRAM = "anef-harness"


def fail(message: object, code: ExitCode, *, program: str = PROGRAM) -> NoReturn:
    """Say ``PROGRAM: message`` on stderr, in one line, and exit with ``code``."""
    typer.echo(f"{program}: {message}", err=True)
    raise typer.Exit(code)


def fail_usage(message: object, *, program: str = PROGRAM) -> NoReturn:
    """A mistake in the user's input (an option, a file): one line, exit 2."""
    fail(message, ExitCode.USAGE, program=program)
