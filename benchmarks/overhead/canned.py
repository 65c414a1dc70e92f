"""A canned platform for the harness-overhead benchmark: the login journey's answers, recorded
from the real platform, replayed by a server that is never the limit.

The ratio of the load generators' CPU per request only measures the load generators when the
platform does not set their pace: against the real platform (one uvicorn worker) it is saturated
on both sides, and each side's CPU per request moves with the throughput it happened to get.
``record`` logs every applicant of the population in once on the real platform and keeps the
three answers of the login journey as they came (status, ``Content-Type``, ``Set-Cookie``,
body); ``CannedPlatform`` serves them from a child process, an ``asyncio`` protocol that finds an
answer by the login's ``identifier`` or the bearer token and writes prepared bytes, a few tens of
microseconds per request. Both load generators send it the same requests as the real platform.

    python -m benchmarks.overhead.canned ANSWERS.json   # prints its port, serves until SIGTERM
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from benchmarks.overhead.measures import BenchmarkError

ROUTES = ("/api/auth/login", "/api/me", "/api/me/dossiers")
KEPT_HEADERS = ("content-type", "set-cookie")


class CannedError(BenchmarkError):
    """The real platform did not answer a recording as the login journey expects."""


@dataclass(frozen=True)
class Answer:
    """One recorded answer, as the server writes it back."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        kept = tuple((name, value) for name, value in response.headers.multi_items() if name.lower() in KEPT_HEADERS)
        return cls(response.status_code, kept, response.content)

    def to_json(self) -> dict[str, object]:
        return {"status": self.status, "headers": [list(pair) for pair in self.headers], "body": self.body.decode()}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Answer:
        headers = data["headers"]
        assert isinstance(headers, list)
        return cls(int(str(data["status"])), tuple((str(k), str(v)) for k, v in headers), str(data["body"]).encode())

    def wire(self) -> bytes:
        """The whole HTTP/1.1 response, keep-alive."""
        reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(self.status, "Answer")
        lines = [f"HTTP/1.1 {self.status} {reason}", f"content-length: {len(self.body)}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def record(url: str, credentials: Iterable[tuple[str, str]], path: Path) -> int:
    """Log each applicant in on the real platform at ``url`` and read its profile and dossiers;
    write the answers to ``path`` (JSON). Returns how many applicants were recorded."""
    logins: dict[str, dict[str, object]] = {}
    tokens: dict[str, dict[str, dict[str, object]]] = {}
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for email, password in credentials:
            login = client.post(ROUTES[0], json={"identifier": email, "password": password})
            if login.status_code != 200:
                raise CannedError(f"recording {email}: {ROUTES[0]} answered {login.status_code}: {login.text[:200]}")
            token = str(login.json()["token"])
            client.cookies.clear()  # the answers are recorded as a fresh applicant gets them
            bearer = {"Authorization": f"Bearer {token}"}
            answers = {route: Answer.of(client.get(route, headers=bearer)) for route in ROUTES[1:]}
            client.cookies.clear()
            for route, answer in answers.items():
                if answer.status != 200:
                    raise CannedError(f"recording {email}: {route} answered {answer.status}")
            logins[email] = Answer.of(login).to_json()
            tokens[token] = {route: answer.to_json() for route, answer in answers.items()}
    path.write_text(json.dumps({"logins": logins, "tokens": tokens}))
    return len(logins)


NOT_FOUND = Answer(404, (("content-type", "application/json"),), b'{"error":{"code":"not_canned","message":"-"}}')
UNAUTHORIZED = Answer(401, (("content-type", "application/json"),), b'{"error":{"code":"unauthorized","message":"-"}}')
HEALTHZ = Answer(200, (("content-type", "application/json"),), b'{"status":"ok"}')


class Answers:
    """The recorded answers as wire bytes, found by login identifier and by token."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text())
        self.logins = {email: Answer.from_json(answer).wire() for email, answer in data["logins"].items()}
        self.tokens = {
            token.encode(): {route.encode(): Answer.from_json(answer).wire() for route, answer in routes.items()}
            for token, routes in data["tokens"].items()
        }

    def answer(self, method: bytes, target: bytes, authorization: bytes, body: bytes) -> bytes:
        path = target.split(b"?", 1)[0]
        if method == b"POST" and path == b"/api/auth/login":
            try:
                identifier = json.loads(body)["identifier"]
            except (ValueError, KeyError, TypeError):
                return UNAUTHORIZED.wire()
            return self.logins.get(identifier) or UNAUTHORIZED.wire()
        if method == b"GET" and path == b"/healthz":
            return HEALTHZ.wire()
        if method == b"GET" and authorization.startswith(b"Bearer "):
            routes = self.tokens.get(authorization[7:].strip())
            if routes is None:
                return UNAUTHORIZED.wire()
            return routes.get(path) or NOT_FOUND.wire()
        return NOT_FOUND.wire()


class Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and ``Content-Length`` bodies: what the load generators send."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].split(b"\r\n")
            length, authorization = 0, b""
            for line in head[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"authorization":
                    authorization = value.strip()
            if len(self.buffer) < end + 4 + length:
                break
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, target, _ = head[0].split(b" ", 2)
            out.append(self.answers.answer(method, target, authorization, body))
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


def serve(path: Path) -> None:
    """Serve the answers in ``path`` on a free loopback port; print the port; stop on SIGTERM."""
    answers = Answers(path)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Connection(answers), "127.0.0.1", 0, backlog=1024)
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await stop

    asyncio.run(main())


class CannedPlatform:
    """The canned server as a child process: ``url`` and ``pid`` once started."""

    def __init__(self, answers: Path) -> None:
        self.answers = answers
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> CannedPlatform:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.overhead.canned", str(self.answers)],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.process.kill()
            raise CannedError(f"the canned platform did not start (it printed {port!r})")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m benchmarks.overhead.canned ANSWERS.json")
    serve(Path(sys.argv[1]))
