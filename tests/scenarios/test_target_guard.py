"""The target guard reads URLs as a browser does and holds behind redirects, in Chromium and in
Locust's web UI."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from core.errors import ConfigError
from scenarios.browser.runner import within_guard
from scenarios.web_guard import guard_web_ui, target_refusal
from synthetic_users.targets import check_target, target_problem


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example\\@127.0.0.1:8000",  # urlsplit says 127.0.0.1; Chromium goes to evil.example
        "http://user:secret@127.0.0.1:8000",
        "http://127.0.0.1@evil.example/",
        "ftp://127.0.0.1/",
        "http:///nohost",
    ],
)
def test_a_disguised_or_foreign_url_is_refused(url: str) -> None:
    assert target_problem(url) is not None
    with pytest.raises(ConfigError):
        check_target(url)


def test_loopback_urls_are_read_as_the_browser_reads_them() -> None:
    assert target_problem("http://127.1:8000/") is None
    assert check_target("http://LOCALHOST:8000/") == "http://localhost:8000"
    assert target_problem("http://[::1]:8000") is None
    assert target_problem("http://203.0.113.7:8000", ["203.0.113.7"]) is None


class _Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://evil.example/steal")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def redirecting() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# Locust patches the interpreter with gevent when imported: it runs in a process of its own.
FOLLOW = """
import sys
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from scenarios.users import LocustTransport
session = FastHttpSession(sys.argv[1], Environment().events.request, user=None)
print(LocustTransport(session).send("GET", "/api/me", name="/api/me", expect={200}).status)
"""


def test_locusts_client_does_not_follow_a_redirect(redirecting: str) -> None:
    """A redirect to another host is an unexpected status, not a request sent there."""
    followed = subprocess.run(
        [sys.executable, "-c", FOLLOW, redirecting], capture_output=True, text=True, timeout=60, check=False
    )
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.strip() == "302"


def test_chromium_may_reach_only_the_target_and_loopback() -> None:
    target = "http://127.0.0.1:8000"
    assert within_guard("http://127.0.0.1:8000/connexion", target)
    assert within_guard("http://localhost:9/x", target)
    assert not within_guard("http://evil.example/steal", target)
    assert not within_guard("http://evil.example\\@127.0.0.1:8000/", target)
    assert within_guard("https://anef.test/x", "https://anef.test")


def test_locusts_web_ui_is_view_only_during_a_run_and_answers_loopback_names_only() -> None:
    app = Flask("locust-ui")

    @app.route("/", methods=["GET"])
    def index() -> str:
        return "ui"

    @app.route("/swarm", methods=["POST"])
    def swarm() -> str:
        return "swarming"

    @app.route("/stop", methods=["GET"])
    def stop() -> str:
        return "stopped"

    guard_web_ui(app, view_only=True)
    client = app.test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8089"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example:8089"}).status_code == 403
    assert client.post("/swarm", data={"host": "http://evil.example"}, headers={"Host": "localhost"}).status_code == 403
    assert client.get("/stop", headers={"Host": "localhost"}).status_code == 403


def test_a_host_given_through_the_web_ui_is_guarded() -> None:
    assert target_refusal("http://evil.example", []) is not None
    assert target_refusal("http://127.0.0.1:8000", []) is None
    assert target_refusal(None, []) == "no target host given"
