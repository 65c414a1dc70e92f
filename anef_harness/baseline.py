"""Which run a campaign's shifts are tested against: ``--baseline RESULTS``, else the history's last
comparable run (``checks.shift`` does the testing).

Comparable: the same campaign, ended complete, started before this one, its events still on disk,
and the same resolved campaign but for what does not change the distributions tested (the seed,
the duration, the description, outputs, SLO file and shift bounds). A run under other faults,
another load or another target is no baseline: its shift would be the change of settings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from checks.shift import Baseline
from core.errors import ConfigError
from dashboards import history
from scenarios.campaign_file import read_yaml
from scenarios.manifest import read_manifest

# ``--baseline`` of ``run`` and ``gate``.
BaselineOption = Annotated[
    Path | None,
    typer.Option(help="A previous results folder to test shifts against (default: the history's last comparable run)."),
]
# Fields of the resolved campaign that may differ between comparable runs.
_FREE = {"seed", "description", "duration", "outputs", "slo", "shift", "admin_token", "mailbox", "allow_targets"}
_FREE_POPULATION = {"seed", "reference_date"}


def choose_baseline(results: Path, given: Path | None) -> Baseline:
    """``given`` when there is one, else the history's last comparable run, else why there is none."""
    if given is not None:
        return Baseline(given, "given with --baseline")
    try:
        return history_baseline(results)
    except ConfigError as exc:  # an unreadable history or campaign: no baseline, said in one line
        return Baseline(absent=f"no baseline: {exc}")


def history_baseline(results: Path) -> Baseline:
    """The latest earlier complete run of the same campaign, with the same settings, in the history
    of ``results``'s folder (``history.sqlite`` beside it)."""
    database = history.database(results.parent)
    manifest = read_manifest(results)
    campaign = manifest.campaign or results.name
    mine = settings(results)
    started = _utc(manifest.started) if manifest.started is not None else None
    for row in history.runs_at(database, campaign):  # newest first
        folder = results.parent / row.run
        if row.run == results.name or row.status != "complete" or not (folder / "events").is_dir():
            continue
        when = row.started or row.recorded
        if started is not None and _utc(datetime.fromisoformat(when)) >= started:
            continue
        if settings(folder) == mine:
            return Baseline(folder, f"the history's last comparable run of {campaign}, started {when[:19]}")
    return Baseline(
        absent=f"no baseline: no earlier complete run of {campaign} with the same settings in {database} "
        "(give one with --baseline RESULTS)"
    )


def settings(folder: Path) -> dict[str, Any]:
    """What must be equal for two runs to be compared: the resolved campaign without its free fields."""
    path = folder / "campaign.yaml"
    if not path.is_file():
        return {}
    data = {key: value for key, value in read_yaml(path).items() if key not in _FREE}
    if isinstance(data.get("population"), dict):
        data["population"] = {k: v for k, v in data["population"].items() if k not in _FREE_POPULATION}
    return data


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
