"""``anef-harness campaigns``: the shipped campaigns, what each is for, how long and how much load."""

from __future__ import annotations

import typer
from rich.table import Table

from anef_harness.campaign import CAMPAIGNS_DIR, shipped_campaigns
from anef_harness.progress import console, print_whole


def campaigns() -> None:
    """List the shipped campaigns (run one with `anef-harness run NAME`)."""
    table = Table(title=f"Campaigns in {CAMPAIGNS_DIR}", title_justify="left", header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("load", no_wrap=True)
    table.add_column("description", overflow="fold", ratio=1)
    for shipped in shipped_campaigns():
        duration = "?" if shipped.duration is None else _duration(shipped.duration)
        table.add_row(shipped.path.stem, duration, shipped.load, shipped.description)
    out = console(stderr=False)
    print_whole(out, table)
    out.print("run one: anef-harness run NAME (e.g. anef-harness run smoke)")


def _duration(seconds: float) -> str:
    """60 → 60s, 600 → 10m, 3720 → 1h2m (as a campaign file would write it)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if whole < 120 and not hours:
        return f"{whole}s"
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts)


def register(app: typer.Typer) -> None:
    app.command("campaigns")(campaigns)
