"""A double of the Grafana HTTP API endpoints the harness publishes through, on a real HTTP server.

No Grafana can run here, so this serves, on 127.0.0.1 and an ephemeral port, what Grafana's HTTP
API documentation (Dashboard API, Folder API, Other: health) says, with state in memory:

- ``GET /api/health`` (no authentication): ``{"commit", "database": "ok", "version"}``.
- Every other route needs ``Authorization: Bearer <token>`` of a known token: 401 otherwise
  (``{"message": "Unauthorized"}`` without a header, ``"Invalid API key"`` with an unknown one).
  A token's role is Viewer, Editor or Admin; a Viewer gets 403 on writes.
- ``GET /api/folders/:uid``: the folder, or 404 ``{"message": "folder not found"}``.
- ``POST /api/folders`` ``{uid?, title}``: 400 without a title or with a bad uid (at most 40
  letters, digits, ``-``, ``_``), 409 for a uid or a title already taken; otherwise the folder
  (id, uid, title, url ``/dashboards/f/<uid>/<slug>``, version 1…).
- ``POST /api/dashboards/db`` ``{dashboard, folderUid?, overwrite?, message?}``: 400 without a
  ``dashboard`` object or its title, with a bad uid, or a ``folderUid`` that does not exist; a
  ``dashboard.id`` that is set must be the stored one's (404 / 400 as Grafana). Same uid and
  ``overwrite`` false: 412 ``{"status": "version-mismatch"}`` unless ``dashboard.version`` is the
  stored version. Another uid with the same title in the folder: 412 ``{"status": "name-exists"}``,
  or with ``overwrite`` the new one takes the old one's place (Grafana keeps the old id and uid).
  Answer: ``{"id", "uid", "url": "/d/<uid>/<slug>", "status": "success", "version", "slug"}``;
  the version starts at 1 and rises by one on each save.
- ``GET /api/dashboards/uid/:uid``: ``{"dashboard", "meta"}`` or 404 ``{"message": "Dashboard not found"}``.

``refuse(method, path, status, body)`` makes a route answer an error (e.g. a 412 or a 500) until
``clear_refusals()``, to test how the client reports it.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UID = re.compile(r"[A-Za-z0-9_-]+")
WRITERS = ("Editor", "Admin")
Answer = tuple[int, dict[str, Any]]


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@dataclass
class Request:
    method: str
    path: str
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased


@dataclass
class GrafanaDouble:
    tokens: Mapping[str, str]
    version: str = "11.3.0"
    url: str = ""
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    refusals: dict[tuple[str, str], Answer] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, method: str, path: str, status: int, body: dict[str, Any]) -> None:
        self.refusals[(method, path)] = (status, body)

    def clear_refusals(self) -> None:
        self.refusals.clear()

    def handle(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        with self._lock:
            body: Any = None
            answer = self._route(method, path, headers, raw)
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
            lowered = {name.lower(): value for name, value in headers.items()}
            self.requests.append(Request(method, path, answer[0], body, lowered))
            return answer

    # --- routing -----------------------------------------------------------------------------

    def _route(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        if (method, path) == ("GET", "/api/health"):
            return 200, {"commit": "double", "database": "ok", "version": self.version}
        role = self._role(headers.get("Authorization"))
        if isinstance(role, tuple):
            return role
        if (method, path) in self.refusals:
            return self.refusals[(method, path)]
        if method == "POST":
            if role not in WRITERS:
                return 403, {"message": "You'll need additional permissions to perform this action."}
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return 400, {"message": "bad request data"}
            if not isinstance(body, dict):
                return 400, {"message": "bad request data"}
            if path == "/api/folders":
                return self._create_folder(body)
            if path == "/api/dashboards/db":
                return self._save_dashboard(body)
        if method == "GET":
            if match := re.fullmatch(r"/api/folders/([^/]+)", path):
                folder = self.folders.get(match[1])
                return (200, folder) if folder else (404, {"message": "folder not found"})
            if match := re.fullmatch(r"/api/dashboards/uid/([^/]+)", path):
                return self._get_dashboard(match[1])
        return 404, {"message": "Not found"}

    def _role(self, authorization: str | None) -> str | Answer:
        if not authorization:
            return 401, {"message": "Unauthorized"}
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            return 401, {"message": "Invalid API key", "messageId": "api-key.invalid", "statusCode": 401}
        return self.tokens[token]

    # --- folders -------------------------------------------------------------------------------

    def _create_folder(self, body: dict[str, Any]) -> Answer:
        title, uid = body.get("title"), body.get("uid")
        if not isinstance(title, str) or not title.strip():
            return 400, {"message": "folder title cannot be empty"}
        if uid is None or uid == "":
            uid = f"f{next(self._ids):08d}"
        problem = _uid_problem(uid)
        if problem:
            return 400, {"message": problem}
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        if any(folder["title"] == title for folder in self.folders.values()):
            return 409, {"message": "a folder or dashboard in the general folder with the same name already exists"}
        now = _now()
        folder = {
            "id": next(self._ids),
            "uid": uid,
            "title": title,
            "url": f"/dashboards/f/{uid}/{slugify(title)}",
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "createdBy": "double",
            "created": now,
            "updatedBy": "double",
            "updated": now,
            "version": 1,
        }
        self.folders[uid] = folder
        return 200, folder

    # --- dashboards ----------------------------------------------------------------------------

    def _save_dashboard(self, body: dict[str, Any]) -> Answer:
        model = body.get("dashboard")
        if not isinstance(model, dict):
            return 400, {"message": "bad request data: dashboard is required"}
        title = model.get("title")
        if not isinstance(title, str) or not title.strip():
            return 400, {"message": "Dashboard title cannot be empty"}
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        uid = model.get("uid") or f"d{next(self._ids):08d}"
        problem = _uid_problem(uid)
        if problem:
            return 400, {"message": problem}
        overwrite = body.get("overwrite") is True
        existing = self.dashboards.get(uid)
        given_id = model.get("id")
        if given_id is not None:
            if not any(stored["id"] == given_id for stored in self.dashboards.values()):
                return 404, {"message": "Dashboard not found"}
            if existing is not None and existing["id"] != given_id:
                return 400, {"message": "A dashboard with the same uid already exists"}
        if existing is not None and not overwrite and model.get("version") != existing["version"]:
            return 412, {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"}
        same_title = next(
            (
                stored
                for stored in self.dashboards.values()
                if stored["title"] == title and stored["folderUid"] == folder_uid and stored["uid"] != uid
            ),
            None,
        )
        if same_title is not None:
            if not overwrite:
                return 412, {
                    "status": "name-exists",
                    "message": "A dashboard with the same name in the folder already exists",
                }
            existing, uid = same_title, same_title["uid"]
        version = existing["version"] + 1 if existing else 1
        ident = existing["id"] if existing else next(self._ids)
        stored_model = {**model, "id": ident, "uid": uid, "version": version}
        now = _now()
        self.dashboards[uid] = {
            "id": ident,
            "uid": uid,
            "title": title,
            "folderUid": folder_uid,
            "version": version,
            "model": stored_model,
            "created": existing["created"] if existing else now,
            "updated": now,
        }
        self.history.setdefault(uid, []).append((version, str(body.get("message", ""))))
        slug = slugify(title)
        return 200, {
            "id": ident,
            "uid": uid,
            "url": f"/d/{uid}/{slug}",
            "status": "success",
            "version": version,
            "slug": slug,
        }

    def _get_dashboard(self, uid: str) -> Answer:
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        folder = self.folders.get(stored["folderUid"])
        slug = slugify(stored["title"])
        meta = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "slug": slug,
            "url": f"/d/{uid}/{slug}",
            "created": stored["created"],
            "updated": stored["updated"],
            "version": stored["version"],
            "folderUid": stored["folderUid"],
            "folderTitle": folder["title"] if folder else "General",
            "folderUrl": folder["url"] if folder else "",
            "provisioned": False,
        }
        return 200, {"dashboard": stored["model"], "meta": meta}


def _uid_problem(uid: object) -> str:
    if not isinstance(uid, str) or not UID.fullmatch(uid):
        return "uid contains illegal characters"
    if len(uid) > 40:
        return "uid too long, max 40 characters"
    return ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _handler(double: GrafanaDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {key: value for key, value in self.headers.items()}
            status, body = double.handle(self.command, self.path.split("?", 1)[0], headers, raw)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the double's own request log is ``double.requests``

    return Handler


@contextmanager
def serve_grafana(tokens: Mapping[str, str], *, version: str = "11.3.0") -> Iterator[GrafanaDouble]:
    """A running double on 127.0.0.1 with an ephemeral port; ``tokens`` maps token → role."""
    double = GrafanaDouble(tokens=tokens, version=version)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits up to one interval for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="grafana-double", daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
