"""``anef-harness dashboards build|publish``: Grafana dashboards as code, written to files or published."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from anef_harness.exits import ExitCode, fail, fail_usage
from checks.slo import default_slo_path, load_slos
from core.errors import ConfigError, HarnessError
from dashboards.grafana import FOLDER, FOLDER_UID, write_dashboards
from dashboards.publish import dashboards_from, publish

TOKEN_VARIABLE = "GRAFANA_TOKEN"  # noqa: S105 - the name of the variable, not a token

app = typer.Typer(help="Grafana dashboards: build them as code, publish them to a Grafana.", no_args_is_help=True)


@app.command("build")
def build(
    slo_file: Annotated[Path | None, typer.Argument(help="OpenSLO file (default: the shipped slos/anef.yaml).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder to write the dashboards and provisioning files to.")] = None,
    datasource_uid: Annotated[str, typer.Option(help="Uid of the Prometheus data source in Grafana.")] = "prometheus",
    folder: Annotated[str, typer.Option(help="Grafana folder of the provisioned dashboards.")] = FOLDER,
) -> None:
    """Write the SLO overview and campaign dashboards (JSON) and Grafana provisioning YAML."""
    if out is None:
        fail_usage("--out: expected the folder to write the dashboards to, e.g. --out results/grafana")
    try:
        written = write_dashboards(
            load_slos(slo_file or default_slo_path()), out, datasource_uid=datasource_uid, folder=folder
        )
    except ConfigError as exc:
        fail_usage(str(exc))
    for path in written:
        typer.echo(f"wrote {path}")


@app.command("publish")
def publish_command(
    source: Annotated[
        Path | None,
        typer.Argument(help="A folder written by 'dashboards build', or an OpenSLO file (default: slos/anef.yaml)."),
    ] = None,
    grafana_url: Annotated[
        str | None, typer.Option(envvar="GRAFANA_URL", help="Grafana's base URL, e.g. http://127.0.0.1:3000.")
    ] = None,
    folder: Annotated[str, typer.Option(help="Grafana folder to publish into (created if missing).")] = FOLDER,
    folder_uid: Annotated[str, typer.Option(help="Uid of that folder.")] = FOLDER_UID,
    datasource_uid: Annotated[
        str, typer.Option(help="Uid of the Prometheus data source (when building from an SLO file).")
    ] = "prometheus",
    allow_target: Annotated[
        list[str] | None, typer.Option(help="Allow publishing to this non-loopback host (repeatable).")
    ] = None,
) -> None:
    """Publish the dashboards through Grafana's HTTP API; the token comes from GRAFANA_TOKEN."""
    if not grafana_url:
        fail_usage("--grafana-url: expected Grafana's URL (or set GRAFANA_URL), e.g. http://127.0.0.1:3000")
    host = (urlsplit(grafana_url).hostname or "").lower()
    allowed = {name.lower().strip("[]") for name in allow_target or []}
    try:
        models = dashboards_from(source or default_slo_path(), datasource_uid=datasource_uid)
        report = publish(
            models,
            url=grafana_url,
            token=os.environ.get(TOKEN_VARIABLE) or None,
            folder=folder,
            folder_uid=folder_uid,
            allow_remote=host in allowed,
        )
    except ConfigError as exc:
        fail_usage(str(exc))
    except HarnessError as exc:
        fail(exc, ExitCode.INFRA)
    state = "created" if report.folder_created else "already there"
    typer.echo(f"Grafana {report.grafana_version} at {report.grafana_url}: folder {report.folder!r} ({state})")
    for dashboard in report.dashboards:
        state = f"version {dashboard.version}" if dashboard.changed else f"unchanged, version {dashboard.version}"
        typer.echo(f"{dashboard.file}: {dashboard.title} ({state}) {dashboard.url}")


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="dashboards")
