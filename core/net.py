"""Host names as the project's guards compare them: loopback or not, and the host of a Host header."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (``127.0.0.0/8``, ``::1``), brackets allowed."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_of(header: str) -> str:
    """The host part of a ``Host`` header, lower-cased, without port or IPv6 brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def loopback_unless_allowed(host: str, allow_remote: bool) -> str:
    """A listening address: loopback, or anything with explicit consent (DESIGN: safe by default)."""
    if not allow_remote and not is_loopback(host):
        raise ValueError(f"{host} is not a loopback address; allow remote access (--allow-remote) to listen there")
    return host
