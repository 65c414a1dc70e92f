"""Publishing dashboards to a Grafana through its HTTP API, with httpx.

``publish`` checks ``/api/health``, makes sure the folder exists (``GET /api/folders/:uid``, and on
404 ``POST /api/folders``), then saves each dashboard with ``POST /api/dashboards/db``
(``folderUid``, ``overwrite: true``, a message). Dashboards keep their uid, so publishing again
updates the same dashboards (Grafana bumps their version) instead of adding copies.

The token is passed in, never read here: the CLI takes it from ``GRAFANA_TOKEN`` (an argument would
show in ``ps``). Like campaigns, a Grafana that is not on loopback is refused unless allowed.
Every failure is one ``HarnessError`` line naming the Grafana and the step that failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from checks.slo import load_slos
from core.errors import ConfigError, TargetError
from dashboards.grafana import FOLDER, FOLDER_UID, UID_PATTERN, build_dashboards
from synthetic_users.targets import is_loopback

TIMEOUT_SECONDS = 10.0
MESSAGE = "Published by anef-harness (dashboards as code)"
USER_AGENT = "anef-harness (dashboards publish)"


class GrafanaError(TargetError):
    """Grafana unreachable, or refusing what the harness asked: exit code 3."""


@dataclass(frozen=True)
class PublishedDashboard:
    file: str
    uid: str
    title: str
    url: str
    version: int
    changed: bool = True  # False: Grafana already held this very dashboard in this folder


@dataclass(frozen=True)
class PublishReport:
    grafana_url: str
    grafana_version: str
    folder: str
    folder_uid: str
    folder_created: bool
    dashboards: tuple[PublishedDashboard, ...]


def grafana_base_url(url: str, *, allow_remote: bool = False) -> str:
    """The Grafana URL without a trailing slash, or a ``ConfigError`` (a malformed URL, or a host
    that is not loopback while ``allow_remote`` is false)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "--grafana-url", f"expected an http:// or https:// URL such as http://127.0.0.1:3000, got {url!r}"
        )
    if not allow_remote and not is_loopback(parts.hostname):
        raise ConfigError(
            "--grafana-url",
            f"{parts.hostname} is not a loopback address; the harness publishes only to 127.0.0.1, ::1 or localhost "
            f"unless the host is allowed with --allow-target {parts.hostname}",
        )
    return url.rstrip("/")


def dashboards_from(source: Path, *, datasource_uid: str = "prometheus") -> dict[str, dict[str, Any]]:
    """The dashboards to publish: the ``*.json`` of a folder written by ``dashboards build``, or
    built from an SLO file."""
    if not source.is_dir():
        return build_dashboards(load_slos(source), datasource_uid=datasource_uid)
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(source.glob("*.json")):
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), f"cannot read ({getattr(exc, 'strerror', None) or exc})") from None
        if not isinstance(model, dict):
            raise ConfigError(str(path), f"expected a dashboard (a JSON object), got a JSON {type(model).__name__}")
        found[path.name] = model
    if not found:
        raise ConfigError(str(source), "no dashboard JSON (*.json) in this folder; write them with 'dashboards build'")
    return found


def publish(
    dashboards: Mapping[str, Mapping[str, Any]],
    *,
    url: str,
    token: str | None,
    folder: str = FOLDER,
    folder_uid: str = FOLDER_UID,
    allow_remote: bool = False,
    message: str = MESSAGE,
    timeout: float = TIMEOUT_SECONDS,
) -> PublishReport:
    """Save ``dashboards`` (file name → JSON model) into ``folder`` of the Grafana at ``url``."""
    base = grafana_base_url(url, allow_remote=allow_remote)
    if not folder.strip():
        raise ConfigError("--folder", "expected a folder name, got an empty one")
    if not UID_PATTERN.fullmatch(folder_uid):
        raise ConfigError("--folder-uid", f"expected 1 to 40 letters, digits, '-' or '_', got {folder_uid!r}")
    payloads = {name: _payload(name, model, folder_uid, message) for name, model in dashboards.items()}
    with _Grafana(base, token, timeout) as grafana:
        version = grafana.health()
        created = grafana.ensure_folder(folder, folder_uid)
        published = tuple(grafana.save(name, payload) for name, payload in payloads.items())
    return PublishReport(base, version, folder, folder_uid, created, published)


def _payload(name: str, model: Mapping[str, Any], folder_uid: str, message: str) -> dict[str, Any]:
    """The body of ``POST /api/dashboards/db``, after the checks Grafana would refuse it for."""
    title, uid = model.get("title"), model.get("uid")
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(name, "the dashboard has no title (Grafana refuses a dashboard without one)")
    if not isinstance(uid, str) or not UID_PATTERN.fullmatch(uid):
        raise ConfigError(
            name,
            f"expected a uid of 1 to 40 letters, digits, '-' or '_', got {uid!r}: without a stable uid every "
            "publication would add another copy",
        )
    # A numeric id belongs to one Grafana instance; the uid finds the dashboard to update.
    dashboard = {**model, "id": None}
    return {"dashboard": dashboard, "folderUid": folder_uid, "overwrite": True, "message": message}


def _content(model: Mapping[str, Any]) -> dict[str, Any]:
    """A dashboard without what Grafana assigns on save (its numeric id and version)."""
    return {key: value for key, value in model.items() if key not in ("id", "version")}


