"""The ``anef-harness`` command line. Only this module exits the process."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from anef_harness.bench_cli import register as register_bench
from anef_harness.campaigns_cli import register as register_campaigns
from anef_harness.dashboards_cli import register as register_dashboards
from anef_harness.exits import fail_usage
from anef_harness.gate_cli import register as register_gate
from anef_harness.population_cli import app as population_app
from anef_harness.report_cli import register as register_report
from anef_harness.rules_cli import register as register_rules
from anef_harness.run_cli import register as register_run_commands
from anef_harness.score_cli import register as register_score
from anef_harness.slo_cli import register as register_slo
from core.describe import describe
from core.errors import ConfigError

app = typer.Typer(help="Load and resilience testing harness for the ANEF platform.", no_args_is_help=True)
platform_app = typer.Typer(help="The reference platform (the system under test).", no_args_is_help=True)
app.add_typer(platform_app, name="platform")
app.add_typer(population_app, name="population")
register_run_commands(app)
register_campaigns(app)
register_gate(app)
register_score(app)
register_rules(app)
register_slo(app)
register_dashboards(app)
register_report(app)
register_bench(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"anef-harness {version()}")
        raise typer.Exit(0)


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Load and resilience testing harness for the ANEF platform."""


def version() -> str:
    """The installed distribution's version (the source tree's, when run without installing)."""
    try:
        return metadata.version("anef-harness")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


@platform_app.command("serve")
def platform_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///… or postgresql+psycopg://… (default: SQLite files in --data-dir).")
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help="Fault profile: a YAML file or a shipped profile name (anef-2024).")
    ] = None,
    admin_token: Annotated[
        str | None, typer.Option(envvar="ANEF_ADMIN_TOKEN", help="Bearer token of the admin API (random if not given).")
    ] = None,
    smtp: Annotated[str, typer.Option(help="SMTP server for outgoing e-mail, HOST:PORT.")] = "127.0.0.1:1025",
    data_dir: Annotated[Path, typer.Option(help="Folder for SQLite files and uploaded documents.")] = Path(
        "var/platform"
    ),
    public_url: Annotated[str | None, typer.Option(help="Base URL written into e-mailed links.")] = None,
    worker_threads: Annotated[
        int | None, typer.Option(help="Threads serving requests (default: 2 on SQLite, 8 on PostgreSQL).")
    ] = None,
) -> None:
    """Serve the reference platform (JSON API, French pages, admin API, /metrics)."""
    from reference_platform.app import build_context
    from reference_platform.server import serve
    from reference_platform.settings import Settings, parse_smtp

    try:
        smtp_host, smtp_port = parse_smtp(smtp)
        options: dict[str, object] = {
            "host": host,
            "port": port,
            "database_url": database_url,
            "data_dir": data_dir,
            "smtp_host": smtp_host,
            "smtp_port": smtp_port,
            "public_url": public_url,
            "faults_file": _profile_path(faults) if faults else None,
            "worker_threads": worker_threads,
        }
        if admin_token:
            options["admin_token"] = admin_token
        settings = Settings.model_validate(options)
        context = build_context(settings)  # a bad file or database fails here, before anything is printed
        if not admin_token:
            typer.echo(f"admin token: {settings.admin_token}", err=True)
        serve(settings, context=context)
    except ConfigError as exc:
        fail_usage(str(exc))
    except ValidationError as exc:
        option, _, problem = describe(exc).partition(": ")
        fail_usage(f"--{option.replace('_', '-')}: {problem}")


def _profile_path(name_or_path: str) -> Path:
    from contracts.fault_set import PROFILES_DIR

    path = Path(name_or_path)
    if not path.exists() and (PROFILES_DIR / f"{name_or_path}.yaml").exists():
        return PROFILES_DIR / f"{name_or_path}.yaml"
    return path


@platform_app.command("demo")
def platform_demo(
    port: Annotated[int, typer.Option(help="Port of the platform.")] = 8000,
    smtp_port: Annotated[int, typer.Option(help="Port of the demo's e-mail sink.")] = 1025,
    data_dir: Annotated[Path, typer.Option(help="Folder for the demo's data.")] = Path("var/demo"),
) -> None:
    """Start the platform with an example applicant and agent, and print how to use it."""
    from anef_harness.demo import run_demo

    try:
        run_demo(port=port, smtp_port=smtp_port, data_dir=data_dir)
    except ConfigError as exc:
        fail_usage(str(exc))


mailbox_app = typer.Typer(help="The harness's mailbox: SMTP plus a Mailpit-compatible API.", no_args_is_help=True)
app.add_typer(mailbox_app, name="mailbox")


@mailbox_app.command("serve")
def mailbox_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless --allow-remote).")] = "127.0.0.1",
    smtp_port: Annotated[int, typer.Option(help="SMTP port (0: any free port).")] = 1025,
    http_port: Annotated[int, typer.Option(help="Port of the HTTP API (0: any free port).")] = 8025,
    retention: Annotated[int, typer.Option(help="Messages kept; the oldest are evicted first.")] = 10_000,
    bounce_domain: Annotated[
        list[str] | None,
        typer.Option(help="Refuse recipients of this domain with 550 (repeatable; default rebond.example.net)."),
    ] = None,
    allow_remote: Annotated[bool, typer.Option(help="Allow a --host that is not loopback.")] = False,
) -> None:
    """Receive the platform's e-mail over SMTP and serve it through a subset of Mailpit's API v1."""
    from synthetic_users.mailbox import MailboxServer, MailboxSettings

    options: dict[str, object] = {
        "host": host,
        "smtp_port": smtp_port,
        "http_port": http_port,
        "retention": retention,
        "allow_remote": allow_remote,
    }
    if bounce_domain:
        options["bounce_domains"] = bounce_domain

    def announce(server: MailboxServer) -> None:
        typer.echo(f"mailbox: SMTP on {host}:{server.smtp_port}, API on {server.api_url} (keeps {retention} messages)")

    try:
        MailboxServer(MailboxSettings.model_validate(options)).serve_until_signalled(on_ready=announce)
    except ValidationError as exc:
        option, _, problem = describe(exc).partition(": ")
        flag = "bounce-domain" if option.startswith("bounce_domains") else option.replace("_", "-")
        fail_usage(f"--{flag}: {problem}")
    except ConfigError as exc:
        fail_usage(str(exc))


def main() -> None:
    app()
