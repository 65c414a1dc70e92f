"""Populations: determinism, uniqueness, realism against the configured mix, partitions."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from synthetic_users.partition import LeaseTable, Partition
from synthetic_users.population import Population
from synthetic_users.spec import PopulationSpec

REFERENCE = date(2026, 11, 26)


def spec(size: int, seed: int = 2024) -> PopulationSpec:
    return PopulationSpec(size=size, seed=seed, reference_date=REFERENCE)


def generate(tmp_path: Path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    subprocess.run(
        [
            sys.executable,
            "-m",
            "anef_harness",
            "population",
            "generate",
            "--out",
            str(out),
            "--reference-date",
            REFERENCE.isoformat(),
            *args,
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def test_same_spec_and_seed_give_byte_identical_files_in_different_processes(tmp_path: Path) -> None:
    first = generate(tmp_path, "a.jsonl", "--size", "3000", "--seed", "42")
    second = generate(tmp_path, "b.jsonl", "--size", "3000", "--seed", "42")
    other = generate(tmp_path, "c.jsonl", "--size", "3000", "--seed", "43")
    assert first == second
    assert first.count(b"\n") == 3000
    assert other != first
    assert len(set(first.splitlines()) & set(other.splitlines())) == 0


def test_an_applicant_does_not_depend_on_the_ones_before_it() -> None:
    population = Population(spec(1_000_000))
    late = population.applicant(900_000)
    assert Population(spec(1_000_000)).applicant(900_000) == late
    assert population.applicant(899_999) != late


def test_foreign_numbers_and_emails_are_unique_among_a_million() -> None:
    population = Population(spec(1_000_000))
    numbers = {population.foreign_number(i) for i in range(1_000_000)}
    assert len(numbers) == 1_000_000
    assert all(len(n) == 10 and n.isdigit() for n in list(numbers)[:1000])


@pytest.mark.slow
def test_no_duplicate_email_or_number_in_a_million_generated_applicants() -> None:
    population = Population(spec(1_000_000, seed=7))
    emails, numbers = set(), set()
    for applicant in population:
        emails.add(applicant.email)
        numbers.add(applicant.foreign_number)
    assert len(emails) == len(numbers) == 1_000_000


def test_every_configured_share_is_within_one_point_on_100000_applicants() -> None:
    population = Population(spec(100_000, seed=11))
    nationality, kind, prefecture, persona = Counter(), Counter(), Counter(), Counter()
    window = handed = bounces = non_algerian = 0
    for a in population:
        nationality[a.nationality] += 1
        prefecture[a.prefecture] += 1
        persona[a.persona] += 1
        if a.nationality != "DZA":
            kind[a.card.kind] += 1
            non_algerian += 1
        else:
            assert a.card.kind == "certificat_residence_algerien"
        window += population.in_renewal_window(a)
        handed += a.card.state == "handed_over"
        bounces += a.email_bounces
    n = len(population)
    mix = population.spec.mix
    for code, target in mix.nationalities.items():
        assert abs(nationality[code] / n - target) < 0.01, code
    for code, target in mix.prefectures.items():
        assert abs(prefecture[code] / n - target) < 0.01, code
    for name, target in mix.card_kinds.items():
        assert abs(kind[name] / non_algerian - target) < 0.01, name
    for name, target in population.spec.personas.items():
        assert abs(persona[name] / n - target) < 0.01, name
    shares = population.spec.shares
    assert abs(window / n - shares.in_renewal_window) < 0.01
    assert abs(handed / n - shares.card_handed_over) < 0.01
    assert abs(bounces / n - shares.email_bounces) < 0.01


def test_applicants_are_plausible() -> None:
    population = Population(spec(5_000, seed=3))
    for a in population:
        age_at_card = (a.card.valid_from - a.birth_date).days / 365.25
        assert age_at_card >= 17.9, a
        assert a.postcode.startswith(a.prefecture[:2]), a
        assert a.card.valid_until > REFERENCE
        assert a.foreign_number in a.email
        assert len(a.password) >= 12
        assert any(c.isdigit() for c in a.password)
        assert a.given_name.isprintable(), a
        assert all(ord(c) < 0x250 for c in a.given_name + a.family_name), a


def _members(args: tuple[int, int, int]) -> list[int]:
    number, count, size = args
    return list(Partition(number, count).members(size))


def test_partitions_across_processes_cover_everyone_exactly_once() -> None:
    size, count = 10_007, 4
    with ProcessPoolExecutor(2) as pool:
        parts = list(pool.map(_members, [(k, count, size) for k in range(count)]))
    everyone = Counter(i for part in parts for i in part)
    assert sorted(everyone) == list(range(size))
    assert set(everyone.values()) == {1}


def test_a_lease_cannot_be_held_twice_by_concurrent_takers() -> None:
    table = LeaseTable(size=50, partition=Partition(1, 2))
    holders: Counter[int] = Counter()
    violations: list[int] = []
    lock = threading.Lock()

    def taker() -> None:
        for round_ in range(400):
            lease = table.take_next() if round_ % 2 else table.take(1 + 2 * (round_ % 25))
            if lease is None:
                continue
            with lock:
                holders[lease.index] += 1
                if holders[lease.index] > 1:
                    violations.append(lease.index)
            with lock:
                holders[lease.index] -= 1
            lease.release()

    threads = [threading.Thread(target=taker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert violations == []
    assert table.held == 0


def test_a_held_lease_is_refused_until_released() -> None:
    table = LeaseTable(size=10)
    with table.take(3) as lease:
        assert table.take(3) is None
    assert lease.index == 3
    assert table.take(3) is not None
    with pytest.raises(ValueError, match="not in partition"):
        LeaseTable(size=10, partition=Partition(0, 2)).take(3)
