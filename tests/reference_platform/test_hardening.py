"""The platform against hostile input: what a trusted service refuses before any route code runs.

Each test fails when its protection is removed: the body-size limit (enforced while streaming, so
a 1 GB body costs neither memory nor disk), the Host allowlist, the security headers, uploads
checked for ownership before anything is written, the admin token's minimum length.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import extract_parameters
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select, update

from reference_platform.app import create_app
from reference_platform.domain.security import Passwords
from reference_platform.settings import REAL_ACCOUNT_COST, SYNTHETIC_ACCOUNT_COST, Settings
from reference_platform.storage.back import AgentSession
from reference_platform.storage.front import Email
from reference_platform.storage.front import Session as LoginSession
from tests.support import Api, PlatformProcess, SmtpSink, agent_seed, applicant_seed, pdf_bytes, wait_until

GIB = 1024**3
ROUTES = [
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/me/dossiers/0123456789abcdef0123456789abcdef/documents"),
    ("POST", "/connexion"),
    ("POST", "/_admin/seed"),
    ("PUT", "/_admin/faults"),
    ("GET", "/healthz"),
]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (kB) and the bytes the process passed to write(2) (wchar)."""
    figures: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0])
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "wchar":
            figures[name] = int(value)
    return figures


def raw_request(port: int, head: str, body_chunks: int = 0, chunk: bytes = b"", prefix: bytes = b"") -> tuple[int, int]:
    """Send a request head, then up to ``body_chunks`` chunks while the server listens; returns the
    response's status and the bytes of body sent before the server answered or closed."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + (f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n" if prefix else b""))
        sock.setblocking(False)
        for _ in range(body_chunks):
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # the server has answered
            except BlockingIOError:
                pass
            try:
                sock.setblocking(True)
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                sock.setblocking(False)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    return int(answer.split(b" ", 2)[1]), sent


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_declared_gigabyte_is_refused_before_it_is_read(platform: PlatformProcess, method: str, path: str) -> None:
    assert platform.process is not None
    before = proc_status(platform.process.pid)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{platform.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {GIB}\r\n\r\n"
    )
    status, _ = raw_request(platform.port, head)
    after = proc_status(platform.process.pid)
    assert status == 413
    assert after["VmRSS"] - before["VmRSS"] < 50 * 1024, (before, after)
    assert after["wchar"] - before["wchar"] < 64 * 1024, (before, after)  # the answer only, no spooled body


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/me/dossiers/0123456789abcdef0123456789abcdef/documents"])
def test_a_streamed_body_is_cut_at_the_limit(platform: PlatformProcess, api: Api, path: str) -> None:
    """Without a Content-Length, the body is counted as it arrives and refused once past the limit:
    a gigabyte's worth of chunks is never read, buffered or spooled."""
    assert platform.process is not None
    applicant = applicant_seed()
    api.seed(applicant)
    token = api.login(applicant)["Authorization"]
    if "documents" in path:
        draft = api.http.post("/api/me/dossiers", headers={"Authorization": token}, json={"procedure": "renewal"})
        path = path.replace("0123456789abcdef0123456789abcdef", draft.json()["id"])
    media = "multipart/form-data; boundary=x" if "documents" in path else "application/json"
    before = proc_status(platform.process.pid)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{platform.port}\r\nAuthorization: {token}\r\n"
        f"Content-Type: {media}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * (1024 * 1024)
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="p.pdf"\r\n\r\n%PDF-1.4\n'
    status, sent = raw_request(platform.port, head, body_chunks=1024, chunk=chunk, prefix=part)
    after = proc_status(platform.process.pid)
    assert status == 413
    assert sent < 200 * len(chunk), f"{sent} bytes were read before the refusal"
    assert after["VmHWM"] - before["VmHWM"] < 50 * 1024, (before, after)
    assert after["wchar"] - before["wchar"] < 64 * 1024, (before, after)


def test_an_upload_to_another_applicants_dossier_writes_nothing(platform: PlatformProcess, api: Api) -> None:
    owner, intruder = applicant_seed(), applicant_seed()
    api.seed(owner, intruder)
    draft = api.http.post("/api/me/dossiers", headers=api.login(owner), json={"procedure": "renewal"}).json()
    blobs = platform.data_dir / "blobs"
    stored = sorted(blobs.rglob("*")) if blobs.exists() else []
    document = pdf_bytes(3 * 1024 * 1024)  # past Starlette's 1 MiB in-memory spool
    refused = api.upload(api.login(intruder), draft["id"], "passport", document)
    assert refused.status_code == 404, refused.text
    assert (sorted(blobs.rglob("*")) if blobs.exists() else []) == stored


