"""Applicants on demand: applicant i is a pure function of (spec, i).

Each applicant draws from its own random stream, keyed by (seed, i) through BLAKE2b, so that
applicant 900,000 costs the same as applicant 0 and comes out identical on every process and
machine. Names come from Faker's locale tables (read once, then drawn directly: building a
Faker per applicant is what made naive generators slow).
"""

from __future__ import annotations

import hashlib
import random
import string
from bisect import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from typing import Any

from anyascii import anyascii
from faker import Faker

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

# Foreign-national numbers: i ↦ (A·i + B) mod 10¹⁰ is a bijection because A is coprime with
# 10¹⁰, so numbers are unique for every i below ten billion and look scattered.
NUMBER_SPACE = 10**10
NUMBER_MULTIPLIER = 6_364_136_223  # odd and not a multiple of 5
_NUMBER_INVERSE = pow(NUMBER_MULTIPLIER, -1, NUMBER_SPACE)  # numbers map back to indexes
PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class CardTruth:
    kind: str
    motif: str
    valid_from: date
    valid_until: date
    state: str  # "handed_over" or "available"


@dataclass(frozen=True)
class Applicant:
    index: int
    foreign_number: str
    email: str
    given_name: str
    family_name: str
    sex: str
    birth_date: date
    nationality: str
    address: str
    postcode: str
    city: str
    prefecture: str
    password: str
    persona: str
    email_bounces: bool
    card: CardTruth

    def seed_record(self) -> dict[str, Any]:
        """The platform's bulk-seed record (``POST /_admin/seed``)."""
        return {
            "type": "applicant",
            "foreign_number": self.foreign_number,
            "email": self.email,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birth_date": self.birth_date.isoformat(),
            "nationality": self.nationality,
            "address": self.address,
            "postcode": self.postcode,
            "city": self.city,
            "prefecture": self.prefecture,
            "password": self.password,
            "card": {
                "kind": self.card.kind,
                "motif": self.card.motif,
                "valid_from": self.card.valid_from.isoformat(),
                "valid_until": self.card.valid_until.isoformat(),
                "state": self.card.state,
            },
        }

    def to_json(self) -> dict[str, Any]:
        """Everything the harness knows about the applicant, for inspection (JSON Lines)."""
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat()
        data["card"] = {k: v.isoformat() if isinstance(v, date) else v for k, v in data["card"].items()}
        return data


