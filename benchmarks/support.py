"""A real platform process, a real SMTP sink, synthetic seeds and files: what the benchmarks and
the tests both start the platform and talk to it with.

The benchmarks measure through these; the test suite imports them too (``tests/support.py``), so
that a benchmark never imports test code. Must not import ``tests``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

ADMIN_TOKEN = "test-admin-token"
PASSWORD = "Mot-de-passe-2026"
AGENT_PASSWORD = "Agent-pw-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll until the condition returns something truthy; fail with a clear message."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message, for tests to wait on."""

    port: int
    messages: list[Message] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content)
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, timeout: float = 5.0, count: int = 1) -> list[Message]:
        found: list[Message] = wait_until(lambda: (got := self.to(address)) and len(got) >= count and got, timeout)
        return found


@contextlib.contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    for _ in range(5):
        sink = SmtpSink(port=free_port())
        controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        try:
            yield sink
        finally:
            controller.stop()
        return
    raise RuntimeError("no free port for the SMTP sink")


# --- the platform as a real process ----------------------------------------------------------


@dataclass
class PlatformProcess:
    """``anef-harness platform serve`` in a child process, on an ephemeral loopback port."""

    data_dir: Path
    smtp_port: int
    database_url: str | None = None
    faults: str | None = None
    extra: list[str] = field(default_factory=list)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "anef_harness",
            "platform",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--smtp",
            f"127.0.0.1:{self.smtp_port}",
        ]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        if self.faults:
            cmd += ["--faults", self.faults]
        return cmd + self.extra

    def start(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        log_path = self.data_dir.parent / f"platform-{self.port}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "ANEF_ADMIN_TOKEN": ADMIN_TOKEN}  # never on the command line (ps)
        self.process = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"platform exited with {self.process.returncode}: {log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()  # a platform that did not answer in time must not outlive the test
        raise RuntimeError(f"platform did not start within {timeout:g} s: {log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


# --- synthetic data --------------------------------------------------------------------------


def foreign_number() -> str:
    return str(uuid.uuid4().int % 10**10).zfill(10)


def applicant_seed(
    *,
    card_state: str = "handed_over",
    expires_in_days: int = 90,
    prefecture: str = "75",
    today: date | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A unique applicant, by default inside the renewal window with a handed-over card."""
    number = foreign_number()
    until = (today or date.today()) + timedelta(days=expires_in_days)
    seed: dict[str, Any] = {
        "type": "applicant",
        "foreign_number": number,
        "email": f"usager.{number}@example.org",
        "given_name": "Amina",
        "family_name": "Benali",
        "birth_date": "1990-04-12",
        "nationality": "DZA",
        "address": "12 rue des Lilas",
        "postcode": "75011",
        "city": "Paris",
        "prefecture": prefecture,
        "password": PASSWORD,
        "card": {
            "kind": "carte_pluriannuelle",
            "motif": "salarie",
            "valid_from": str(until - timedelta(days=1460)),
            "valid_until": str(until),
            "state": card_state,
        },
    }
    seed.update(overrides)
    return seed


def agent_seed(prefecture: str = "75") -> dict[str, Any]:
    login = f"agent.{uuid.uuid4().hex[:10]}"
    return {"type": "agent", "login": login, "name": "Agent Test", "prefecture": prefecture, "password": AGENT_PASSWORD}


def pdf_bytes(size: int = 50_000) -> bytes:
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    tail = b"\n%%EOF\n"
    filler = os.urandom(max(0, size - len(head) - len(tail)))
    return head + filler + tail


class Api:
    """A tiny helper over httpx for tests (the harness's real client lives in scenarios/)."""

    def __init__(self, client: httpx.Client) -> None:
        self.http = client

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def seed(self, *records: dict[str, Any]) -> dict[str, int]:
        body = "\n".join(json.dumps(r) for r in records) + "\n"
        response = self.admin("POST", "/_admin/seed", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def set_faults(self, *faults: dict[str, Any]) -> None:
        response = self.admin("PUT", "/_admin/faults", json={"faults": list(faults)})
        assert response.status_code == 200, response.text

    def ledger(self, fault: str | None = None) -> list[dict[str, Any]]:
        entries = self.admin("GET", "/_admin/ledger").json()["entries"]
        return [e for e in entries if fault is None or e["fault"] == fault]

    def login(self, seed: dict[str, Any], password: str = PASSWORD) -> dict[str, str]:
        response = self.http.post("/api/auth/login", json={"identifier": seed["email"], "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def agent_login(self, seed: dict[str, Any]) -> dict[str, str]:
        response = self.http.post("/api/agent/login", json={"login": seed["login"], "password": seed["password"]})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def upload(
        self,
        auth: dict[str, str],
        dossier_id: str,
        kind: str,
        content: bytes | None = None,
        filename: str = "piece.pdf",
    ) -> httpx.Response:
        return self.http.post(
            f"/api/me/dossiers/{dossier_id}/documents",
            headers=auth,
            data={"kind": kind},
            files={"file": (filename, content if content is not None else pdf_bytes(), "application/octet-stream")},
        )

    def submitted_renewal(self, auth: dict[str, str]) -> dict[str, Any]:
        """Create a renewal, upload the required documents and submit it."""
        created = self.http.post("/api/me/dossiers", headers=auth, json={"procedure": "renewal"})
        assert created.status_code == 201, created.text
        dossier = created.json()
        for kind in dossier["missing_documents"]:
            uploaded = self.upload(auth, dossier["id"], kind)
            assert uploaded.status_code == 201, uploaded.text
        submitted = self.http.post(f"/api/me/dossiers/{dossier['id']}/submit", headers=auth)
        assert submitted.status_code == 200, submitted.text
        return dict(submitted.json())
