"""The sync bridge on its own: at-least-once delivery made idempotent, order, orphans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from reference_platform.app import build_context
from reference_platform.context import PlatformContext
from reference_platform.domain import accounts, front_office
from reference_platform.domain.procedures import Procedure
from reference_platform.domain.seeding import SeedRecord, seed_batch
from reference_platform.settings import Settings
from reference_platform.storage import back, front
from reference_platform.storage.common import utcnow
from reference_platform.sync.bridge import SyncBridge
from tests.support import applicant_seed, pdf_bytes


@pytest.fixture
def ctx(app_settings: Settings) -> Iterator[PlatformContext]:
    context = build_context(app_settings)
    yield context
    context.stores.dispose()


def submitted_renewal(ctx: PlatformContext) -> tuple[front.Applicant, front.Dossier]:
    seed = applicant_seed()
    seed_batch(ctx, [SeedRecord.validate_python(seed)])
    applicant, _ = accounts.login(ctx, seed["email"], seed["password"])
    with ctx.stores.front.write() as db:
        dossier = front_office.create_dossier(ctx, db, applicant, Procedure.RENEWAL, {}, "/test")
        for kind in ("passport", "residence_card", "proof_of_address", "proof_of_resources"):
            front_office.add_document(
                ctx, db, applicant, dossier, kind=kind, filename="p.pdf", content=pdf_bytes(2_000)
            )
        front_office.submit_dossier(ctx, db, applicant, dossier, "/test")
    return applicant, dossier


def back_counts(ctx: PlatformContext, dossier_id: str) -> tuple[int, int]:
    with ctx.stores.back.read() as db:
        dossiers = db.scalar(
            select(func.count()).select_from(back.DossierRecord).where(back.DossierRecord.id == dossier_id)
        )
        documents = db.scalar(
            select(func.count()).select_from(back.DocumentRecord).where(back.DocumentRecord.dossier_id == dossier_id)
        )
    return dossiers or 0, documents or 0


def test_a_message_delivered_twice_changes_nothing(ctx: PlatformContext) -> None:
    _, dossier = submitted_renewal(ctx)
    bridge = SyncBridge(ctx)
    assert bridge.run_once() == 1
    assert back_counts(ctx, dossier.id) == (1, 4)
    # A crash after the effect but before the outbox was marked: the message comes again.
    with ctx.stores.front.write() as db:
        db.execute(update(front.Outbox).values(delivered_at=None))
    assert bridge.pending() == 1
    assert bridge.run_once() == 1
    assert back_counts(ctx, dossier.id) == (1, 4)
    assert bridge.pending() == 0


def test_a_document_waits_for_its_dossier(ctx: PlatformContext) -> None:
    applicant, dossier = submitted_renewal(ctx)
    # The dossier's message is held back (as sync_delay would), the later document is not.
    with ctx.stores.front.write() as db:
        db.execute(update(front.Outbox).values(not_before=utcnow() + timedelta(hours=1)))
        front_office.add_document(
            ctx,
            db,
            applicant,
            db.get(front.Dossier, dossier.id),
            kind="complement",
            filename="c.pdf",
            content=pdf_bytes(1_000),
        )
    bridge = SyncBridge(ctx)
    assert bridge.run_once() == 0  # the document is deferred, not dropped
    assert back_counts(ctx, dossier.id) == (0, 0)
    with ctx.stores.front.write() as db:
        db.execute(update(front.Outbox).values(not_before=None))
    assert bridge.run_once() == 2
    assert back_counts(ctx, dossier.id) == (1, 5)


def test_an_orphan_is_dropped_and_does_not_block_the_rest(ctx: PlatformContext) -> None:
    applicant, dossier = submitted_renewal(ctx)
    with ctx.stores.front.write() as db:
        # The dossier's message is gone (as if lost to a fault); a document for it follows.
        db.execute(update(front.Outbox).values(delivered_at=utcnow()))
        front_office.add_document(
            ctx,
            db,
            applicant,
            db.get(front.Dossier, dossier.id),
            kind="complement",
            filename="c.pdf",
            content=pdf_bytes(1_000),
        )
    _, other_dossier = submitted_renewal(ctx)
    bridge = SyncBridge(ctx)
    assert bridge.run_once() == 2
    assert bridge.pending() == 0
    assert back_counts(ctx, dossier.id) == (0, 0)
    assert back_counts(ctx, other_dossier.id) == (1, 4)


def test_a_held_back_message_holds_back_only_its_applicants_later_ones(ctx: PlatformContext) -> None:
    first_applicant, first = submitted_renewal(ctx)
    _, second = submitted_renewal(ctx)
    bridge = SyncBridge(ctx)
    with ctx.stores.front.write() as db:
        db.execute(
            update(front.Outbox)
            .where(front.Outbox.ordering_key == first_applicant.id)
            .values(not_before=utcnow() + timedelta(hours=1))
        )
        front_office.add_document(
            ctx,
            db,
            first_applicant,
            db.get(front.Dossier, first.id),
            kind="complement",
            filename="c.pdf",
            content=pdf_bytes(1_000),
        )
    assert bridge.run_once() == 1  # the other applicant's dossier only
    assert back_counts(ctx, second.id) == (1, 4)
    assert back_counts(ctx, first.id) == (0, 0)
    with ctx.stores.front.write() as db:
        db.execute(update(front.Outbox).values(not_before=None))
    assert bridge.run_once() == 2
    assert back_counts(ctx, first.id) == (1, 5)


def test_a_poison_message_is_retried_alone_and_the_rest_of_its_batch_goes_through(ctx: PlatformContext) -> None:
    poisoned_applicant, poisoned = submitted_renewal(ctx)
    _, healthy = submitted_renewal(ctx)
    with ctx.stores.front.write() as db:
        # A message its handler cannot apply (here: it names no documents), between two good ones.
        message = db.scalars(select(front.Outbox).where(front.Outbox.ordering_key == poisoned_applicant.id)).one()
        message.payload = {key: value for key, value in message.payload.items() if key != "documents"}
    _, later = submitted_renewal(ctx)
    bridge = SyncBridge(ctx)
    assert bridge.run_once() == 2  # the batch failed as a whole, then went through without it
    assert back_counts(ctx, healthy.id) == (1, 4)
    assert back_counts(ctx, later.id) == (1, 4)
    assert back_counts(ctx, poisoned.id) == (0, 0)  # undone with its savepoint, not half applied
    assert bridge.pending() == 1  # kept, to be retried
    assert bridge.run_once() == 0
    assert bridge.pending() == 1