class _Grafana:
    """The few calls ``publish`` makes, each turning any failure into one ``GrafanaError`` line."""

    def __init__(self, base: str, token: str | None, timeout: float) -> None:
        self.base, self.has_token = base, token is not None
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"  # a service account token (Grafana's HTTP API auth)
        # The base keeps its path: a Grafana served under /grafana answers at /grafana/api/…
        self.http = httpx.Client(base_url=f"{base}/api", headers=headers, timeout=timeout, follow_redirects=True)

    def __enter__(self) -> _Grafana:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def health(self) -> str:
        """Grafana's version, once ``/api/health`` says its database is ok."""
        answer = self._call("checking /api/health", "GET", "/health")
        if not isinstance(answer, dict) or answer.get("database") != "ok":
            raise GrafanaError(f"Grafana at {self.base}: /api/health did not answer database ok: {_short(answer)}")
        return str(answer.get("version", "unknown"))

    def ensure_folder(self, title: str, uid: str) -> bool:
        """True when the folder had to be created."""
        try:
            self._call(f"reading folder {uid!r}", "GET", f"/folders/{quote(uid)}", absent_ok=True)
            return False
        except _Absent:
            pass
        self._call(f"creating folder {title!r} (uid {uid!r})", "POST", "/folders", body={"title": title, "uid": uid})
        return True

    def save(self, name: str, payload: dict[str, Any]) -> PublishedDashboard:
        dashboard = payload["dashboard"]
        unchanged = self._unchanged(name, payload)
        if unchanged is not None:
            return unchanged
        what = f"saving {name} (uid {dashboard['uid']!r})"
        answer = self._call(what, "POST", "/dashboards/db", body=payload)
        try:
            url = urljoin(self.base + "/", answer["url"])
            return PublishedDashboard(name, str(answer["uid"]), dashboard["title"], url, int(answer["version"]))
        except (TypeError, KeyError, ValueError):
            raise GrafanaError(
                f"Grafana at {self.base}: {what}: expected uid, url and version in the answer, got {_short(answer)}"
            ) from None

    def _unchanged(self, name: str, payload: dict[str, Any]) -> PublishedDashboard | None:
        """The stored dashboard when it is already what we would save: publishing again then
        changes nothing, not even the version (a new version would be noise in its history)."""
        dashboard = payload["dashboard"]
        uid = dashboard["uid"]
        try:
            stored = self._call(f"reading {name} (uid {uid!r})", "GET", f"/dashboards/uid/{quote(uid)}", absent_ok=True)
        except _Absent:
            return None
        if not isinstance(stored, dict):
            return None
        model, meta = stored.get("dashboard") or {}, stored.get("meta") or {}
        if meta.get("folderUid") != payload["folderUid"] or _content(model) != _content(dashboard):
            return None
        try:
            url = urljoin(self.base + "/", str(meta["url"]))
            return PublishedDashboard(name, uid, dashboard["title"], url, int(model["version"]), changed=False)
        except (KeyError, TypeError, ValueError):
            return None

    def _call(
        self, what: str, method: str, path: str, *, body: Mapping[str, Any] | None = None, absent_ok: bool = False
    ) -> Any:
        """The JSON answer of ``method path``; a 404 raises ``_Absent`` when ``absent_ok``."""
        try:
            answer = self.http.request(method, path, json=body)
        except httpx.TransportError as exc:  # refused, reset, timed out, DNS
            raise GrafanaError(f"Grafana at {self.base}: {what}: unreachable ({_reason(exc)})") from None
        except httpx.HTTPError as exc:  # too many redirects and the like: no answer to judge
            raise GrafanaError(f"Grafana at {self.base}: {what}: no answer ({_reason(exc)})") from None
        if answer.status_code == 404 and absent_ok:
            raise _Absent
        if answer.status_code >= 400:
            raise GrafanaError(f"Grafana at {self.base}: {what}: {self._refusal(answer)}")
        try:
            return answer.json()
        except ValueError as exc:  # an answer that is not JSON: not a Grafana API
            raise GrafanaError(f"Grafana at {self.base}: {what}: the answer is not Grafana's JSON ({exc})") from None

    def _refusal(self, answer: httpx.Response) -> str:
        """A refusal in Grafana's words: its JSON ``message`` (and ``status`` on a 412), else the body's text."""
        status = answer.status_code
        try:
            body = answer.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        said = str(body.get("message") or " ".join(answer.text.split())[:200] or answer.reason_phrase)
        if status == 401:
            hint = "the token in GRAFANA_TOKEN was not accepted" if self.has_token else "set GRAFANA_TOKEN"
            return f"401 unauthorized ({said}): {hint}"
        if status == 403:
            return f"403 forbidden ({said}): the token needs the Editor or Admin role"
        if status == 412:
            return f"412 {body.get('status', 'precondition failed')}: {said}"
        return f"{status} {said}" if status < 500 else f"{status} server error: {said}"


class _Absent(Exception):
    """A 404 the caller expected (the folder does not exist yet)."""


def _reason(exc: BaseException) -> str:
    """The innermost useful words of a network error, on one line."""
    text = " ".join(str(exc).split())
    errno = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if errno:
        return errno.group(0).strip()
    return text[:200] or type(exc).__name__


def _short(answer: object) -> str:
    return " ".join(repr(answer).split())[:200]
