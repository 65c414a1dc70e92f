"""One thread-pool round trip per request.

FastAPI runs a sync route in the thread pool, and then, since the route was sync, validates its
answer in the thread pool too; a sync dependency is one more round trip. Each round trip hands the
GIL between the event loop and a worker thread twice, and under load those hand-offs cost more than
most routes' own work: ``GET /api/me`` went from 2.9 to 1.1 ms of CPU a request when its three
round trips became one (``benchmarks/platform_steps.py``, 2026-12-03).

So every route of the platform is registered through ``OneHopRoute``: a sync endpoint becomes a
coroutine that runs the whole endpoint in the thread pool once, and its answer is validated on the
event loop (a few microseconds of pydantic, no I/O). Dependencies that need the database do their
work inside the endpoint (``deps.Caller``), not as sync dependencies.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


def in_thread_pool(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The sync ``endpoint`` as a coroutine that runs it in the thread pool; FastAPI reads the
    signature (parameters, annotations, module globals) through ``__wrapped__``."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


class OneHopRoute(APIRoute):
    """An ``APIRoute`` whose sync endpoint costs one thread-pool round trip, not two."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = in_thread_pool(endpoint)
        super().__init__(path, endpoint, **kwargs)
