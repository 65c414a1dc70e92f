"""An acknowledged upload survives a crash: SIGKILL the platform right after the acknowledgements,
start it again on the same data, and every acknowledged document is still in the applicant's
dossier with its SHA-256, its content is readable at the prefecture, and it reaches the back
office (the sync outbox survived the crash too).

Runs against SQLite files (the default) and PostgreSQL (``--database postgresql``).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import _fresh_schema_url
from tests.support import Api, PlatformProcess, SmtpSink, agent_seed, applicant_seed, pdf_bytes, wait_until

BACK_OFFICE_DEADLINE = 20.0  # from the restart's first request: the bridge has the whole outbox to carry

Documents = dict[str, str]  # document id -> SHA-256


@pytest.fixture
def data(tmp_path: Path, database_url: str | None) -> tuple[Path, str | None]:
    """One platform's data: a folder (blobs; SQLite files) and, with PostgreSQL, a fresh database."""
    return tmp_path / "data", _fresh_schema_url(database_url)


@contextlib.contextmanager
def running(data: tuple[Path, str | None], smtp: SmtpSink) -> Iterator[tuple[PlatformProcess, Api]]:
    process = PlatformProcess(data_dir=data[0], smtp_port=smtp.port, database_url=data[1])
    process.start()
    try:
        with httpx.Client(base_url=process.url, timeout=10) as http:
            yield process, Api(http)
    finally:
        process.stop()  # after a kill(), only closes the log


def acknowledged(api: Api, auth: dict[str, str], dossier_id: str, kind: str) -> tuple[str, str]:
    """Upload a fresh file; the acknowledgement (201) must carry the SHA-256 of what was sent."""
    content = pdf_bytes(30_000)
    answer = api.upload(auth, dossier_id, kind, content)
    assert answer.status_code == 201, answer.text
    document = answer.json()
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    return document["id"], document["sha256"]


def renewal_with_documents(api: Api, auth: dict[str, str], extra: tuple[str, ...] = ()) -> tuple[str, Documents]:
    created = api.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"})
    assert created.status_code == 201, created.text
    dossier = created.json()
    kinds = (*dossier["missing_documents"], *extra)
    return dossier["id"], dict(acknowledged(api, auth, dossier["id"], kind) for kind in kinds)


def submit(api: Api, auth: dict[str, str], dossier_id: str) -> None:
    answer = api.http.post(f"/api/me/dossiers/{dossier_id}/submit", headers=auth)
    assert answer.status_code == 200, answer.text


def applicant_sees(api: Api, auth: dict[str, str], dossier_id: str) -> tuple[str, list[tuple[str, str]]]:
    answer = api.http.get(f"/api/me/dossiers/{dossier_id}", headers=auth)
    assert answer.status_code == 200, answer.text
    dossier = answer.json()
    return dossier["state"], sorted((d["id"], d["sha256"]) for d in dossier["documents"])


def prefecture_has(api: Api, agent_auth: dict[str, str], dossier_id: str, documents: Documents) -> bool:
    """The agent's view of the dossier lists exactly these documents, once each."""
    answer = api.http.get(f"/api/agent/dossiers/{dossier_id}", headers=agent_auth)
    if answer.status_code == 404:
        return False
    assert answer.status_code == 200, answer.text
    listed = sorted((d["id"], d["sha256"]) for d in answer.json()["documents"])
    return listed == sorted(documents.items())


def assert_at_prefecture(api: Api, agent_auth: dict[str, str], dossiers: dict[str, Documents]) -> None:
    """Every document reaches the back office, and the content behind it is the content acknowledged."""
    wait_until(
        lambda: all(prefecture_has(api, agent_auth, d, docs) for d, docs in dossiers.items()),
        timeout=BACK_OFFICE_DEADLINE,
    )
    for dossier_id, documents in dossiers.items():
        for document_id, sha256 in documents.items():
            content = api.http.get(
                f"/api/agent/dossiers/{dossier_id}/documents/{document_id}/content", headers=agent_auth
            )
            assert content.status_code == 200, content.text
            assert hashlib.sha256(content.content).hexdigest() == sha256, document_id


@contextlib.contextmanager
def prefecture_inbox_locked(data: tuple[Path, str | None]) -> Iterator[None]:
    """Hold a write lock on the back office's inbox, so that the sync bridge cannot carry a message
    across (it waits on the lock) while the front office goes on acknowledging uploads."""
    folder, url = data
    if url is None:
        connection = sqlite3.connect(folder / "back.db", timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text('LOCK TABLE "back".inbox IN EXCLUSIVE MODE'))
            yield
            transaction.rollback()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_acknowledged_documents_survive_a_sigkill_right_after_submission(
    data: tuple[Path, str | None], smtp: SmtpSink
) -> None:
    applicants, drafter, agent = [applicant_seed() for _ in range(3)], applicant_seed(), agent_seed()
    submitted: dict[str, Documents] = {}
    with running(data, smtp) as (first, api):
        api.set_faults()
        api.seed(*applicants, drafter, agent)
        draft_id, draft_documents = renewal_with_documents(api, api.login(drafter))
        owners: dict[str, dict[str, Any]] = {draft_id: drafter}
        for seed in applicants:
            auth = api.login(seed)
            dossier_id, documents = renewal_with_documents(api, auth, extra=("photo",))
            submit(api, auth, dossier_id)
            submitted[dossier_id], owners[dossier_id] = documents, seed
        first.kill()

    with running(data, smtp) as (_second, api):
        for dossier_id, documents in {**submitted, draft_id: draft_documents}.items():
            state, listed = applicant_sees(api, api.login(owners[dossier_id]), dossier_id)
            assert state == ("draft" if dossier_id == draft_id else "submitted")
            assert listed == sorted(documents.items())
        agent_auth = api.agent_login(agent)
        assert_at_prefecture(api, agent_auth, submitted)
        # The draft's files, acknowledged before the crash, can still be filed and read at the prefecture.
        submit(api, api.login(drafter), draft_id)
        assert_at_prefecture(api, agent_auth, {draft_id: draft_documents})


@pytest.mark.slow
def test_documents_added_to_a_filed_dossier_survive_a_sigkill_in_the_outbox(
    data: tuple[Path, str | None], smtp: SmtpSink
) -> None:
    seed, agent = applicant_seed(), agent_seed()
    with running(data, smtp) as (first, api):
        api.set_faults()
        api.seed(seed, agent)
        auth, agent_auth = api.login(seed), api.agent_login(agent)
        dossier_id, documents = renewal_with_documents(api, auth)
        submit(api, auth, dossier_id)
        wait_until(lambda: prefecture_has(api, agent_auth, dossier_id, documents), timeout=BACK_OFFICE_DEADLINE)
        filed = dict(documents)

        with prefecture_inbox_locked(data):
            added = dict(acknowledged(api, auth, dossier_id, kind) for kind in ("complement", "photo", "complement"))
            # Each upload to a filed dossier waits in the outbox as a document.added message.
            pending = api.admin("GET", "/_admin/sync")
            assert pending.status_code == 200, pending.text
            assert pending.json()["pending"] >= len(added)
            first.kill()
        documents.update(added)

    with running(data, smtp) as (_second, api):
        state, listed = applicant_sees(api, api.login(seed), dossier_id)
        assert state == "submitted"
        assert listed == sorted(documents.items())
        assert len(documents) == len(filed) + 3
        assert_at_prefecture(api, api.agent_login(agent), {dossier_id: documents})
