"""Putting a population's initial state into the platform through its bulk admin API, and
writing it out as JSON Lines for inspection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

import httpx

from core.errors import TargetError
from synthetic_users.agents import agent_identities, to_seed_record
from synthetic_users.population import Population

CHUNK = 500  # records per chunk of the streamed request body


@dataclass(frozen=True)
class SeedCounts:
    applicants: int
    agents: int
    skipped: int


def agents_of(population: Population) -> list[dict[str, str]]:
    """The prefecture agents of the population: ``agents_per_prefecture`` per prefecture."""
    spec = population.spec
    return [
        to_seed_record(a) for a in agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)
    ]


def seed_records(population: Population, *, on_progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The NDJSON body, generated lazily in chunks (a million applicants never sit in memory)."""
    lines: list[str] = [json.dumps(agent) for agent in agents_of(population)]
    for index in range(len(population)):
        lines.append(json.dumps(population.applicant(index).seed_record(), ensure_ascii=False))
        if len(lines) >= CHUNK:
            yield ("\n".join(lines) + "\n").encode()
            if on_progress:
                on_progress(len(lines))
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()
        if on_progress:
            on_progress(len(lines))


def seed(
    population: Population,
    target: str,
    admin_token: str,
    *,
    on_progress: Callable[[int], None] | None = None,
    timeout: float = 3600.0,
) -> SeedCounts:
    """Seed applicants and agents in one streamed request; idempotent (the platform skips what
    it already has)."""
    url = f"{target}/_admin/seed"
    try:
        response = httpx.post(
            url,
            content=seed_records(population, on_progress=on_progress),
            headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/x-ndjson"},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )
    except httpx.TransportError as exc:
        raise TargetError(f"--target: cannot reach {target} ({exc.__class__.__name__}: {exc})") from None
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise TargetError(f"--target: {url} answered {response.status_code}: {message}")
    body = response.json()
    return SeedCounts(applicants=body["applicants"], agents=body["agents"], skipped=body["skipped"])


def write_jsonl(population: Population, out: IO[str], *, on_progress: Callable[[int], None] | None = None) -> None:
    """One applicant a line, in index order; the same spec always gives the same bytes."""
    for index in range(len(population)):
        out.write(json.dumps(population.applicant(index).to_json(), ensure_ascii=False) + "\n")
        if on_progress and (index + 1) % CHUNK == 0:
            on_progress(CHUNK)
    if on_progress and len(population) % CHUNK:
        on_progress(len(population) % CHUNK)
