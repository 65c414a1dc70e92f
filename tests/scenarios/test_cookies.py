"""The harness's cookie jar sends and keeps exactly what the standard library's jar does, and the
Locust transport really sends the session cookie and follows a Set-Cookie that changes it."""

from __future__ import annotations

import http.client
import io
import json
import subprocess
import sys
from collections.abc import Sequence
from http.cookiejar import CookieJar

from geventhttpclient.header import Headers
from geventhttpclient.useragent import CompatRequest

from scenarios.cookies import SessionCookieJar

HOST = "http://127.0.0.1:8000"


class Answer:
    """An answer as a jar reads it (``info()``: its headers, parsed as ``http.client`` does)."""

    def __init__(self, *set_cookies: str) -> None:
        raw = "".join(f"Set-Cookie: {value}\r\n" for value in set_cookies) + "Content-Type: application/json\r\n\r\n"
        self.headers = http.client.parse_headers(io.BytesIO(raw.encode("latin-1")))

    def info(self) -> http.client.HTTPMessage:
        return self.headers


# Each step: ("send", url, headers already on the request) or ("answer", url, Set-Cookie values) or ("clear",).
Step = tuple[str, ...] | tuple[str, str, tuple[str, ...]]


def replay(jar: CookieJar, steps: Sequence[Step]) -> list[str | None]:
    """The ``Cookie`` header of each request sent, in order."""
    sent: list[str | None] = []
    for step in steps:
        if step[0] == "clear":
            jar.clear()
            continue
        url, extra = str(step[1]), step[2]
        if step[0] == "answer":
            jar.extract_cookies(Answer(*extra), CompatRequest(url, "POST", headers=Headers()))
            continue
        headers = Headers({"Authorization": "Bearer t", **dict(item.split("=", 1) for item in extra)})
        request = CompatRequest(url, "GET", headers=headers)
        jar.add_cookie_header(request)
        sent.append(request.get_header("Cookie"))
    return sent


def same_as_the_standard_jar(steps: Sequence[Step]) -> list[str | None]:
    ours, standard = replay(SessionCookieJar(), steps), replay(CookieJar(), steps)
    assert ours == standard
    return ours


SESSION = "anef_session=first; HttpOnly; Max-Age=28800; Path=/; SameSite=lax"


def test_the_session_cookie_is_sent_after_the_login_and_a_new_one_replaces_it() -> None:
    sent = same_as_the_standard_jar(
        [
            ("send", f"{HOST}/api/auth/login", ()),
            ("answer", f"{HOST}/api/auth/login", (SESSION,)),
            ("send", f"{HOST}/api/me", ()),
            ("send", f"{HOST}/api/me/dossiers", ()),
            ("answer", f"{HOST}/api/me", ()),  # an answer without Set-Cookie changes nothing
            ("send", f"{HOST}/api/me/dossiers", ()),
            ("answer", f"{HOST}/api/auth/login", ("anef_session=second; HttpOnly; Max-Age=28800; Path=/",)),
            ("send", f"{HOST}/api/me", ()),
            ("answer", f"{HOST}/api/auth/logout", ('anef_session=""; Max-Age=0; Path=/',)),
            ("send", f"{HOST}/api/me", ()),
        ]
    )
    assert sent == [
        None,
        "anef_session=first",
        "anef_session=first",
        "anef_session=first",
        "anef_session=second",
        None,
    ]


def test_a_cleared_jar_sends_nothing_and_a_new_applicant_gets_their_own_cookie() -> None:
    sent = same_as_the_standard_jar(
        [
            ("answer", f"{HOST}/api/auth/login", (SESSION,)),
            ("send", f"{HOST}/api/me", ()),
            ("clear",),
            ("send", f"{HOST}/api/me", ()),
            ("answer", f"{HOST}/api/auth/login", ("anef_session=other; Path=/",)),
            ("send", f"{HOST}/api/me", ()),
        ]
    )
    assert sent == ["anef_session=first", None, "anef_session=other"]


