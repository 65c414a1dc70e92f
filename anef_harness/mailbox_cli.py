"""``anef-harness mailbox serve``: the harness's mailbox, SMTP plus a Mailpit-compatible API."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from anef_harness.exits import fail_usage
from core.describe import describe
from core.errors import ConfigError

mailbox_app = typer.Typer(help="The harness's mailbox: SMTP plus a Mailpit-compatible API.", no_args_is_help=True)


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


def register(app: typer.Typer) -> None:
    app.add_typer(mailbox_app, name="mailbox")
