"""The demo until the campaign runner exists: the platform, an e-mail sink, an example
applicant (inside the renewal window) and an agent of the same prefecture."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import typer
from aiosmtpd.controller import Controller

from reference_platform.app import build_context, create_app
from reference_platform.domain.seeding import AgentSeed, ApplicantSeed, CardSeed, seed_batch
from reference_platform.settings import Settings

APPLICANT_PASSWORD = "Demo-Renouvellement-2026"  # noqa: S105 - a synthetic demo account
AGENT_PASSWORD = "Demo-Prefecture-2026"  # noqa: S105 - a synthetic demo account


class PrintingSink:
    """Prints every e-mail the platform sends, so the reset link can be followed."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body()
        text = body.get_content() if body is not None else ""
        typer.echo(f"\n--- e-mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']}\n{text}")
        return "250 OK"


def run_demo(*, port: int, smtp_port: int, data_dir: Path) -> None:
    import uvicorn

    # A fresh token each time: a fixed one would open the admin API to any page that reaches the port.
    settings = Settings(port=port, smtp_port=smtp_port, data_dir=data_dir)
    context = build_context(settings)
    today = context.clock.today()
    expiry = today + timedelta(days=90)  # inside the renewal window (120 to 60 days before)
    applicant = ApplicantSeed(
        type="applicant",
        foreign_number="7512345678",
        email="amina.benali@example.org",
        given_name="Amina",
        family_name="Benali",
        birth_date=date(1990, 4, 12),
        nationality="DZA",
        address="12 rue des Lilas",
        postcode="75011",
        city="Paris",
        prefecture="75",
        password=APPLICANT_PASSWORD,
        card=CardSeed(
            kind="certificat_residence_algerien",
            motif="vie_privee_familiale",
            valid_from=expiry - timedelta(days=3650),
            valid_until=expiry,
            state="handed_over",
        ),
    )
    agent = AgentSeed(
        type="agent",
        login="agent.paris",
        name="Agent de la préfecture de police",
        prefecture="75",
        password=AGENT_PASSWORD,
    )
    seed_batch(context, [applicant, agent])
    sink = Controller(PrintingSink(), hostname="127.0.0.1", port=smtp_port)
    sink.start()
    base = settings.base_url
    typer.echo(
        f"""
ANEF reference platform (demo) on {base}
  Pages (French):   {base}/connexion   — log in as {applicant.email} / {APPLICANT_PASSWORD}
  OpenAPI:          {base}/docs
  Agent API:        POST {base}/api/agent/login {{"login": "agent.paris", "password": "{AGENT_PASSWORD}"}}
  Admin API:        curl -H 'Authorization: Bearer {settings.admin_token}' {base}/_admin/faults
  Inject a documented defect (or start with --faults anef-2024 for all seven):
    curl -X PUT -H 'Authorization: Bearer {settings.admin_token}' -H 'Content-Type: application/json' \\
         -d '{{"faults": [{{"id": "reset_email_lost", "rate": 1}}]}}' {base}/_admin/faults
  E-mails sent by the platform are printed below. Ctrl-C stops the demo (data kept in {data_dir}).
  Today on the platform clock: {today:%d/%m/%Y}.
"""
    )
    try:
        uvicorn.run(create_app(settings, context=context), host=settings.host, port=port, log_level="warning")
    finally:
        sink.stop()