def test_paths_hosts_schemes_and_a_cookie_already_on_the_request_follow_the_standard_rules() -> None:
    other = "http://127.0.0.2:8000"
    sent = same_as_the_standard_jar(
        [
            ("answer", f"{HOST}/api/auth/login", (SESSION, "narrow=1; Path=/api/me")),
            ("send", f"{HOST}/api/me", ()),
            ("send", f"{HOST}/api/me/dossiers", ()),
            ("send", f"{HOST}/healthz", ()),
            ("send", f"{other}/api/me", ()),
            ("send", f"{HOST}/api/me", ("Cookie=mine=1",)),
            ("answer", f"{HOST}/api/auth/login", ("secret=1; Path=/; Secure",)),
            ("send", f"{HOST}/healthz", ()),
            ("send", "https://127.0.0.1:8000/healthz", ()),
            ("answer", f"{HOST}/api/auth/login", ("gone=1; Path=/; Expires=Thu, 01 Jan 2004 00:00:00 GMT",)),
            ("send", f"{HOST}/healthz", ()),
        ]
    )
    assert sent[:3] == ["narrow=1; anef_session=first", "narrow=1; anef_session=first", "anef_session=first"]
    assert sent[3] is None  # another host
    assert sent[4] == "mine=1"  # the standard jar leaves a Cookie header already there
    assert sent[5] == "anef_session=first"  # a Secure cookie is not sent over http
    assert sent[6] == "anef_session=first; secret=1"
    assert sent[7] == "anef_session=first"  # an expired cookie is not kept


def test_the_same_header_is_given_again_only_while_nothing_changed() -> None:
    jar = SessionCookieJar()
    jar.extract_cookies(Answer(SESSION), CompatRequest(f"{HOST}/api/auth/login", "POST", headers=Headers()))
    first = CompatRequest(f"{HOST}/api/me", "GET", headers=Headers())
    jar.add_cookie_header(first)
    jar.extract_cookies(Answer("anef_session=rotated; Path=/"), first)
    second = CompatRequest(f"{HOST}/api/me/dossiers", "GET", headers=Headers())
    jar.add_cookie_header(second)
    assert (first.get_header("Cookie"), second.get_header("Cookie")) == ("anef_session=first", "anef_session=rotated")


# Over the wire, in a Locust process (Locust patches the interpreter with gevent): a gevent server
# sets, rotates and deletes the session cookie and echoes the Cookie header it received.
WIRE = """
import json
from gevent.pywsgi import WSGIServer
from locust import events
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from scenarios.users import LocustTransport

COOKIES = {"/login": "anef_session=v1; HttpOnly; Path=/", "/rotate": "anef_session=v2; HttpOnly; Path=/",
           "/logout": 'anef_session=""; Max-Age=0; Path=/'}

def app(environ, start_response):
    path = environ["PATH_INFO"]
    headers = [("Content-Type", "text/plain")]
    if path in COOKIES:
        headers.append(("Set-Cookie", COOKIES[path]))
    start_response("200 OK", headers)
    return [environ.get("HTTP_COOKIE", "-").encode()]

server = WSGIServer(("127.0.0.1", 0), app, log=None)
server.start()
environment = Environment(events=events)
session = FastHttpSession(f"http://127.0.0.1:{server.server_port}", environment.events.request, user=None)
transport = LocustTransport(session)
seen = []
for path in ("/echo", "/login", "/api/me", "/api/me/dossiers", "/rotate", "/api/me", "/logout", "/api/me", "/login"):
    seen.append(transport.send("GET", path, name=path, expect=(200,)).body.decode())
session.cookiejar.clear()
seen.append(transport.send("GET", "/api/me", name="/api/me", expect=(200,)).body.decode())
jar = session.client.cookiejar
print(json.dumps({"seen": seen, "jar": type(jar).__name__, "same": session.cookiejar is jar}))
"""


def test_the_locust_transport_sends_the_session_cookie_and_follows_its_changes() -> None:
    ran = subprocess.run([sys.executable, "-c", WIRE], capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["jar"] == "SessionCookieJar"
    assert out["same"]  # what the users clear is what the user agent sends from
    assert out["seen"] == [
        "-",  # nothing yet
        "-",  # the login's own request carries no cookie
        "anef_session=v1",
        "anef_session=v1",
        "anef_session=v1",  # the request that rotates it still sends the old one
        "anef_session=v2",
        "anef_session=v2",
        "-",  # deleted by Max-Age=0
        "-",
        "-",  # cleared (a new applicant)
    ]
