"""Populations do not change: the generator draws exactly what the plain ``random`` API would.

``Population.applicant`` calls the Mersenne Twister's ``random``/``getrandbits`` directly, with the
arithmetic of ``Random.choice``/``randrange``/``randint``/``choices``, because the Python wrappers
were most of an applicant's cost. A population is a pure function of (spec, seed) and baselines
compare campaigns across releases, so every field must stay what the plain version below gives.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pytest
from anyascii import anyascii

from synthetic_users.population import (
    PASSWORD_ALPHABET,
    Applicant,
    CardTruth,
    Population,
    Weighted,
    name_table,
)
from synthetic_users.reference import (
    AGES,
    ALGERIAN_CARD,
    BOUNCE_DOMAIN,
    CARD_YEARS,
    DEFAULT_AGES,
    DEPARTEMENTS,
    EMAIL_DOMAINS,
    MOTIFS,
    NATIONALITIES,
    STREET_TYPES,
)
from synthetic_users.spec import PopulationSpec

SPECS: dict[str, dict[str, Any]] = {
    "default": {"size": 1_000_000, "seed": 2024, "reference_date": date(2026, 12, 1)},
    # Chinese and Ukrainian names, Algerian cards, one card kind, a one-commune prefecture (a
    # one-item choice still uses a draw), every card in its renewal window, half the mail bouncing.
    "narrow": {
        "size": 50_000,
        "seed": -7,
        "reference_date": date(2028, 2, 29),
        "mix": {
            "nationalities": {"CHN": 0.5, "UKR": 0.3, "DZA": 0.2},
            "card_kinds": {"carte_pluriannuelle": 1.0},
            "prefectures": {"45": 0.6, "75": 0.4},
        },
        "shares": {"in_renewal_window": 1.0, "card_handed_over": 0.0, "email_bounces": 0.5},
        "personas": {"anxious": 1.0},
    },
    # One-length card terms, a zero weight, no card in its window, a seed wider than 32 bits.
    "edges": {
        "size": 3_200,
        "seed": 123_456_789_012,
        "reference_date": date(2025, 1, 1),
        "mix": {
            "nationalities": {"MAR": 0.5, "IND": 0.25, "NGA": 0.25, "USA": 0.0},
            "card_kinds": {"carte_temporaire": 0.5, "carte_resident": 0.5},
            "prefectures": {"75": 0.0, "93": 1.0},
        },
        "shares": {"in_renewal_window": 0.0, "card_handed_over": 1.0, "email_bounces": 0.0},
    },
}


def indexes(size: int) -> Iterable[int]:
    """The first 3,000 applicants and the last 200."""
    return sorted({*range(min(size, 3_000)), *range(max(0, size - 200), size)})


def email_part(name: str) -> str:
    return "".join(c for c in anyascii(name).lower() if c.isalnum()) or "x"


def plain_applicant(population: Population, index: int) -> Applicant:
    """Applicant ``index`` drawn through ``random.Random``'s public methods: the specification."""
    spec = population.spec
    digest = hashlib.blake2b(f"anef-population:{spec.seed}:{index}".encode(), digest_size=16).digest()
    rng = random.Random(int.from_bytes(digest, "big"))

    def weighted(shares: Mapping[str, float]) -> str:
        return rng.choices(list(shares), weights=list(shares.values()))[0]

    nationality = weighted(spec.mix.nationalities)
    names = name_table(NATIONALITIES[nationality][1])
    sex = "F" if rng.random() < 0.5 else "M"
    given = rng.choice(names.female if sex == "F" else names.male)
    family = rng.choice(names.last)
    kind = ALGERIAN_CARD if nationality == "DZA" else weighted(spec.mix.card_kinds)
    motif = weighted(MOTIFS[kind])
    years = 1 if motif == "etudiant" else rng.choice(CARD_YEARS[kind])
    length = 365 * years
    if rng.random() < spec.shares.in_renewal_window:
        ahead = rng.randint(60, 120)
    else:
        ahead = rng.randint(121, max(121, length - 1))
    valid_until = spec.reference_date + timedelta(days=ahead)
    state = "handed_over" if rng.random() < spec.shares.card_handed_over else "available"
    card = CardTruth(kind, motif, valid_until - timedelta(days=length), valid_until, state)
    low, high = AGES.get(motif, DEFAULT_AGES)
    youngest = min(spec.reference_date, card.valid_from) - timedelta(days=365 * low + 5)
    birth = youngest - timedelta(days=rng.randrange(365 * (high - low) + 1))
    prefecture = weighted(spec.mix.prefectures)
    commune, postcode = rng.choice(DEPARTEMENTS[prefecture].communes)
    address = f"{rng.randint(1, 180)} {rng.choice(STREET_TYPES)} {rng.choice(name_table('fr_FR').last)}"
    number = population.foreign_number(index)
    bounces = rng.random() < spec.shares.email_bounces
    domain = BOUNCE_DOMAIN if bounces else rng.choice(EMAIL_DOMAINS)
    password = "Anef-" + "".join(rng.choices(PASSWORD_ALPHABET, k=10)) + str(rng.randrange(10, 100))
    return Applicant(
        index=index,
        foreign_number=number,
        email=f"{email_part(given)}.{email_part(family)}.{number}@{domain}",
        given_name=given,
        family_name=family,
        sex=sex,
        birth_date=birth,
        nationality=nationality,
        address=address,
        postcode=postcode,
        city=commune,
        prefecture=prefecture,
        password=password,
        persona=weighted(spec.personas),
        email_bounces=bounces,
        card=card,
    )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_applicants_are_those_the_plain_random_api_draws(name: str) -> None:
    population = Population(PopulationSpec.model_validate(SPECS[name]))
    for index in indexes(population.spec.size):
        expected, got = plain_applicant(population, index), population.applicant(index)
        assert got == expected, index
        assert got.to_json() == expected.to_json(), index
        assert hash(got) == hash(expected)
        assert repr(got) == repr(expected)


# Recorded with the generator of main at 73b9740 (it drew through random.Random's methods;
# Faker 40.63.0's name tables): sha256 over `digest()` below. A change here changes every
# population, so every baseline: re-record only on purpose (a Faker upgrade, new reference data).
RECORDED = {
    "default": "f06bf9d9fa51ce50b247f7d6f80e7454732b8df9678df50535ad544775c21844",
    "narrow": "fdff1eb16da90f7b8f01faba896e7aa69ed62e7207cc47cd3394ae86de5784e6",
}


def digest(population: Population) -> str:
    lines = hashlib.sha256()
    for index in indexes(population.spec.size):
        record = json.dumps(population.applicant(index).to_json(), sort_keys=True, ensure_ascii=False)
        lines.update(record.encode() + b"\n")
    return lines.hexdigest()


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_populations_are_those_recorded_before_the_faster_generator(name: str) -> None:
    assert digest(Population(PopulationSpec.model_validate(SPECS[name]))) == RECORDED[name]


def test_a_weighted_draw_is_random_choices_with_the_same_weights() -> None:
    shares = {"a": 0.2, "b": 0.0, "c": 0.5, "d": 0.3}
    ours, plain = random.Random(11), random.Random(11)
    weighted = Weighted(shares)
    drawn = [weighted.draw(ours) for _ in range(5_000)]
    assert drawn == [plain.choices(list(shares), weights=list(shares.values()))[0] for _ in range(5_000)]
    assert set(drawn) == {"a", "c", "d"}
