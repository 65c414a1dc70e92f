"""Bulk seeding of the initial state (applicants, their cards, agents) on both sides.

Seeding stands for the years of history before a campaign, so it writes both sides directly
instead of crossing the seam. It is idempotent: a record whose key already exists is skipped.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, model_validator
from sqlalchemy import insert, select

from reference_platform.context import PlatformContext
from reference_platform.storage import back, front

NAMESPACE = uuid.UUID("5b0f3c9e-7a43-4c2e-9d4c-0a4e1f6a2b10")


def stable_id(*parts: str) -> str:
    """The same id on both sides and on every reseed, derived from a natural key."""
    return uuid.uuid5(NAMESPACE, "\0".join(parts)).hex


def _refuse_nul(data: Any) -> Any:
    """PostgreSQL cannot store NUL in text; refuse it in any field of a record."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{key}: must not contain NUL characters")
    return data


class CardSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(_refuse_nul)

    kind: str = Field(min_length=1, max_length=40)
    motif: str = Field(min_length=1, max_length=60)
    valid_from: date
    valid_until: date
    state: Literal["produced", "available", "handed_over"]

    @model_validator(mode="after")
    def _ordered(self) -> CardSeed:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must come after valid_from")
        return self


class ApplicantSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(_refuse_nul)

    type: Literal["applicant"]
    foreign_number: str = Field(pattern=r"^\d{10}$")
    email: EmailStr
    given_name: str = Field(min_length=1, max_length=120)
    family_name: str = Field(min_length=1, max_length=120)
    birth_date: date
    nationality: str = Field(pattern=r"^[A-Z]{3}$")
    address: str = Field(min_length=1, max_length=250)
    postcode: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1, max_length=120)
    prefecture: str = Field(pattern=r"^(\d{2,3}|2A|2B)$")
    password: str | None = Field(None, min_length=1, max_length=1024)
    password_hash: str | None = Field(None, pattern=r"^\$argon2id\$")
    card: CardSeed | None = None

    @model_validator(mode="after")
    def _one_password(self) -> ApplicantSeed:
        if (self.password is None) == (self.password_hash is None):
            raise ValueError("give exactly one of password or password_hash")
        return self


class AgentSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_nul = model_validator(mode="before")(_refuse_nul)

    type: Literal["agent"]
    login: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9._@-]+$")
    name: str = Field(min_length=1, max_length=200)
    prefecture: str = Field(pattern=r"^(\d{2,3}|2A|2B)$")
    password: str = Field(min_length=1, max_length=1024)


BACK_FIELDS = (
    "id",
    "foreign_number",
    "given_name",
    "family_name",
    "email",
    "prefecture",
    "address",
    "postcode",
    "city",
)

SeedRecord = TypeAdapter(Annotated[ApplicantSeed | AgentSeed, Field(discriminator="type")])


def seed_batch(ctx: PlatformContext, records: list[ApplicantSeed | AgentSeed]) -> tuple[int, int, int]:
    """Insert what is new; returns (applicants added, agents added, records skipped)."""
    applicants = [r for r in records if isinstance(r, ApplicantSeed)]
    agents = [r for r in records if isinstance(r, AgentSeed)]
    added_applicants = _seed_applicants(ctx, applicants)
    added_agents = _seed_agents(ctx, agents)
    return added_applicants, added_agents, len(records) - added_applicants - added_agents


def _seed_applicants(ctx: PlatformContext, seeds: list[ApplicantSeed]) -> int:
    if not seeds:
        return 0
    unique = {s.foreign_number: s for s in seeds}
    with ctx.stores.front.read() as db:
        taken = set(
            db.scalars(select(front.Applicant.foreign_number).where(front.Applicant.foreign_number.in_(unique)))
        )
        taken_emails = set(
            db.scalars(
                select(front.Applicant.email).where(
                    front.Applicant.email.in_([s.email.lower() for s in unique.values()])
                )
            )
        )
    new = [s for s in unique.values() if s.foreign_number not in taken and s.email.lower() not in taken_emails]
    if not new:
        return 0
    people, cards = [], []
    for seed in new:
        applicant_id = stable_id("applicant", seed.foreign_number)
        password_hash = seed.password_hash or ctx.passwords.hash(seed.password or "", synthetic=True)
        people.append(
            {
                "id": applicant_id,
                "foreign_number": seed.foreign_number,
                "email": seed.email.lower(),
                "given_name": seed.given_name,
                "family_name": seed.family_name,
                "birth_date": seed.birth_date,
                "nationality": seed.nationality,
                "address": seed.address,
                "postcode": seed.postcode,
                "city": seed.city,
                "prefecture": seed.prefecture,
                "password_hash": password_hash,
                "synthetic": True,
            }
        )
        if seed.card is not None:
            cards.append(
                {"id": stable_id("card", seed.foreign_number), "applicant_id": applicant_id, **seed.card.model_dump()}
            )
    # Each side is checked on its own, so a seed interrupted between the two sides completes.
    with ctx.stores.back.read() as db:
        in_back = set(
            db.scalars(select(back.ApplicantRecord.id).where(back.ApplicantRecord.id.in_([p["id"] for p in people])))
        )
    back_people = [p for p in people if p["id"] not in in_back]
    if back_people:
        with ctx.stores.back.write() as db:
            db.execute(insert(back.ApplicantRecord), [{k: p[k] for k in BACK_FIELDS} for p in back_people])
            back_cards = [c for c in cards if c["applicant_id"] not in in_back]
            if back_cards:
                db.execute(insert(back.CardRecord), back_cards)
    with ctx.stores.front.write() as db:
        db.execute(insert(front.Applicant), people)
        if cards:
            db.execute(insert(front.Card), cards)
    return len(new)


def _seed_agents(ctx: PlatformContext, seeds: list[AgentSeed]) -> int:
    if not seeds:
        return 0
    unique = {s.login: s for s in seeds}
    with ctx.stores.back.read() as db:
        taken = set(db.scalars(select(back.Agent.login).where(back.Agent.login.in_(unique))))
    new = [s for s in unique.values() if s.login not in taken]
    if new:
        with ctx.stores.back.write() as db:
            db.execute(
                insert(back.Agent),
                [
                    {
                        "id": stable_id("agent", s.login),
                        "login": s.login,
                        "name": s.name,
                        "prefecture": s.prefecture,
                        "password_hash": ctx.passwords.hash(s.password, synthetic=True),
                        "synthetic": True,
                    }
                    for s in new
                ],
            )
    return len(new)
