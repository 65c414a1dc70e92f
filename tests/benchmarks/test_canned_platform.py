"""The overhead benchmark's canned platform: it replays recorded answers as the real platform gave them."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx

from benchmarks.overhead.canned import CannedPlatform

COOKIE = "anef_session=tok-a; HttpOnly; Path=/; SameSite=lax"


def answer(status: int, body: object, *headers: tuple[str, str]) -> dict[str, object]:
    pairs = [["content-type", "application/json"], *[list(pair) for pair in headers]]
    return {"status": status, "headers": pairs, "body": json.dumps(body)}


def answers_file(tmp_path: Path) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps(
            {
                "logins": {
                    "a@example.org": answer(200, {"token": "tok-a", "applicant_id": "A"}, ("set-cookie", COOKIE)),
                    "b@example.org": answer(200, {"token": "tok-b", "applicant_id": "B"}),
                },
                "tokens": {
                    "tok-a": {"/api/me": answer(200, {"id": "A"}), "/api/me/dossiers": answer(200, [])},
                    "tok-b": {"/api/me": answer(200, {"id": "B"}), "/api/me/dossiers": answer(200, [{"id": "d"}])},
                },
            }
        )
    )
    return path


def test_answers_are_found_by_identifier_and_token_on_one_kept_alive_connection(tmp_path: Path) -> None:
    with CannedPlatform(answers_file(tmp_path)) as canned, httpx.Client(base_url=canned.url) as client:
        login = client.post("/api/auth/login", json={"identifier": "b@example.org", "password": "x"})
        assert login.status_code == 200
        assert login.json() == {"token": "tok-b", "applicant_id": "B"}
        bearer = {"Authorization": "Bearer tok-b"}
        assert client.get("/api/me", headers=bearer).json() == {"id": "B"}
        assert client.get("/api/me/dossiers", headers=bearer).json() == [{"id": "d"}]
        first = client.post("/api/auth/login", json={"identifier": "a@example.org", "password": "x"})
        assert first.headers["set-cookie"] == COOKIE  # recorded headers come back as recorded
        assert client.get("/api/me", headers={"Authorization": "Bearer tok-a"}).json() == {"id": "A"}


def test_what_was_not_recorded_is_refused(tmp_path: Path) -> None:
    with CannedPlatform(answers_file(tmp_path)) as canned, httpx.Client(base_url=canned.url) as client:
        assert client.post("/api/auth/login", json={"identifier": "c@example.org"}).status_code == 401
        assert client.post("/api/auth/login", content=b"not json").status_code == 401
        assert client.get("/api/me", headers={"Authorization": "Bearer other"}).status_code == 401
        assert client.get("/api/me/procedures", headers={"Authorization": "Bearer tok-a"}).status_code == 404
        assert client.get("/healthz").status_code == 200


def test_pipelined_and_split_requests_get_their_answers_in_order(tmp_path: Path) -> None:
    body = b'{"identifier": "a@example.org"}'
    login = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    me = b"GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-b\r\n\r\n"
    with CannedPlatform(answers_file(tmp_path)) as canned:
        port = int(canned.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(login[:20])
            sock.sendall(login[20:] + me)
            received = b""
            while received.count(b"HTTP/1.1 ") < 2 or not received.endswith(b'{"id": "B"}'):
                chunk = sock.recv(65536)
                assert chunk, f"connection closed after {received!r}"
                received += chunk
    assert received.index(b'"token": "tok-a"') < received.index(b'{"id": "B"}')
