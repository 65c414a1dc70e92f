"""Test support: a real platform process, a real SMTP sink, synthetic seeds and files.

What the benchmarks use too lives in ``benchmarks.support`` and is imported from there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from email.message import Message
from typing import Any

import httpx

from benchmarks.support import (
    ADMIN_TOKEN,
    AGENT_PASSWORD,
    PASSWORD,
    Api,
    PlatformProcess,
    SmtpSink,
    agent_seed,
    applicant_seed,
    foreign_number,
    free_port,
    pdf_bytes,
    smtp_sink,
    wait_until,
)

__all__ = [
    "ADMIN_TOKEN",
    "AGENT_PASSWORD",
    "PASSWORD",
    "Api",
    "PlatformProcess",
    "SmtpSink",
    "agent_seed",
    "applicant_seed",
    "binomial_bounds",
    "body_of",
    "foreign_number",
    "free_port",
    "gather_bounded",
    "in_app",
    "jpeg_bytes",
    "pdf_bytes",
    "png_bytes",
    "smtp_sink",
    "wait_synced",
    "wait_until",
]


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(200)


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(200) + b"\xff\xd9"


# --- fault tests -----------------------------------------------------------------------------


def wait_synced(api: Api, timeout: float = 10.0) -> None:
    """Wait until the sync bridge has delivered every message, both ways (delayed ones included)."""
    wait_until(lambda: api.admin("GET", "/_admin/sync").json()["pending"] == 0, timeout)


def binomial_bounds(n: int, p: float, alpha: float = 0.001) -> tuple[int, int]:
    """Two-sided acceptance interval of a Binomial(n, p) count at significance ``alpha``."""
    from scipy.stats import binom  # type: ignore[import-untyped]

    return int(binom.ppf(alpha / 2, n, p)), int(binom.ppf(1 - alpha / 2, n, p))


def in_app(api: Api, work: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    """Run ``work`` with an async client on the event loop of the in-process app (``app_api``).

    The same ASGI requests as the TestClient's, without its thread hand-offs per request: for
    tests that send thousands of requests. ``work`` must not call the TestClient itself.
    """
    from starlette.testclient import TestClient

    client = api.http
    assert isinstance(client, TestClient), "in_app needs the app_api fixture"
    portal, app = client.portal, client.app
    assert portal is not None, "in_app needs the TestClient started (used as a context manager)"

    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as http:
            return await work(http)

    return portal.call(main)


async def gather_bounded(calls: Iterable[Awaitable[Any]], limit: int = 4) -> list[Any]:
    """Await the calls with at most ``limit`` in flight; results in the order of the calls."""
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> Any:
        async with semaphore:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))
