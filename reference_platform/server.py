"""Serving the platform with uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from reference_platform.app import build_context, create_app
from reference_platform.context import PlatformContext
from reference_platform.settings import Settings

# How long a thread may keep the interpreter before one waiting for it gets it (CPython's
# default: 5 ms). The platform's request threads let go of it for each SQLite call and each
# SHA-256, and then wait to take it back from the event loop, which under load keeps it for
# the whole interval: with 1 ms, uploads and submissions went from 11 % to 20-22 % of
# /healthz's throughput in ``benchmarks/platform_steps.py`` (2026-12-03), the other rows unchanged.
GIL_SWITCH_SECONDS = 0.001


def serve(settings: Settings, *, context: PlatformContext | None = None) -> None:
    """Build everything first (so a bad setting fails before the port opens), then serve."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    context = context or build_context(settings)
    app = create_app(settings, context=context)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)
