"""``anef-harness platform serve`` and ``platform demo``: the reference platform, the system under test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from anef_harness.admin_token import read_admin_token
from anef_harness.exits import fail_usage
from core.describe import describe
from core.errors import ConfigError

platform_app = typer.Typer(help="The reference platform (the system under test).", no_args_is_help=True)


@platform_app.command("serve")
def platform_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless --allow-remote).")] = "127.0.0.1",
    allow_remote: Annotated[bool, typer.Option(help="Allow a --host that is not loopback.")] = False,
    allowed_host: Annotated[
        list[str] | None, typer.Option(help="A host name the platform answers to besides loopback (repeatable).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///… or postgresql+psycopg://… (default: SQLite files in --data-dir).")
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help="Fault profile: a YAML file or a shipped profile name (anef-2024).")
    ] = None,
    admin_token_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the admin API's token (else ANEF_ADMIN_TOKEN; random if neither)."),
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
        admin_token = read_admin_token(admin_token_file)
        smtp_host, smtp_port = parse_smtp(smtp)
        options: dict[str, object] = {
            "allow_remote": allow_remote,
            "allowed_hosts": tuple(allowed_host or ()),
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
        flag = {"admin_token": "admin-token-file", "allowed_hosts": "allowed-host"}.get(option.split(".")[0])
        fail_usage(f"--{flag or option.replace('_', '-')}: {problem}")


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


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
