"""Applicants on demand: applicant i is a pure function of (spec, i).

Each applicant draws from its own random stream, keyed by (seed, i) through BLAKE2b, so that
applicant 900,000 costs the same as applicant 0 and comes out identical on every process and
machine. Names come from Faker's locale tables (read once, then drawn directly: building a
Faker per applicant is what made naive generators slow). The draws are those of
``random.Random``'s ``choice``/``randrange``/``randint``/``choices``, made straight on its
generator: the Python wrappers were most of an applicant's cost, and the stream must not change.
"""

from __future__ import annotations

import _random
import hashlib
import string
from bisect import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from itertools import accumulate
from math import floor
from typing import Any, TypeVar

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
_ALPHABET_SIZE = float(len(PASSWORD_ALPHABET))  # as Random.choices scales its draws


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
        self.last = len(self.keys) - 1

    def draw(self, rng: _random.Random) -> str:
        return self.pick(rng.random())

    def pick(self, uniform: float) -> str:
        """The key a uniform draw in [0, 1) lands on (``bisect`` capped at the last key, as
        ``min(bisect(...), last)`` and ``Random.choices`` both do)."""
        return self.keys[bisect(self.cumulative, uniform * self.total, 0, self.last)]


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


def _stream(keyed: hashlib.blake2b, index: int) -> _random.Random:
    """Applicant ``index``'s random stream; ``keyed`` is a BLAKE2b hash that has read
    ``anef-population:{seed}:`` (copied, it spares hashing the prefix again).

    The Mersenne Twister of ``random.Random`` itself (``random.Random`` is this C type with Python
    methods on top): seeded with the same integer, it gives the same numbers, without the Python
    ``__init__`` and ``seed`` around it."""
    hasher = keyed.copy()
    hasher.update(str(index).encode())
    return _random.Random(int.from_bytes(hasher.digest(), "big"))


_Frozen = TypeVar("_Frozen")


def _frozen(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    """``cls(**fields)`` for a frozen dataclass given every field (none has a default or a
    ``__post_init__``), without the generated ``__init__``'s ``object.__setattr__`` per field:
    that was a fifth of an applicant's cost."""
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", fields)
    return instance


def _below(getrandbits: Callable[[int], int], n: int) -> int:
    """``Random._randbelow(n)`` as CPython 3.11 draws it for ``choice``, ``randrange`` and
    ``randint``: n.bit_length() bits (so a 1-item choice still uses a draw), drawn again while the
    number is n or more. The same stream as those methods, without their argument checks."""
    k = n.bit_length()
    r = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return r


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
        # Everything an applicant looks up, looked up once (every locale is loaded here, up front).
        self._keyed = hashlib.blake2b(f"anef-population:{spec.seed}:".encode(), digest_size=16)
        self._names = {code: name_table(NATIONALITIES[code][1]) for code in spec.mix.nationalities}
        self._communes = {code: DEPARTEMENTS[code].communes for code in spec.mix.prefectures}
        self._reference = spec.reference_date.toordinal()
        # Per motif: days from the reference date to the youngest birth date, and how many birth dates.
        ages = {motif: AGES.get(motif, DEFAULT_AGES) for motifs in MOTIFS.values() for motif in motifs}
        self._ages = {motif: (365 * low + 5, 365 * (high - low) + 1) for motif, (low, high) in ages.items()}

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
        # The draws are those of random.Random's choice/randrange/randint/choices, one for one
        # and in the same order (see _below); tests/synthetic_users/test_population_stream.py
        # holds the plain version they must match.
        if not 0 <= index < self.spec.size:
            raise IndexError(f"applicant {index} is outside a population of {self.spec.size}")
        spec, rng = self.spec, _stream(self._keyed, index)
        random, bits = rng.random, rng.getrandbits
        nationality = self._nationality.pick(random())
        names = self._names[nationality]
        sex = "F" if random() < 0.5 else "M"
        first = names.female if sex == "F" else names.male
        given = first[_below(bits, len(first))]
        family = names.last[_below(bits, len(names.last))]
        kind = ALGERIAN_CARD if nationality == "DZA" else self._kind.pick(random())
        motif = self._motif[kind].pick(random())
        card = self._card(random, bits, kind, motif)
        # Old enough to have held the card from its first day.
        youngest, span = self._ages[motif]  # days before the reference date, and how many birth dates
        birth = date.fromordinal(min(self._reference, card.valid_from.toordinal()) - youngest - _below(bits, span))
        prefecture = self._prefecture.pick(random())
        communes = self._communes[prefecture]
        commune, postcode = communes[_below(bits, len(communes))]
        streets = self._streets
        address = (
            f"{1 + _below(bits, 180)} {STREET_TYPES[_below(bits, len(STREET_TYPES))]} "
            f"{streets[_below(bits, len(streets))]}"
        )
        number = self.foreign_number(index)
        bounces = random() < spec.shares.email_bounces
        domain = BOUNCE_DOMAIN if bounces else EMAIL_DOMAINS[_below(bits, len(EMAIL_DOMAINS))]
        # The foreign-national number in the address makes every e-mail unique.
        email = f"{_email_part(given)}.{_email_part(family)}.{number}@{domain}"
        letters = "".join([PASSWORD_ALPHABET[floor(random() * _ALPHABET_SIZE)] for _ in range(10)])
        password = f"Anef-{letters}{10 + _below(bits, 90)}"
        return _frozen(
            Applicant,
            {
                "index": index,
                "foreign_number": number,
                "email": email,
                "given_name": given,
                "family_name": family,
                "sex": sex,
                "birth_date": birth,
                "nationality": nationality,
                "address": address,
                "postcode": postcode,
                "city": commune,
                "prefecture": prefecture,
                "password": password,
                "persona": self._persona.pick(random()),
                "email_bounces": bounces,
                "card": card,
            },
        )

    def _card(self, random: Callable[[], float], bits: Callable[[int], int], kind: str, motif: str) -> CardTruth:
        shares = self.spec.shares
        if motif == "etudiant":
            years = 1
        else:
            choices = CARD_YEARS[kind]
            years = choices[_below(bits, len(choices))]
        length = 365 * years
        if random() < shares.in_renewal_window:
            # CESEDA R.431-5: the renewal window runs from the 120th to the 60th day before expiry.
            ahead = 60 + _below(bits, 61)
        else:
            ahead = 121 + _below(bits, max(121, length - 1) - 120)
        valid_until = self._reference + ahead
        state = "handed_over" if random() < shares.card_handed_over else "available"
        return _frozen(
            CardTruth,
            {
                "kind": kind,
                "motif": motif,
                "valid_from": date.fromordinal(valid_until - length),
                "valid_until": date.fromordinal(valid_until),
                "state": state,
            },
        )

    def in_renewal_window(self, applicant: Applicant) -> bool:
        days = (applicant.card.valid_until - self.spec.reference_date).days
        return 60 <= days <= 120
