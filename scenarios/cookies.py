"""The cookie jar of the harness's Locust users: the standard library's, with what a request of
the login journey does not need skipped.

``http.cookiejar.CookieJar`` is what geventhttpclient (and so Locust's ``FastHttpUser``) keeps
cookies in, and a fifth of the load generator's CPU on the login journey went into it: every
request takes its lock twice and parses its URL again and again, whether or not there is a
cookie to send or to keep. ``SessionCookieJar`` keeps its rules (which cookie is kept, which is
sent where, when it expires) and its code; it only returns early where the standard jar would
find nothing to do, and sends again the ``Cookie`` header it computed a moment earlier when
nothing it depends on can have changed.
"""

from __future__ import annotations

import itertools
import time
from http.cookiejar import Cookie, CookieJar, CookiePolicy, DefaultCookiePolicy
from typing import Any


class SessionCookieJar(CookieJar):
    """``CookieJar`` with three shortcuts, each giving what the standard jar gives:

    - a request to send while the jar is empty gets no ``Cookie`` header, without the lock and the
      policy's checks;
    - an answer without ``Set-Cookie`` (or ``Set-Cookie2``) header changes nothing;
    - while every cookie in the jar has the path ``/``, the ``Cookie`` header depends only on the
      request's scheme, host and origin and on the jar's content, with expiry judged by the
      whole second (as ``CookieJar`` judges it): within one second and until the jar changes,
      a request to the same origin gets the header the previous one got (``/api/me`` then
      ``/api/me/dossiers`` after a login).

    Any other case (another policy, a cookie with a narrower path, a request that already carries
    a ``Cookie`` header) goes through ``CookieJar`` itself.
    """

    # ``CookieJar``'s own attributes (the standard library's stubs leave them out)
    _cookies: dict[str, dict[str, dict[str, Cookie]]]
    _policy: CookiePolicy
    _now: int

    def __init__(self) -> None:
        super().__init__(DefaultCookiePolicy())
        self._numbers = itertools.count(1)
        self._changes = 0  # the number of the jar's last change
        self._sent: tuple[tuple[Any, ...], str] | None = None  # (what the header depends on, the header)

    # Every change of the content goes through these two (``extract_cookies``, ``clear_expired_cookies``,
    # ``clear_session_cookies`` included) and gets a number never seen before: ``next`` on a counter is
    # atomic, so threads changing the jar at once cannot share a number, and a header is given again
    # only under the number it was computed with. (No lock: ``CookieJar.clear`` takes none either, and
    # under gevent a lock is a tenth of what a journey's cookies cost.)
    def set_cookie(self, cookie: Any) -> None:
        super().set_cookie(cookie)
        self._changes = next(self._numbers)

    def clear(self, domain: str | None = None, path: str | None = None, name: str | None = None) -> None:
        super().clear(domain, path, name)
        self._changes = next(self._numbers)

    def add_cookie_header(self, request: Any) -> None:
        if not self._cookies:
            return  # nothing to send (and nothing to expire)
        policy = self._policy
        if type(policy) is not DefaultCookiePolicy or policy.rfc2965 or not request.host:
            super().add_cookie_header(request)
            return
        if request.has_header("Cookie"):
            super().add_cookie_header(request)  # the standard jar leaves it as it is
            return
        key = (
            self._changes,
            int(time.time()),
            request.type,
            request.host,
            request.origin_req_host,
            request.unverifiable,
        )
        sent = self._sent
        if sent is not None and sent[0] == key:
            if sent[1]:
                request.add_unredirected_header("Cookie", sent[1])
            return
        super().add_cookie_header(request)
        # Kept only when the jar did not change meanwhile (``clear_expired_cookies`` ends the call) and
        # the header was judged in the second of the key.
        if self._changes == key[0] and self._now == key[1] and self._paths_are_root():
            self._sent = (key, request.get_header("Cookie") or "")

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.info()
        if "set-cookie" not in headers and "set-cookie2" not in headers:
            return  # ``make_cookies`` would find none
        super().extract_cookies(response, request)

    def _paths_are_root(self) -> bool:
        return all(path == "/" for paths in self._cookies.values() for path in paths)
