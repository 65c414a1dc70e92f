"""How the platform client sends requests: Locust's FastHttpSession under load, httpx elsewhere.

The client never imports Locust (importing it monkey-patches the process with gevent); the
Locust users hand it a ``LocustTransport`` (in ``scenarios/users.py``), tests and tools an
``HttpxTransport``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class TransportFailure(Exception):
    """No HTTP answer: the connection failed, was cut, or the answer did not come in time."""

    def __init__(self, message: str, *, timeout: bool) -> None:
        super().__init__(message)
        self.timeout = timeout


class Transport(Protocol):
    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: Collection[int],
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Reply:
        """Send one request; ``name`` groups it in statistics (a route template), ``expect``
        lists the statuses the caller considers a success (for Locust's own statistics)."""
        ...


class HttpxTransport:
    """A synchronous httpx client as transport (tests, tools, the browser process)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(base_url=base_url, timeout=timeout)

    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        expect: Collection[int],
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Reply:
        try:
            response = self._client.request(
                method, path, json=json, content=content, headers=dict(headers or {}), params=dict(params or {})
            )
        except httpx.TimeoutException as exc:
            raise TransportFailure(
                f"{method} {name}: no answer in time ({exc.__class__.__name__})", timeout=True
            ) from exc
        except httpx.TransportError as exc:
            raise TransportFailure(f"{method} {name}: {exc.__class__.__name__}: {exc}", timeout=False) from exc
        return Reply(response.status_code, response.content)

    def close(self) -> None:
        self._client.close()
