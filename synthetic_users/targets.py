"""Safe by default: the harness sends traffic only to loopback unless explicitly allowed."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from core.errors import ConfigError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_target(url: str, *, allow_remote: bool = False, option: str = "--target") -> str:
    """Return the URL without a trailing slash, or refuse it in one line naming the option."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(option, f"expected an http:// or https:// URL, got {url!r}")
    if not allow_remote and not is_loopback(parts.hostname):
        raise ConfigError(
            option,
            f"{parts.hostname} is not a loopback address; the harness sends load only to 127.0.0.1, ::1 or "
            "localhost unless --allow-remote is given",
        )
    return url.rstrip("/")
