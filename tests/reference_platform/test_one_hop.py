"""Every route costs one thread-pool round trip at most (``api.one_hop``): its endpoint runs on the
event loop or once in the pool, its answer is validated on the loop, and no dependency is sync
(a sync dependency is one more round trip, each a hand-over of the GIL under load)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from reference_platform.api.routes import admin, agent, applicant, ops, pages
from reference_platform.app import create_app
from reference_platform.settings import Settings


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _routes() -> list[APIRoute]:
    routers = (applicant.router, agent.router, admin.router, ops.router, pages.router)
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def test_every_route_runs_as_a_coroutine_with_no_sync_dependency() -> None:
    routes = _routes()
    assert len(routes) > 40  # the applicant's, the agent's, the admin's, the pages, operations
    sync_endpoints = [route.path for route in routes if not inspect.iscoroutinefunction(route.endpoint)]
    assert sync_endpoints == []
    sync_dependencies = sorted(
        {
            f"{route.path}: {getattr(dependency.call, '__name__', dependency.call)}"
            for route in routes
            for dependency in _dependencies(route.dependant)
            if dependency.call is not None and not inspect.iscoroutinefunction(dependency.call)
        }
    )
    assert sync_dependencies == []


def test_a_sync_route_keeps_its_signature_and_its_errors(app_settings: Settings) -> None:
    """The coroutine wrapped around a sync endpoint exposes the endpoint's own parameters (FastAPI
    reads them through ``__wrapped__``), so the OpenAPI schema and validation are unchanged."""
    app = create_app(app_settings)
    login = next(route for route in _routes() if route.path == "/api/auth/login")
    assert [p.name for p in inspect.signature(login.endpoint).parameters.values()] == [
        "body",
        "request",
        "response",
        "ctx",
    ]
    schema = app.openapi()["paths"]["/api/auth/login"]["post"]
    assert schema["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Credentials")
