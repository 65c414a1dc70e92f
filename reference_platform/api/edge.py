"""The ASGI edge: per-route metrics and the generic HTTP faults (latency, errors, outage,
timeout, connection reset), applied before the request reaches the application."""

from __future__ import annotations

import asyncio
import json
import random
import time

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.faults import HttpError, Latency, Timeout
from reference_platform.context import PlatformContext
from reference_platform.domain.security import token_hash
from reference_platform.faults.injector import held_answer
from reference_platform.storage.front import Session as LoginSession

EXEMPT_PREFIXES = ("/_admin", "/metrics", "/healthz")
HTTP_FAULTS = ("outage", "http_error", "timeout", "connection_reset", "latency")


class ConnectionResetFault(Exception):
    """Raised mid-response so the server drops the connection (the client sees a reset)."""


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, context: PlatformContext, routes: list[BaseRoute]) -> None:
        self.app = app
        self.ctx = context
        self.routes = routes
        self._random = random.Random(context.settings.fault_seed)

    def route_template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "unmatched"))
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        faulty = not scope["path"].startswith(EXEMPT_PREFIXES) and self._http_faults()
        # The route's template, for the metrics and the faults' ledger: found here only when an
        # HTTP fault may fire; otherwise the router's own match is read afterwards (a second
        # walk through every route costs more than most routes' work).
        route = self.route_template(scope) if faulty else None
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                if held:  # a fault asked for a late answer (faults.injector.answer_late)
                    await asyncio.sleep(sum(held))
                    held.clear()
            await send(message)

        try:
            with held_answer() as held:
                if faulty:
                    assert route is not None
                    handled = await self._inject(scope, route, faulty, send_wrapper)
                    if handled:
                        return
                await self.app(scope, receive, send_wrapper)
        finally:
            if route is None:
                matched = scope.get("route")
                route = str(getattr(matched, "path", "")) or self.route_template(scope)
            metrics = self.ctx.metrics
            metrics.http_requests.labels(route, scope["method"], str(status_holder["status"])).inc()
            metrics.http_duration.labels(route).observe(time.perf_counter() - started)

    def _http_faults(self) -> list[str]:
        """The generic HTTP faults active now."""
        faults = self.ctx.faults
        return [fault_id for fault_id in HTTP_FAULTS if faults.specs(fault_id)]

    async def _inject(self, scope: Scope, route: str, active: list[str], send: Send) -> bool:
        faults = self.ctx.faults
        # The ledger names the applicant behind an authenticated request (sticky shares need it
        # too); looked up only while an HTTP fault is active.
        applicant = await self._applicant(scope)
        path = scope["path"]
        for fault_id in active:
            spec = faults.fire(fault_id, route=route, path=path, applicant=applicant)
            if spec is None:
                continue
            if fault_id == "outage":
                await _error(send, 503, "service_unavailable", "Le service est momentanément indisponible.")
                return True
            if fault_id == "http_error":
                assert isinstance(spec.params, HttpError)
                await _error(send, spec.params.status, "server_error", "Une erreur est survenue.")
                return True
            if fault_id == "timeout":
                assert isinstance(spec.params, Timeout)
                await asyncio.sleep(spec.params.hang_seconds)
                await _error(send, 504, "gateway_timeout", "Le service n'a pas répondu à temps.")
                return True
            if fault_id == "connection_reset":
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                    }
                )
                await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
                raise ConnectionResetFault(route)
            if fault_id == "latency":
                assert isinstance(spec.params, Latency)
                jitter = self._random.uniform(-spec.params.jitter_ms, spec.params.jitter_ms)
                await asyncio.sleep(max(0.0, spec.params.mean_ms + jitter) / 1000)
        return False

    async def _applicant(self, scope: Scope) -> str | None:
        """The applicant behind the request's session, for the ledger and sticky shares; None if
        anonymous."""
        headers = dict(scope.get("headers") or [])
        token = None
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        else:
            for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "anef_session":
                    token = value
        if not token:
            return None

        def lookup() -> str | None:
            with self.ctx.stores.front.read() as db:
                record = db.get(LoginSession, token_hash(token))
                return record.applicant_id if record else None

        return await asyncio.to_thread(lookup)


async def _error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
