"""The platform's mail worker against the harness's real mailbox: a dead mailbox bounces for good
and never holds back the e-mails behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
