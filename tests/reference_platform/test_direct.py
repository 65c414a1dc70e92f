"""``storage.direct``: statements run on the driver's cursor give what SQLAlchemy gives, in the
session's transaction. Runs on SQLite (the cursor path) and on PostgreSQL (``--database
postgresql``: the same objects, through SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from reference_platform.settings import Settings
from reference_platform.storage.common import get_row, insert_row, read_row
from reference_platform.storage.db import Stores, open_stores
from reference_platform.storage.direct import Direct, Snapshots
from reference_platform.storage.front import Applicant, Card, Dossier, Email, Outbox

WHEN = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def stores(app_settings: Settings) -> Iterator[Stores]:
    opened = open_stores(app_settings)
    yield opened
    opened.dispose()


def applicant(stores: Stores) -> Applicant:
    person = Applicant(
        foreign_number="7501234567",
        email="awa.diallo@example.test",
        given_name="Awa",
        family_name="Diallo",
        birth_date=date(1990, 2, 28),
        nationality="SEN",
        address="12 rue des Lilas",
        postcode="75011",
        city="Paris",
        prefecture="75",
        password_hash="x",
        synthetic=False,
        created_at=WHEN,
    )
    with stores.front.write() as db:
        db.add(person)
    return person


def test_snapshots_read_what_the_orm_reads_types_included(stores: Stores) -> None:
    person = applicant(stores)
    with stores.front.write() as db:
        for state, details in (("draft", {"address": "1 quai", "n": [1, 2]}), ("submitted", {})):
            insert_row(db, Dossier(applicant_id=person.id, procedure="renewal", state=state, details=details))
        insert_row(
            db,
            Card(
                applicant_id=person.id,
                kind="carte_temporaire",
                motif="salarie",
                valid_from=date(2025, 1, 2),
                valid_until=date(2026, 1, 1),
                state="handed_over",
            ),
        )
    open_states = Dossier.state.in_(["submitted", "under_review"])  # an IN list and a LIMIT: literals
    dossiers = Snapshots(Dossier, select(Dossier).where(Dossier.applicant_id == bindparam("who"), open_states).limit(1))
    every = Snapshots(Dossier, select(Dossier).where(Dossier.applicant_id == bindparam("who")).order_by(Dossier.state))
    with stores.front.read() as db:
        orm = list(db.scalars(select(Dossier).where(Dossier.applicant_id == person.id).order_by(Dossier.state)))
        direct = every.all(db, {"who": person.id})
        keys = [c.key for c in Dossier.__table__.columns]
        assert [[getattr(d, k) for k in keys] for d in direct] == [[getattr(d, k) for k in keys] for d in orm]
        assert direct[0].details == {"address": "1 quai", "n": [1, 2]}
        assert direct[0].created_at.tzinfo is not None
        found = dossiers.first(db, {"who": person.id})
        assert found is not None
        assert found.state == "submitted"
        snapshot = read_row(db, Applicant, person.id)
        assert snapshot is not None
        assert (snapshot.synthetic, snapshot.birth_date, snapshot.created_at) == (False, date(1990, 2, 28), WHEN)
        card = read_row(db, Card, db.scalars(select(Card.id)).one())
        assert card is not None
        assert card.valid_until == date(2026, 1, 1)
        assert read_row(db, Applicant, "0" * 32) is None


def test_writes_fill_defaults_share_the_transaction_and_run_many(stores: Stores) -> None:
    emails = Direct(insert(Email.__table__))  # type: ignore[arg-type]
    rows = [{"recipient": f"a{n}@example.test", "subject": "s", "body": "b", "send_after": WHEN} for n in range(3)]
    with stores.front.write() as db:
        emails.run(db, rows)
        emails.run(db, {"recipient": "one@example.test", "subject": "s", "body": "b", "send_after": WHEN})

    def undone() -> None:
        with stores.front.write() as db:
            emails.run(db, {"recipient": "undone@example.test", "subject": "s", "body": "b", "send_after": WHEN})
            raise RuntimeError("the transaction is rolled back")

    with pytest.raises(RuntimeError):
        undone()
    with stores.front.read() as db:
        written = list(db.scalars(select(Email).order_by(Email.recipient)))
    assert [e.recipient for e in written] == [f"a{n}@example.test" for n in range(3)] + ["one@example.test"]
    assert all(e.created_at is not None and e.dropped is False for e in written)  # Python-side defaults
    assert all(e.send_after == WHEN for e in written)

    change = Direct(update(Email.__table__).where(Email.__table__.c.recipient == bindparam("who")))  # type: ignore[arg-type]
    with stores.front.write() as db:
        change.run(db, {"who": "one@example.test", "subject": "changed", "send_after": WHEN + timedelta(days=1)})
    with stores.front.read() as db:
        changed = db.scalars(select(Email).where(Email.recipient == "one@example.test")).one()
    assert (changed.subject, changed.send_after) == ("changed", WHEN + timedelta(days=1))


def test_a_snapshot_is_not_written_and_unflushed_changes_are_read(stores: Stores) -> None:
    person = applicant(stores)
    with stores.front.write() as db:
        snapshot = read_row(db, Applicant, person.id)
        assert snapshot is not None
        snapshot.city = "Lyon"  # not tracked: not written
        db.add(Outbox(kind="k", ordering_key=person.id, payload={"x": 1}))  # pending, not flushed
        count = Direct(select(func.count()).select_from(Outbox.__table__))
        assert count.first(db) == (1,)
    with stores.front.read() as db:
        stored = get_row(db, Applicant, person.id)
        assert stored is not None
        assert stored.city == "Paris"


def test_a_session_s_connection_is_kept_for_one_transaction_only(stores: Stores) -> None:
    """A session that commits and goes on gets its next connection from the pool: the statement
    must not run on the one it gave back (which another session may hold by then)."""
    person = applicant(stores)
    emails = Direct(insert(Email.__table__))  # type: ignore[arg-type]
    count = Direct(select(func.count()).select_from(Email.__table__))
    writer = stores.front.engine.execution_options(sqlite_immediate=True)  # as Store.write's sessions
    with Session(writer) as session:
        emails.run(session, {"recipient": person.email, "subject": "s", "body": "b", "send_after": WHEN})
        first = session.connection().connection.dbapi_connection
        session.commit()
        with stores.front.engine.connect() as other:  # takes the connection the session gave back
            assert other.connection.dbapi_connection is first or stores.front.engine.dialect.name != "sqlite"
            emails.run(session, {"recipient": person.email, "subject": "t", "body": "b", "send_after": WHEN})
            assert other.connection.dbapi_connection is not session.connection().connection.dbapi_connection
        session.rollback()
        assert count.first(session) == (1,)
