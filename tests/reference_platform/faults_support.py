"""Shared by the fault-counting modules: a quieter app for counting, login and ledger helpers."""

from __future__ import annotations

from typing import Any

import pytest

from reference_platform.settings import Settings
from tests.support import PASSWORD, Api


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    """The conftest app for counting: the sync bridge polls every 50 ms instead of 10 ms (idle
    polling would take much of the CPU of a test that sends thousands of requests), and the
    mailer stays idle, since counts are read from the ledger, not from the SMTP sink."""
    return app_settings.model_copy(update={"sync_interval_seconds": 0.05, "mail_interval_seconds": 3600})


def login(api: Api, seed: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Log in as the applicant; return the auth header and the applicant's id."""
    response = api.http.post("/api/auth/login", json={"identifier": seed["email"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, response.json()["applicant_id"]


def ledger_of(api: Api, fault: str, applicant: str) -> list[tuple[str, str | None]]:
    """(route, object) of every firing of ``fault`` recorded against this applicant."""
    return [(e["route"], e["object"]) for e in api.ledger(fault) if e["applicant"] == applicant]
