"""The outermost ASGI layer: what every request meets before any route code runs.

- **Host allowlist.** A request whose ``Host`` header names a host the platform does not serve is
  refused (400): a web page cannot reach the platform through DNS rebinding.
- **Body-size limit, enforced while streaming.** A declared ``Content-Length`` over the route's
  limit is refused (413) before a byte of the body is read; a body without one is counted as it
  arrives and cut at the limit. Nothing is buffered or spooled past the limit, so a 1 GB body
  costs neither memory nor disk. The response closes the connection, so the server does not go on
  reading what the client still sends.
- **Security headers** on every response: CSP, frame denial, nosniff, no referrer (reset links
  carry their token in the URL), same-origin opener.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.net import host_of
from reference_platform.api.uploads import MULTIPART_ALLOWANCE
from reference_platform.settings import Settings

# Swagger UI and ReDoc load their scripts from a CDN: they are developer pages, without a CSP.
CSP_EXEMPT = ("/docs", "/redoc")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
UPLOAD_SUFFIXES = ("/documents", "/pieces")  # the API's and the pages' upload routes


class BodyTooLarge(Exception):
    """The body went past the route's limit while it was being read."""


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """Loopback names, the listening address and the public URL's host, plus any allowed explicitly."""
    from urllib.parse import urlsplit

    hosts = {"127.0.0.1", "localhost", "::1", *(h.lower() for h in settings.allowed_hosts)}
    if settings.host not in ("0.0.0.0", "::"):  # noqa: S104 - compared with, not bound to
        hosts.add(settings.host.lower())
    if settings.public_url:
        hosts.add((urlsplit(settings.public_url).hostname or "").lower())
    return frozenset(hosts)


def body_limit(settings: Settings, method: str, path: str) -> int:
    """The most a request body to this route may hold."""
    if method == "POST" and path.endswith(UPLOAD_SUFFIXES):
        return settings.upload_max_bytes + MULTIPART_ALLOWANCE
    if path == "/_admin/seed":
        return settings.seed_max_bytes
    return settings.body_max_bytes


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = allowed_hosts(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = host_of(headers.get(b"host", b"").decode("latin-1"))
        if host not in self.hosts:
            await _refuse(send, 400, "host_not_allowed", "Hôte non autorisé.")
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, "body_too_large", _too_large(limit))
            return
        if not _content_type_fits(scope["method"], scope["path"], headers):
            await _refuse(send, 415, "unsupported_media_type", "Content-Type: application/json attendu.")
            return
        received = 0
        exceeded = answered = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def secured_send(message: Message) -> None:
            nonlocal answered
            if exceeded:  # whatever the app makes of a cut body (FastAPI: a 400), the answer is 413
                if not answered:
                    answered = True
                    await _refuse(send, 413, "body_too_large", _too_large(limit))
                return
            if message["type"] == "http.response.start":
                answered = True
                message = {**message, "headers": _with_security(message.get("headers", []), scope["path"])}
            await send(message)

        try:
            await self.app(scope, counted_receive, secured_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await _refuse(send, 413, "body_too_large", _too_large(limit))


def _content_type_fits(method: str, path: str, headers: dict[bytes, bytes]) -> bool:
    """A JSON API body must say it is JSON: a body without a Content-Type, or as text/plain (which a
    page of another site can send without asking), is not parsed as JSON."""
    if method in ("GET", "HEAD", "OPTIONS") or not path.startswith(("/api/", "/_admin/")):
        return True
    if path.endswith(UPLOAD_SUFFIXES) or path == "/_admin/seed":
        return True  # multipart forms and NDJSON, checked by their routes
    has_body = headers.get(b"content-length", b"0").strip() not in (b"", b"0") or b"transfer-encoding" in headers
    media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return not has_body or media == b"application/json" or media.endswith(b"+json")


def _too_large(limit: int) -> str:
    return f"Le corps de la requête dépasse la taille autorisée ({limit} octets)."


def _with_security(headers: Iterable[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    out = list(headers)
    present = {name.lower() for name, _ in out}
    out += [(name, value) for name, value in HEADERS if name not in present]
    if not path.startswith(CSP_EXEMPT) and b"content-security-policy" not in present:
        out.append((b"content-security-policy", CSP.encode()))
    return out


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": _with_security(headers, "")})
    await send({"type": "http.response.body", "body": body})
