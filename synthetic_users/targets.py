"""Safe by default: the harness sends traffic only to loopback unless explicitly allowed.

URLs are read as a browser reads them (the WHATWG URL standard, through ada-url): Python's
``urlsplit`` takes ``http://evil.example\\@127.0.0.1:8000`` for 127.0.0.1 where Chromium goes to
evil.example, so a guard built on it can be walked past. A URL with user info is refused outright
(the harness never needs it, and it is the usual disguise), and the harness uses the normalised form.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ada_url import URL

from core.errors import ConfigError
from core.net import is_loopback

__all__ = ["Target", "check_target", "is_loopback", "parse_http_url", "target_problem"]


@dataclass(frozen=True)
class Target:
    """An http(s) URL as a browser reads it: its host, and its normalised form without a trailing slash."""

    host: str
    url: str


def parse_http_url(url: str) -> Target | str:
    """The URL's host and normal form, or why it is not a plain http(s) URL."""
    try:
        parsed = URL(url.strip())
    except ValueError:
        return f"expected an http(s):// URL, got {url!r}"
    if parsed.protocol not in ("http:", "https:") or not parsed.hostname:
        return f"expected an http(s):// URL, got {url!r}"
    if parsed.username or parsed.password:
        return f"a URL with user info ({url!r}) is refused: it is how a host is disguised"
    return Target(parsed.hostname.lower(), parsed.href.rstrip("/"))


def target_problem(url: str, allowed: Collection[str] = ()) -> str | None:
    """Why the harness may not send traffic to ``url``, if so: not http(s), user info, or a host that
    is neither loopback nor in ``allowed``."""
    target = parse_http_url(url)
    if isinstance(target, str):
        return target
    if not is_loopback(target.host) and target.host not in allowed and target.host.strip("[]") not in allowed:
        return f"{target.host} is not a loopback address; add it to allow_targets (or --allow-target {target.host})"
    return None


def check_target(url: str, *, allow_remote: bool = False, option: str = "--target") -> str:
    """Return the normalised URL, or refuse it in one line naming the option."""
    target = parse_http_url(url)
    if isinstance(target, str):
        raise ConfigError(option, target)
    if not allow_remote and not is_loopback(target.host):
        raise ConfigError(
            option,
            f"{target.host} is not a loopback address; the harness sends load only to 127.0.0.1, ::1 or "
            "localhost unless --allow-remote is given",
        )
    return target.url
