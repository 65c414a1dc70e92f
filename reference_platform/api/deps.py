"""Dependencies shared by the routes: the platform context and the authenticated caller.

Handlers open their write transactions themselves (``with ctx.stores.front.write()``) so that
the commit happens before the response is sent: an acknowledgement is never ahead of the disk.
"""

from __future__ import annotations

import hmac
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.domain import accounts, prefecture
from reference_platform.domain.security import csrf_valid
from reference_platform.errors import Forbidden
from reference_platform.storage.back import Agent
from reference_platform.storage.front import Applicant

SESSION_COOKIE = "anef_session"
CSRF_COOKIE = "anef_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ObjectId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="an identifier given by the platform")]
"""Every object's id (dossier, document, request, card) is 32 lowercase hex digits."""


async def get_context(request: Request) -> PlatformContext:
    """Async, so FastAPI calls it on the event loop: a sync dependency costs a round trip through
    the thread pool (two thread switches) on every request, for a dictionary read."""
    context: PlatformContext = request.app.state.context
    return context


Context = Annotated[PlatformContext, Depends(get_context)]


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)


def api_credentials(request: Request, ctx: PlatformContext) -> str | None:
    """The session token of an API call. A bearer token is never sent by a browser on its own; the
    session cookie is, so a call that changes something on the cookie alone must also carry the
    CSRF token (``X-CSRF-Token``, from ``GET /api/auth/csrf``) bound to the CSRF cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    submitted = request.headers.get(CSRF_HEADER)
    unsafe = cookie is not None and request.method not in SAFE_METHODS
    if unsafe and not csrf_valid(ctx.settings.secret_key, request.cookies.get(CSRF_COOKIE), submitted):
        raise Forbidden("csrf", "Jeton CSRF absent ou invalide (en-tête X-CSRF-Token).")
    return cookie


def client_of(request: Request) -> str:
    """The peer's address, one of the login throttle's keys (the platform trusts no forwarding header)."""
    return request.client.host if request.client else "unknown"


def route_of(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


@dataclass(frozen=True)
class Caller:
    """The credentials of an API call. ``api_caller`` checks on the event loop what needs no
    database (the CSRF token of a cookie call that changes something); the
    route looks the session up with ``applicant()`` or ``agent()`` in its own thread-pool round
    trip (``one_hop``), where a sync dependency would cost one more."""

    ctx: PlatformContext
    token: str | None  # None: refused as not authenticated when the route asks who it is
    route: str

    def applicant(self, db: Session | None = None) -> Applicant:
        """The applicant behind the token; looked up in ``db`` when the route has a read session
        open (one session fewer), else in a session of its own (never inside a write transaction:
        ``session_drop`` writes)."""
        with nullcontext(db) if db is not None else self.ctx.stores.front.read() as session:
            return accounts.authenticate(self.ctx, session, self.token, self.route)

    def agent(self, db: Session | None = None) -> Agent:
        """The agent behind the token, as ``applicant``."""
        with nullcontext(db) if db is not None else self.ctx.stores.back.read() as session:
            return prefecture.authenticate(self.ctx, session, self.token)


async def api_caller(request: Request) -> Caller:
    # The context straight from the app, not as a sub-dependency: FastAPI resolves each one with
    # a few dozen microseconds of bookkeeping, on every authenticated request.
    ctx: PlatformContext = request.app.state.context
    return Caller(ctx, api_credentials(request, ctx), route_of(request))


ApiCaller = Annotated[Caller, Depends(api_caller)]


async def require_admin(request: Request, ctx: Context) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    expected = ctx.settings.admin_token
    valid = bool(token) and bool(expected) and hmac.compare_digest(token.encode(), expected.encode())
    if scheme.lower() != "bearer" or not valid:
        raise Forbidden("admin_token_required", "Authorization: Bearer <admin token> required.")
