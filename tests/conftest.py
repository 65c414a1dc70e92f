"""Shared fixtures: a real SMTP sink, the platform in a real process, and an in-process app.

``platform`` runs ``anef-harness platform serve`` in a child process (real uvicorn, real
sockets); ``app_client`` runs the same app in-process for statistical tests that need many
events quickly. Both use temporary folders and ephemeral loopback ports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reference_platform.app import create_app
from reference_platform.settings import Settings
from tests.support import ADMIN_TOKEN, Api, PlatformProcess, SmtpSink, smtp_sink


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("ANEF_TEST_DATABASE", "sqlite"),
        help="Run the platform tests against this database (postgresql starts a throwaway server).",
    )


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """None for SQLite files (the default); a fresh PostgreSQL database otherwise."""
    if request.config.getoption("--database") == "sqlite":
        yield None
        return
    from tests.postgres import throwaway_postgres

    with throwaway_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink, database_url: str | None
) -> Iterator[PlatformProcess]:
    process = PlatformProcess(
        data_dir=tmp_path_factory.mktemp("platform") / "data",
        smtp_port=smtp.port,
        database_url=_fresh_schema_url(database_url),
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def api(platform: PlatformProcess) -> Iterator[Api]:
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        helper = Api(client)
        helper.set_faults()  # every test starts with faults off
        yield helper
        helper.set_faults()


@pytest.fixture
def app_settings(tmp_path: Path, smtp: SmtpSink, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        admin_token=ADMIN_TOKEN,
        smtp_port=smtp.port,
        database_url=_fresh_schema_url(database_url),
        fault_seed=20241201,
        sync_interval_seconds=0.01,
        mail_interval_seconds=0.01,
        mail_sender="thread",  # in-process apps keep their sender in a thread; the served platform forks one
        session_flush_seconds=0.05,
        # The statistical tests send thousands of requests from one client, as a campaign does.
        reset_max_requests=1_000_000,
        reset_client_max_requests=1_000_000,
        login_client_max_failures=1_000_000,
        dossier_max_documents=1_000_000,
        applicant_storage_max_bytes=10**12,
    )


@pytest.fixture
def app_api(app_settings: Settings) -> Iterator[Api]:
    """The app in-process (same code, no sockets): for tests that need thousands of events."""
    with TestClient(create_app(app_settings), base_url="http://127.0.0.1") as client:
        yield Api(client)


def _fresh_schema_url(database_url: str | None) -> str | None:
    """Each platform gets its own PostgreSQL database, so tests never share state."""
    if database_url is None:
        return None
    from tests.postgres import fresh_database

    return fresh_database(database_url)