def test_a_host_the_platform_does_not_serve_is_refused(platform: PlatformProcess, api: Api) -> None:
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends ``Host: evil.example``."""
    rebound = api.http.get("/healthz", headers={"Host": "evil.example"})
    assert rebound.status_code == 400
    assert rebound.json()["error"]["code"] == "host_not_allowed"
    assert api.http.get("/healthz", headers={"Host": f"localhost:{platform.port}"}).status_code == 200
    assert api.http.get("/healthz").status_code == 200


def test_pages_carry_the_security_headers(api: Api) -> None:
    page = api.http.get("/connexion")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("token", ["", "court", "x" * 15])
def test_a_short_admin_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="admin_token"):
        Settings(admin_token=token)


def test_the_embedded_entry_point_refuses_an_empty_admin_token(tmp_path: Path) -> None:
    started = subprocess.run(
        [sys.executable, "-m", "reference_platform", f'{{"port": 0, "data_dir": "{tmp_path}"}}'],
        env={**os.environ, "ANEF_ADMIN_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1, started.stderr
    assert "admin_token" in lines[0]


# --- login throttling --------------------------------------------------------------------------


def guess(url: str, identifier: str, password: str, source: str = "127.0.0.1") -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        return client.post("/api/auth/login", json={"identifier": identifier, "password": password}).status_code


def test_parallel_guesses_cannot_pass_the_limit(platform: PlatformProcess, api: Api) -> None:
    """Twenty wrong passwords at once for one account: at most five are checked (401), the rest
    are refused by the limit (429); the owner, from another client, still signs in."""
    victim = applicant_seed()
    api.seed(victim)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: guess(platform.url, victim["email"], "Mauvais-mot-de-passe-1"), range(20)))
    assert answers.count(401) <= 5, answers
    assert answers.count(429) >= 15, answers
    assert guess(platform.url, victim["email"], victim["password"]) == 429  # the attacker's client is locked out
    assert guess(platform.url, victim["email"], victim["password"], source="127.0.0.2") == 200


def test_an_unknown_account_costs_what_a_real_account_costs() -> None:
    """The dummy check behind an unknown identifier uses the real accounts' argon2 parameters, the
    highest an account can have: a cheaper one would tell accounts from non-accounts by timing."""
    passwords = Passwords(REAL_ACCOUNT_COST, SYNTHETIC_ACCOUNT_COST)
    parameters = extract_parameters(passwords._dummy)
    assert (parameters.time_cost, parameters.memory_cost) == (
        REAL_ACCOUNT_COST.time_cost,
        REAL_ACCOUNT_COST.memory_cost_kib,
    )


# --- password reset ----------------------------------------------------------------------------


def test_reset_requests_are_limited_per_address(app_settings: Settings, smtp: SmtpSink) -> None:
    """Mail bombing: past the limit, the answer is 429 for an address with or without an account
    (the refusal tells nothing), and no further e-mail goes out."""
    settings = app_settings.model_copy(update={"reset_max_requests": 3})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        api = Api(client)
        victim = applicant_seed()
        api.seed(victim)
        for address in (victim["email"], "personne@example.org"):
            answers = [client.post("/api/auth/password-reset", json={"email": address}).status_code for _ in range(5)]
            assert answers == [202, 202, 202, 429, 429], (address, answers)
        smtp.wait_for(victim["email"], timeout=10, count=3)
        assert len(smtp.to(victim["email"])) == 3


def test_sent_mail_keeps_no_reset_link(app_api: Api, smtp: SmtpSink) -> None:
    applicant = applicant_seed()
    app_api.seed(applicant)
    assert app_api.http.post("/api/auth/password-reset", json={"email": applicant["email"]}).status_code == 202
    smtp.wait_for(applicant["email"], timeout=10)
    context = app_api.http.app.state.context  # type: ignore[attr-defined]

    def kept() -> list[str]:
        with context.stores.front.read() as db:
            return [e.body for e in db.scalars(select(Email).where(Email.recipient == applicant["email"]))]

    wait_until(lambda: kept() and all(body == "" for body in kept()), 10)
    assert not any("jeton=" in body for body in kept())


# --- cookie-authenticated API calls ------------------------------------------------------------


def test_an_api_call_on_the_session_cookie_alone_needs_the_csrf_token(platform: PlatformProcess, api: Api) -> None:
    """A page of another site (any other 127.0.0.1 port is same-site) can make the browser send the
    session cookie, not a header: a change made on the cookie alone must carry X-CSRF-Token."""
    applicant = applicant_seed()
    api.seed(applicant)
    token = api.login(applicant)["Authorization"].removeprefix("Bearer ")
    with httpx.Client(base_url=platform.url, timeout=10) as browser:
        browser.cookies.set("anef_session", token)
        forged = browser.post("/api/me/dossiers", json={"procedure": "renewal"})
        assert forged.status_code == 403, forged.text
        assert forged.json()["error"]["code"] == "csrf"
        assert browser.get("/api/me").status_code == 200  # reading is not a change
        csrf = browser.get("/api/auth/csrf").json()["token"]
        made = browser.post("/api/me/dossiers", json={"procedure": "renewal"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
    bearer = api.http.post(
        "/api/me/dossiers", headers={"Authorization": f"Bearer {token}"}, json={"procedure": "duplicate"}
    )
    assert bearer.status_code in (201, 409), bearer.text  # a bearer token is never sent by a browser on its own


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_must_say_it_is_json(api: Api, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"identifier": "x@example.org", "password": "y"}'
    refused = api.http.post("/api/auth/login", content=body, headers=headers)  # raw bytes: no Content-Type added
    assert refused.status_code == 415, refused.text
    assert refused.json()["error"]["code"] == "unsupported_media_type"


# --- sessions ----------------------------------------------------------------------------------


def test_an_idle_session_ends(app_api: Api) -> None:
    """A session unused for ``session_idle_seconds`` ends, applicant's and agent's alike (the
    clock is moved by rewinding ``last_seen`` in the database, not by waiting)."""
    applicant, agent = applicant_seed(), agent_seed()
    app_api.seed(applicant, agent)
    applicant_auth, agent_auth = app_api.login(applicant), app_api.agent_login(agent)
    assert app_api.http.get("/api/me", headers=applicant_auth).status_code == 200
    assert app_api.http.get("/api/agent/queue", headers=agent_auth).status_code == 200
    context = app_api.http.app.state.context  # type: ignore[attr-defined]
    long_ago = datetime.now(UTC) - timedelta(seconds=context.settings.session_idle_seconds + 1)
    with context.stores.front.write() as db:
        db.execute(update(LoginSession).values(last_seen=long_ago))
    with context.stores.back.write() as db:
        db.execute(update(AgentSession).values(last_seen=long_ago))
    for path, auth in (("/api/me", applicant_auth), ("/api/agent/queue", agent_auth)):
        expired = app_api.http.get(path, headers=auth)
        assert expired.status_code == 401, expired.text
        assert expired.json()["error"]["code"] == "session_expired"


def test_a_session_in_use_is_kept_alive_by_the_keeper_not_by_the_request(app_settings: Settings) -> None:
    """A request that finds its session's ``last_seen`` a minute old only notes it; the session
    keeper writes it (one statement per side, and once more when the platform stops), so the idle
    timeout adds no write to a request."""
    settings = app_settings.model_copy(update={"session_flush_seconds": 60})  # no pass during the test
    app = create_app(settings)
    context = app.state.context
    a_while_ago = datetime.now(UTC) - timedelta(seconds=settings.session_idle_seconds / 2)

    def last_seen() -> list[datetime]:
        with context.stores.front.read() as db:
            front = list(db.scalars(select(LoginSession.last_seen)))
        with context.stores.back.read() as db:
            return front + list(db.scalars(select(AgentSession.last_seen)))

    with TestClient(app, base_url="http://127.0.0.1") as client:
        api = Api(client)
        applicant, agent = applicant_seed(), agent_seed()
        api.seed(applicant, agent)
        applicant_auth, agent_auth = api.login(applicant), api.agent_login(agent)
        with context.stores.front.write() as db:
            db.execute(update(LoginSession).values(last_seen=a_while_ago))
        with context.stores.back.write() as db:
            db.execute(update(AgentSession).values(last_seen=a_while_ago))
        assert client.get("/api/me", headers=applicant_auth).status_code == 200
        assert client.get("/api/agent/queue", headers=agent_auth).status_code == 200
        assert last_seen() == [a_while_ago, a_while_ago]  # noted, not written
    # The app stopped (the TestClient's lifespan ended): the keeper wrote what it had noted.
    assert all(seen > a_while_ago for seen in last_seen())


def test_an_agent_can_log_out(api: Api) -> None:
    agent = agent_seed()
    api.seed(agent)
    auth = api.agent_login(agent)
    assert api.http.post("/api/agent/logout", headers=auth).status_code == 204
    assert api.http.get("/api/agent/queue", headers=auth).status_code == 401


def test_listening_beyond_loopback_needs_consent(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="allow-remote"):
        Settings(host="0.0.0.0")
    assert Settings(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    refused = subprocess.run(
        [sys.executable, "-m", "anef_harness", "platform", "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "--host: 0.0.0.0 is not a loopback address" in refused.stderr


def test_a_refused_upload_leaves_no_file_behind(app_settings: Settings) -> None:
    """Every refusal (an unknown kind, a full dossier, the applicant's quota) comes before the file
    is stored: a refused upload cannot fill the disk."""
    settings = app_settings.model_copy(update={"dossier_max_documents": 2, "applicant_storage_max_bytes": 150_000})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        api = Api(client)
        applicant = applicant_seed()
        api.seed(applicant)
        auth = api.login(applicant)
        draft = client.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"}).json()
        blobs = settings.data_dir / "blobs"

        def stored() -> int:
            return sum(1 for path in blobs.rglob("*") if path.is_file())

        assert api.upload(auth, draft["id"], "passport", pdf_bytes(60_000)).status_code == 201
        unknown = api.upload(auth, draft["id"], "carte_vitale", pdf_bytes(10_000))
        assert unknown.status_code == 422
        over_quota = api.upload(auth, draft["id"], "photo", pdf_bytes(100_000))
        assert over_quota.status_code == 413
        assert over_quota.json()["error"]["code"] == "storage_quota"
        assert api.upload(auth, draft["id"], "photo", pdf_bytes(20_000)).status_code == 201
        full = api.upload(auth, draft["id"], "proof_of_address", pdf_bytes(5_000))
        assert full.status_code == 409
        assert full.json()["error"]["code"] == "too_many_documents"
        assert stored() == 2


def test_an_applicants_file_reaches_the_agent_as_an_attachment(api: Api) -> None:
    """Never rendered inline in the agent's browser: an uploaded file is untrusted content."""
    applicant, agent = applicant_seed(), agent_seed()
    api.seed(applicant, agent)
    dossier = api.submitted_renewal(api.login(applicant))
    agent_auth = api.agent_login(agent)
    document = dossier["documents"][0]["id"]
    path = f"/api/agent/dossiers/{dossier['id']}/documents/{document}/content"
    wait_until(lambda: api.http.get(path, headers=agent_auth).status_code == 200, 10)
    served = api.http.get(path, headers=agent_auth)
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("line", "said"),
    [(b"\x00\xc3\xba^ \xf3\x9e\xab\xa8\xc3\x94", "line 1: not JSON"), (b"\xff\xfe{}", "line 1: not UTF-8")],
)
def test_a_seed_line_that_is_not_utf8_json_is_invalid_input(api: Api, line: bytes, said: str) -> None:
    """Found by schemathesis: json.loads on bytes guessed UTF-16 from a NUL byte and raised a 500."""
    refused = api.admin("POST", "/_admin/seed", content=line, headers={"Content-Type": "application/x-ndjson"})
    assert refused.status_code == 422, refused.text
    assert said in refused.json()["error"]["message"]


def test_the_longest_identifiers_are_counted_not_crashed_on(api: Api) -> None:
    """Found by schemathesis on PostgreSQL: a 254-character identifier with its client made a
    throttle key longer than the column (a 500); long keys are kept by their SHA-256."""
    identifier = "0" * 254
    assert api.http.post("/api/auth/login", json={"identifier": identifier, "password": "x"}).status_code == 401
    address = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.org"
    assert api.http.post("/api/auth/password-reset", json={"email": address}).status_code == 202
