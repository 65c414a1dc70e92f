"""The harness's calls to the platform's admin API: faults, ledger, clock.

The conductor sets the faults and reads the ledger through ``AdminClient``; a drill that restarts
the platform sets its clock and faults again through the same calls.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from contracts.admin import Ledger, LedgerEntry
from contracts.fault_set import FaultSet
from core.errors import TargetError


class AdminClient:
    def __init__(self, target: str, token: str) -> None:
        self.target = target
        self._http = httpx.Client(base_url=target, headers={"Authorization": f"Bearer {token}"}, timeout=15.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise TargetError(f"{self.target}{path}: unreachable ({exc.__class__.__name__})") from None
        if response.status_code != 200:
            raise TargetError(f"{self.target}{path} answered {response.status_code}: {response.text[:200]}")
        return response

    def set_faults(self, faults: FaultSet) -> None:
        self._call("PUT", "/_admin/faults", json=faults.model_dump(mode="json", exclude_none=True))

    def ledger(self) -> list[LedgerEntry]:
        return self.full_ledger().entries

    def full_ledger(self) -> Ledger:
        """The ledger with the platform's draws per fault (what ``ledger.json`` keeps)."""
        return Ledger.model_validate_json(self._call("GET", "/_admin/ledger").content)


def set_clock(target: str, admin_token: str, today: date) -> None:
    """Fix the platform's business date (``PUT /_admin/clock``)."""
    try:
        response = httpx.put(
            f"{target}/_admin/clock",
            json={"today": today.isoformat()},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=10.0,
        )
    except httpx.TransportError as exc:
        raise TargetError(f"{target}: cannot set the clock ({exc})") from None
    if response.status_code != 200:
        raise TargetError(f"{target}/_admin/clock answered {response.status_code}: {response.text[:200]}")
