"""Locust's web UI under the target guard.

Locust's UI has no login and no CSRF token: any page the machine's browser opens, or any user of
the machine, could POST ``/swarm`` with ``host=`` and send the load anywhere. So:
- every request must name a loopback host (no DNS rebinding);
- during an ``anef-harness run`` the UI is view-only: the harness drives the load, the UI shows it;
- whatever host the load is given (the command line or the UI), the load starts only if the target
  guard allows it (loopback, or a host of the campaign's ``allow_targets``).
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Flask, Response, request

from core.net import host_of, is_loopback
from synthetic_users.targets import target_problem

# Locust's routes that change something although they are GETs.
CHANGING_GETS = ("/stop", "/stats/reset")


def guard_web_ui(app: Flask, *, view_only: bool) -> None:
    """Refuse non-loopback Host headers, and every change when ``view_only``."""

    @app.before_request
    def _guard() -> Response | None:
        if not is_loopback(host_of(request.host or "")):
            return Response("Host not allowed: Locust's UI answers only to loopback names.\n", status=403)
        changing = request.method not in ("GET", "HEAD") or request.path.rstrip("/").endswith(CHANGING_GETS)
        if view_only and changing:
            return Response(
                "Locust's UI is view-only during an anef-harness run: the harness drives the load.\n", status=403
            )
        return None


def target_refusal(host: str | None, allowed: Collection[str]) -> str | None:
    """Why the load must not start against ``host``, if so."""
    if not host:
        return "no target host given"
    return target_problem(host, allowed)
