"""Serving the platform with uvicorn."""

from __future__ import annotations

import uvicorn

from reference_platform.app import build_context, create_app
from reference_platform.context import PlatformContext
from reference_platform.settings import Settings


def serve(settings: Settings, *, context: PlatformContext | None = None) -> None:
    """Build everything first (so a bad setting fails before the port opens), then serve."""
    context = context or build_context(settings)
    app = create_app(settings, context=context)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)
