"""Run the mailbox: the SMTP server and the HTTP API over one store, each in its own thread.

Both sockets are bound before any thread starts, so port 0 picks free ports and a taken port
fails at once, in the caller. The same class serves tests (``with MailboxServer() as box``) and
the CLI (``serve_until_signalled``).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.errors import ConfigError
from core.net import is_loopback, loopback_unless_allowed
from synthetic_users.mailbox.api import create_app
from synthetic_users.mailbox.smtp import DEFAULT_BOUNCE_DOMAINS, MailboxHandler, SmtpServer
from synthetic_users.mailbox.store import DEFAULT_MAX_BYTES, DEFAULT_RETENTION, MessageStore

DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024
START_TIMEOUT = 10.0


class MailboxSettings(BaseModel):
    """Where the mailbox listens and how much it keeps. Ports 0 pick free ports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_remote: bool = False  # declared before ``host``: the host check reads it
    host: str = "127.0.0.1"
    smtp_port: int = Field(default=0, ge=0, le=65535)
    http_port: int = Field(default=0, ge=0, le=65535)
    retention: int = Field(default=DEFAULT_RETENTION, ge=1, description="Messages kept; the oldest go first.")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, description="Bytes kept; the oldest go first.")
    max_message_bytes: int = Field(default=DEFAULT_MAX_MESSAGE_BYTES, ge=1024)
    bounce_domains: frozenset[str] = DEFAULT_BOUNCE_DOMAINS

    @field_validator("host")
    @classmethod
    def _loopback_unless_allowed(cls, host: str, info: ValidationInfo) -> str:
        return loopback_unless_allowed(host, bool(info.data.get("allow_remote")))


class MailboxServer:
    """The SMTP server and the Mailpit-compatible API over one :class:`MessageStore`."""

    def __init__(self, settings: MailboxSettings | None = None, *, store: MessageStore | None = None) -> None:
        self.settings = settings or MailboxSettings()
        self.store = store or MessageStore(max_messages=self.settings.retention, max_bytes=self.settings.max_bytes)
        self.smtp_port = 0
        self.http_port = 0
        self._smtp: SmtpServer | None = None
        self._http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        host = self.settings.host.strip("[]")
        return f"http://[{host}]:{self.http_port}" if ":" in host else f"http://{host}:{self.http_port}"

    def start(self) -> None:
        """Bind both ports, then serve; returns once both servers answer."""
        host = self.settings.host.strip("[]")
        smtp_socket = _listen(host, self.settings.smtp_port, "SMTP")
        try:
            http_socket = _listen(host, self.settings.http_port, "HTTP")
        except ConfigError:
            smtp_socket.close()
            raise
        self.smtp_port = smtp_socket.getsockname()[1]
        self.http_port = http_socket.getsockname()[1]
        handler = MailboxHandler(self.store, self.settings.bounce_domains)
        self._smtp = SmtpServer(handler, smtp_socket, max_message_bytes=self.settings.max_message_bytes)
        self._smtp.start()
        config = uvicorn.Config(
            create_app(self.store, any_host=not is_loopback(self.settings.host)),
            log_config=None,  # leave the process's logging alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            # Longer than clients keep an idle connection (httpx: 5 s), so that a client never
            # reuses a connection the server is closing at that very moment (connection reset).
            timeout_keep_alive=30,
        )
        self._http = uvicorn.Server(config)
        self._http_thread = threading.Thread(
            target=self._http.run, kwargs={"sockets": [http_socket]}, name="mailbox-http", daemon=True
        )
        self._http_thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._http.started:
            if not self._http_thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                http_socket.close()
                raise RuntimeError("the mailbox's HTTP server did not start")
            time.sleep(0.005)

    def restart(self) -> None:
        """Serve again on the same ports after ``stop()``, with the messages kept meanwhile."""
        self.settings = self.settings.model_copy(update={"smtp_port": self.smtp_port, "http_port": self.http_port})
        self.start()

    def stop(self) -> None:
        """Stop both servers; safe to call twice."""
        if self._http is not None and self._http_thread is not None:
            self._http.should_exit = True
            self._http_thread.join(timeout=10)
        self._http = self._http_thread = None
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None

    def serve_until_signalled(self, on_ready: Callable[[MailboxServer], None] | None = None) -> None:
        """Serve until SIGINT or SIGTERM (main thread only): the CLI's foreground mode."""
        stopping = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            if on_ready is not None:
                on_ready(self)
            stopping.wait()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def __enter__(self) -> MailboxServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _listen(host: str, port: int, what: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        # create_server appends the address to strerror; the errno alone reads better on one line.
        # A negative errno is a resolver (getaddrinfo) error: the host name is unknown.
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else "unknown host"
        raise ConfigError(f"{host}:{port}", f"cannot listen for {what} ({reason.lower()})") from None
