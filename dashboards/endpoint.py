"""The live metrics endpoint: prometheus-client's WSGI app behind a Host check.

``prometheus_client.start_http_server`` answers any Host header; bound to loopback, the endpoint
answers only to loopback names, so that a web page cannot read it through DNS rebinding (the project's
rule for every HTTP listener). Bound elsewhere (by explicit consent), it answers to any name.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from core.net import host_of, is_loopback


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged."""


def serve_metrics(port: int, host: str, registry: CollectorRegistry) -> WSGIServer:
    """Serve ``registry`` on ``host:port`` in a daemon thread; raises OSError if the port cannot be bound."""
    metrics = make_wsgi_app(registry)
    loopback_only = is_loopback(host)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if loopback_only and not is_loopback(host_of(environ.get("HTTP_HOST", ""))):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"Host not allowed\n"]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    server = make_server(host.strip("[]"), port, app, Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics-endpoint", daemon=True).start()
    return server
