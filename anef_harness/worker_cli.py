"""``anef-harness worker --master HOST:PORT``: a load worker that joins a campaign from any folder of any host.

The master (``anef-harness run CAMPAIGN --expect-workers N``) sends the campaign, the worker's
partition and the mailbox's URL over Locust's channel; the worker sends its events back and keeps
what the master has not acknowledged in its own folder (``--folder``), never in the results folder.
The process becomes the Locust worker (``exec``): signals reach Locust directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from anef_harness.distributed import worker_command
from anef_harness.exits import fail_usage


def worker(
    master: Annotated[str, typer.Option(help="The master's address, HOST:PORT (the run's --master-port).")],
    folder: Annotated[
        Path, typer.Option(help="The worker's own folder: its spool of events, the campaign it was sent.")
    ] = Path("anef-worker"),
) -> None:
    """Join a campaign started elsewhere with `anef-harness run CAMPAIGN --expect-workers N`.

    The worker runs its share of the campaign's journeys, sends its events to the master and ends
    with the run. Exit as Locust's worker does (0 when the run ended normally)."""
    try:
        command = worker_command(master, folder)
    except ValueError as exc:
        fail_usage(f"--master: {exc}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail_usage(f"--folder: {folder}: cannot create it ({exc.strerror})")
    sys.stdout.flush()
    os.execv(command[0], command)  # noqa: S606 - our own command


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
