"""The platform's mail worker against the harness's real mailbox: a dead mailbox bounces for good
and never holds back the e-mails behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from reference_platform.app import create_app
from reference_platform.settings import Settings
from reference_platform.storage.front import Email
from synthetic_users.mailbox import MailboxServer
from synthetic_users.reference import BOUNCE_DOMAIN
from tests.support import ADMIN_TOKEN, Api, applicant_seed, wait_until


@pytest.fixture
def mailbox() -> Iterator[MailboxServer]:
    with MailboxServer() as server:
        yield server


def test_a_bouncing_address_does_not_hold_back_the_others(tmp_path: Path, mailbox: MailboxServer) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, smtp_port=mailbox.smtp_port, mail_interval_seconds=0.01
    )
    app = create_app(settings)
    dead = applicant_seed(email=f"mort.{applicant_seed()['foreign_number']}@{BOUNCE_DOMAIN}")
    alive = applicant_seed()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        api = Api(client)
        api.seed(dead, alive)
        for seed in (dead, alive, dead):
            assert client.post("/api/auth/password-reset", json={"email": seed["email"]}).status_code == 202
        assert mailbox.store.wait_for(alive["email"], timeout=3)

        def settled() -> list[Email]:
            with app.state.context.stores.front.read() as db:
                rows = list(db.scalars(select(Email).where(Email.recipient == dead["email"])))
            return rows if rows and all(r.bounced for r in rows) else []

        rows = wait_until(settled, timeout=3)
        assert len(rows) == 2
        assert all(r.sent_at is None and r.attempts == 0 for r in rows)
    assert mailbox.store.messages_for(dead["email"]) == []


def _senders() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.is_running()
        and child.status() != psutil.STATUS_ZOMBIE
        and "reference_platform.mail" in child.cmdline()
    ]


def test_the_sender_runs_in_a_process_of_its_own_that_ends_with_the_app(tmp_path: Path, mailbox: MailboxServer) -> None:
    """Building messages and SMTP take nothing from the requests' interpreter; the child holds no
    secret on its command line and is gone once the app has stopped."""
    settings = Settings(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, smtp_port=mailbox.smtp_port)
    app = create_app(settings)
    applicant = applicant_seed()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        (sender,) = _senders()
        assert ADMIN_TOKEN not in " ".join(sender.cmdline())
        assert settings.secret_key not in " ".join(sender.cmdline())
        Api(client).seed(applicant)
        assert client.post("/api/auth/password-reset", json={"email": applicant["email"]}).status_code == 202
        assert mailbox.store.wait_for(applicant["email"], timeout=10)
    assert _senders() == []