class Weighted:
    """A weighted choice prepared once, drawn in O(log n)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.keys = list(weights)
        self.cumulative = list(accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> str:
        return self.keys[min(bisect(self.cumulative, rng.random() * self.total), len(self.keys) - 1)]


@dataclass(frozen=True)
class NameTable:
    male: Sequence[str]
    female: Sequence[str]
    last: Sequence[str]


def _latin(name: str) -> str:
    """Names as a French card prints them: Latin script, transliterated where needed."""
    return name if all(ord(c) < 0x250 for c in name) else anyascii(name)


@cache
def name_table(locale: str) -> NameTable:
    provider = Faker(locale).provider("faker.providers.person")
    assert provider is not None, locale

    def names(*attributes: str) -> tuple[str, ...]:
        for attribute in attributes:
            values = getattr(provider, attribute, None)
            if values:
                return tuple(sorted({_latin(str(v)) for v in values}))
        raise LookupError(f"Faker locale {locale} has none of {attributes}")

    if locale == "zh_CN":
        first = names("first_romanized_names")
        return NameTable(first, first, names("last_romanized_names"))
    return NameTable(
        male=names("first_names_male", "first_names"),
        female=names("first_names_female", "first_names"),
        last=names("last_names_male", "last_names"),
    )


def _stream(seed: int, index: int) -> random.Random:
    digest = hashlib.blake2b(f"anef-population:{seed}:{index}".encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


@cache  # names come from the finite name tables; transliteration is a tenth of an applicant's cost
def _email_part(name: str) -> str:
    return "".join(c for c in anyascii(name).lower() if c.isalnum()) or "x"


class Population:
    """The applicants of a spec, generated on demand."""

    def __init__(self, spec: PopulationSpec) -> None:
        self.spec = spec
        self._nationality = Weighted(spec.mix.nationalities)
        self._kind = Weighted(spec.mix.card_kinds)
        self._prefecture = Weighted(spec.mix.prefectures)
        self._persona = Weighted(spec.personas)
        self._motif = {kind: Weighted(motifs) for kind, motifs in MOTIFS.items()}
        self._offset = int.from_bytes(hashlib.blake2b(f"numbers:{spec.seed}".encode(), digest_size=8).digest(), "big")
        self._streets = name_table("fr_FR").last  # French streets are mostly named after people
        for code in spec.mix.nationalities:
            name_table(NATIONALITIES[code][1])  # load every locale once, up front

    def __len__(self) -> int:
        return self.spec.size

    def __iter__(self) -> Iterator[Applicant]:
        return (self.applicant(i) for i in range(self.spec.size))

    def foreign_number(self, index: int) -> str:
        return f"{(NUMBER_MULTIPLIER * index + self._offset) % NUMBER_SPACE:010d}"

    def index_of(self, foreign_number: str) -> int | None:
        """The index of the applicant with this foreign number, or None if no applicant of this
        population has it (an agent sees the number on a dossier, not the harness's index)."""
        if len(foreign_number) != 10 or not foreign_number.isdigit():
            return None
        index = ((int(foreign_number) - self._offset) * _NUMBER_INVERSE) % NUMBER_SPACE
        return index if index < self.spec.size else None

    def applicant(self, index: int) -> Applicant:
        if not 0 <= index < self.spec.size:
            raise IndexError(f"applicant {index} is outside a population of {self.spec.size}")
        spec, rng = self.spec, _stream(self.spec.seed, index)
        nationality = self._nationality.draw(rng)
        names = name_table(NATIONALITIES[nationality][1])
        sex = "F" if rng.random() < 0.5 else "M"
        given = rng.choice(names.female if sex == "F" else names.male)
        family = rng.choice(names.last)
        kind = ALGERIAN_CARD if nationality == "DZA" else self._kind.draw(rng)
        motif = self._motif[kind].draw(rng)
        card = self._card(rng, kind, motif)
        low, high = AGES.get(motif, DEFAULT_AGES)
        # Old enough to have held the card from its first day.
        youngest = min(spec.reference_date, card.valid_from) - timedelta(days=365 * low + 5)
        birth = youngest - timedelta(days=rng.randrange(365 * (high - low) + 1))
        prefecture = self._prefecture.draw(rng)
        commune, postcode = rng.choice(DEPARTEMENTS[prefecture].communes)
        address = f"{rng.randint(1, 180)} {rng.choice(STREET_TYPES)} {rng.choice(self._streets)}"
        number = self.foreign_number(index)
        bounces = rng.random() < spec.shares.email_bounces
        domain = BOUNCE_DOMAIN if bounces else EMAIL_DOMAINS[rng.randrange(len(EMAIL_DOMAINS))]
        # The foreign-national number in the address makes every e-mail unique.
        email = f"{_email_part(given)}.{_email_part(family)}.{number}@{domain}"
        password = "Anef-" + "".join(rng.choices(PASSWORD_ALPHABET, k=10)) + str(rng.randrange(10, 100))
        return Applicant(
            index=index,
            foreign_number=number,
            email=email,
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
            persona=self._persona.draw(rng),
            email_bounces=bounces,
            card=card,
        )

    def _card(self, rng: random.Random, kind: str, motif: str) -> CardTruth:
        spec = self.spec
        years = 1 if motif == "etudiant" else rng.choice(CARD_YEARS[kind])
        length = 365 * years
        if rng.random() < spec.shares.in_renewal_window:
            # CESEDA R.431-5: the renewal window runs from the 120th to the 60th day before expiry.
            ahead = rng.randint(60, 120)
        else:
            ahead = rng.randint(121, max(121, length - 1))
        valid_until = spec.reference_date + timedelta(days=ahead)
        state = "handed_over" if rng.random() < spec.shares.card_handed_over else "available"
        return CardTruth(kind, motif, valid_until - timedelta(days=length), valid_until, state)

    def in_renewal_window(self, applicant: Applicant) -> bool:
        days = (applicant.card.valid_until - self.spec.reference_date).days
        return 60 <= days <= 120
