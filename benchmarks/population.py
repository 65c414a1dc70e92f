"""Benchmark: population generation speed against the naive way, and seeding 100,000 applicants.

Prints, in one run on this machine:
- applicants generated per second on one core by ``Population.applicant`` and by the naive way
  (a fresh ``Faker()`` per applicant, drawing every field from it), and their ratio (aim: ≥ 10×);
- the time to seed 100,000 applicants (and the agents) into an embedded platform (SQLite), over
  its bulk admin API, from generation to the last commit (aim: under a minute).

    .venv/bin/python benchmarks/population.py [--size 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic_users.population import Population
from synthetic_users.reference import NATIONALITIES
from synthetic_users.seeding import seed
from synthetic_users.spec import PopulationSpec
from tests.support import ADMIN_TOKEN, PlatformProcess, smtp_sink


def naive_applicant(seed_value: int, index: int) -> dict[str, object]:
    """How a first version would do it: a Faker per applicant, every field drawn from it."""
    rng = random.Random(f"{seed_value}:{index}")
    nationality = rng.choice(list(NATIONALITIES))
    fake = Faker(NATIONALITIES[nationality][1])
    fake.seed_instance(f"{seed_value}:{index}")
    french = Faker("fr_FR")
    french.seed_instance(index)
    return {
        "given_name": fake.first_name(),
        "family_name": fake.last_name(),
        "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=80),
        "email": fake.unique.email(),
        "foreign_number": fake.numerify("##########"),
        "address": french.street_address(),
        "postcode": french.postcode(),
        "city": french.city(),
        "password": fake.password(length=14),
        "card_until": fake.date_between("+1d", "+3y"),
    }


def rate(make: object, count: int) -> float:
    assert callable(make)
    started = time.perf_counter()
    for index in range(count):
        make(index)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()

    population = Population(PopulationSpec(size=max(args.size, 50_000), seed=2024, reference_date=date.today()))
    ours = rate(population.applicant, 50_000)
    naive = rate(lambda i: naive_applicant(2024, i), 400)
    print("Population generation, one core (one process, in a loop)")
    print(f"  Population.applicant         {ours:10,.0f} applicants/s")
    print(f"  naive (a Faker per applicant) {naive:9,.0f} applicants/s")
    print(f"  ratio                        {ours / naive:10.1f}×  (aim: ≥ 10×)")

    to_seed = Population(PopulationSpec(size=args.size, seed=2025, reference_date=date.today()))
    folder = Path(tempfile.mkdtemp(prefix="anef-seed-bench-"))
    with smtp_sink() as smtp:
        platform = PlatformProcess(data_dir=folder / "data", smtp_port=smtp.port)
        platform.start()
        try:
            started = time.perf_counter()
            counts = seed(to_seed, platform.url, ADMIN_TOKEN)
            elapsed = time.perf_counter() - started
        finally:
            platform.stop()
    print("\nSeeding the embedded platform (SQLite), one streamed request")
    print(
        f"  {counts.applicants:,} applicants and {counts.agents} agents in {elapsed:.1f} s "
        f"({counts.applicants / elapsed:,.0f} applicants/s; aim: 100,000 in under 60 s)"
    )


if __name__ == "__main__":
    main()
