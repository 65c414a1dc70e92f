"""The embedded target: the reference platform in a child process, the mailbox in this one.

``target: embedded`` in a campaign starts both on ephemeral loopback ports, with a random admin
token and the platform's data inside the results folder, then seeds the population and sets the
platform's clock to the population's reference date so that renewal windows are reproducible.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
from rich.console import Console

from anef_harness.campaign import Campaign
from anef_harness.processes import child_process, free_port
from core.errors import HarnessError, TargetError
from drills.admin import AdminClient
from reference_platform.settings import parse_smtp
from synthetic_users.mailbox.server import MailboxServer, MailboxSettings

START_TIMEOUT = 30.0


CAMPAIGN_CLIENT_LIMIT = 10_000_000


@dataclass
class PlatformChild:
    """``anef-harness platform serve`` as a child process; its log goes to ``log_path``."""

    data_dir: Path
    smtp: str
    admin_token: str
    database_url: str | None = None
    log_path: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    # Kept across restarts, so that forms served before a restart still pass their CSRF check.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def exit_code(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def start(self) -> None:
        for _ in range(3):  # the port was free a moment ago; another process may take it first
            self.port = free_port()
            if self._launch():
                return
        raise TargetError(f"embedded platform: did not start, see {self._log_path}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a crash or an out-of-memory kill would be."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Start again on the same port and data (the load processes know this URL)."""
        self.stop()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._launch():  # the old socket may linger for a moment
            if time.monotonic() > deadline:
                raise TargetError(f"embedded platform: port {self.port} still taken, see {self._log_path}")
            time.sleep(0.2)

    @property
    def _log_path(self) -> Path:
        return self.log_path or self.data_dir / "platform.log"

    def _launch(self) -> bool:
        """Start the process on ``self.port``; whether it answers (False: the port was taken)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self._log_path
        host, port = parse_smtp(self.smtp)
        settings = {
            "port": self.port,
            "data_dir": str(self.data_dir),
            "smtp_host": host,
            "smtp_port": port,
            "public_url": self.url,
            "database_url": self.database_url,
            # Every synthetic applicant's requests come from this one address: the per-client limits,
            # made for one person's browser, would throttle the whole population.
            "login_client_max_failures": CAMPAIGN_CLIENT_LIMIT,
            "reset_client_max_requests": CAMPAIGN_CLIENT_LIMIT,
        }
        command = [sys.executable, "-m", "reference_platform", json.dumps(settings)]
        env = {**os.environ, "ANEF_ADMIN_TOKEN": self.admin_token, "ANEF_SECRET_KEY": self.secret_key}
        with log_path.open("ab") as log:
            self.process = child_process(command, log, env)
        return self._wait_ready(log_path)

    def _wait_ready(self, log_path: Path) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-300:]
                if "address already in use" in tail.lower():
                    return False
                raise TargetError(f"embedded platform exited with {self.process.returncode}: {tail.strip()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TargetError(f"embedded platform: no answer on {self.url}/healthz within {START_TIMEOUT:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class EmbeddedTarget:
    """The platform and the mailbox, started together and stopped together."""

    def __init__(self, data_dir: Path, *, database_url: str | None = None) -> None:
        self.mailbox = MailboxServer(MailboxSettings(smtp_port=0, http_port=0))
        self.admin_token = secrets.token_urlsafe(24)
        self.data_dir = data_dir
        self.database_url = database_url
        self.platform: PlatformChild | None = None

    @property
    def url(self) -> str:
        assert self.platform is not None
        return self.platform.url

    def start(self) -> None:
        self.mailbox.start()
        self.platform = PlatformChild(
            self.data_dir,
            smtp=f"127.0.0.1:{self.mailbox.smtp_port}",
            admin_token=self.admin_token,
            database_url=self.database_url,
        )
        try:
            self.platform.start()
        except BaseException:
            self.mailbox.stop()
            raise

    def stop(self) -> None:
        if self.platform is not None:
            self.platform.stop()
        self.mailbox.stop()

    def __enter__(self) -> EmbeddedTarget:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def open_target(
    campaign: Campaign, results: Path, console: Console
) -> Iterator[tuple[str, str, str | None, AdminClient, EmbeddedTarget | None]]:
    """(URL, admin token, mailbox URL, admin client, embedded target or None) of the campaign's
    target, started here (in ``results``) if embedded."""
    if campaign.target != "embedded":
        token = campaign.admin_token or os.environ.get("ANEF_ADMIN_TOKEN", "")
        if not token:
            raise HarnessError("admin token: set ANEF_ADMIN_TOKEN (or admin_token in the campaign) for this target")
        admin = AdminClient(campaign.target, token)
        try:
            yield campaign.target.rstrip("/"), token, campaign.mailbox, admin, None
        finally:
            admin.close()
        return
    console.print("starting the embedded platform and mailbox…")
    embedded = EmbeddedTarget(results / "platform")
    embedded.start()
    admin = AdminClient(embedded.url, embedded.admin_token)
    try:
        yield embedded.url, embedded.admin_token, embedded.mailbox.api_url, admin, embedded
    finally:
        admin.close()
        embedded.stop()
