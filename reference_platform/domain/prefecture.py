"""The prefecture's back office: agents work their queue, decide, produce and hand over cards."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.domain import sessions, throttle
from reference_platform.domain.outbox import enqueue
from reference_platform.domain.procedures import DossierState, Procedure, check_transition
from reference_platform.domain.security import new_token, token_hash
from reference_platform.errors import DomainError, InvalidInput, NotFound, Unauthorized
from reference_platform.storage.back import (
    Agent,
    AgentRequestRecord,
    AgentSession,
    ApplicantRecord,
    CardRecord,
    DocumentRecord,
    DossierRecord,
    LoginThrottle,
)
from reference_platform.storage.common import get_row, read_row, utcnow
from reference_platform.storage.db import locking
from reference_platform.storage.direct import Snapshots

# On every agent request's path, and every agent's look at a dossier: built once, run on the
# driver's cursor (``storage.direct``); the rows they give are snapshots.
SESSION_AGENT = Snapshots(Agent, sessions.live_session_query(Agent, AgentSession, AgentSession.agent_id))
DOCUMENTS = Snapshots(
    DocumentRecord,
    select(DocumentRecord)
    .where(DocumentRecord.dossier_id == bindparam("dossier"))
    .order_by(DocumentRecord.received_at),
)
REQUESTS = Snapshots(
    AgentRequestRecord,
    select(AgentRequestRecord)
    .where(AgentRequestRecord.dossier_id == bindparam("dossier"))
    .order_by(AgentRequestRecord.requested_at),
)
CARD = Snapshots(CardRecord, select(CardRecord).where(CardRecord.dossier_id == bindparam("dossier")))

# Dossiers waiting for the prefecture; one waiting for the applicant's complements is not in
# the queue, or unanswered requests would push new dossiers out of it.
QUEUE_STATES = (
    DossierState.SUBMITTED.value,
    DossierState.UNDER_REVIEW.value,
    DossierState.ACCEPTED.value,
    DossierState.CARD_PRODUCED.value,
    DossierState.CARD_AVAILABLE.value,
)

# Validity of a renewed card by kind, in years (carte pluriannuelle: up to 4).
CARD_YEARS = {
    "carte_temporaire": 1,
    "carte_pluriannuelle": 4,
    "carte_resident": 10,
    "certificat_residence_algerien": 10,
}


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def login(ctx: PlatformContext, login_name: str, password: str, client: str = "unknown") -> tuple[Agent, str]:
    """Check an agent's credentials (throttled like applicants': ``domain.throttle``) and open a
    session; the password is verified outside any write transaction."""
    name = login_name.strip().lower()
    keys = throttle.Keys.of(f"agent:{name}", client)
    with ctx.stores.back.read() as db:
        agent = db.scalar(select(Agent).where(Agent.login == name))
    counted = throttle.guarded_check(
        ctx, ctx.stores.back, LoginThrottle, keys, agent.password_hash if agent else None, password
    )
    assert agent is not None
    token = new_token()
    expires = utcnow() + timedelta(seconds=ctx.settings.session_ttl_seconds)
    with ctx.stores.back.write() as db:
        throttle.succeeded(db, LoginThrottle, keys, counted)
        db.add(AgentSession(token_hash=token_hash(token), agent_id=agent.id, expires_at=expires))
    return agent, token


def authenticate(ctx: PlatformContext, db: Session, token: str | None) -> Agent:
    """The agent behind a session token: one query on every agent request, session and agent together."""
    if not token:
        raise Unauthorized("not_authenticated", "Veuillez vous connecter.")
    hashed = token_hash(token)
    now = utcnow()
    found = SESSION_AGENT.first_with_rest(
        db, {"token_hash": hashed, "now": now, "idle_since": sessions.idle_since(ctx.settings, now)}
    )
    if found is None:
        raise Unauthorized("session_expired", "Votre session a expiré. Veuillez vous reconnecter.")
    agent, (last_seen,) = found
    if sessions.refresh_due(last_seen, ctx.settings, now):
        ctx.sessions_seen.note("back", hashed, now)  # written by keeper.SessionKeeper
    return agent


def logout(db: Session, token: str) -> None:
    db.execute(delete(AgentSession).where(AgentSession.token_hash == token_hash(token)))


def queue(db: Session, agent: Agent, limit: int) -> list[DossierRecord]:
    return list(
        db.scalars(
            select(DossierRecord)
            .where(DossierRecord.prefecture == agent.prefecture, DossierRecord.state.in_(QUEUE_STATES))
            .order_by(DossierRecord.received_at)
            .limit(limit)
        )
    )


def get_dossier(db: Session, agent: Agent, dossier_id: str, *, snapshot: bool = False) -> DossierRecord:
    """A dossier of the agent's prefecture; ``snapshot``: to read only (see ``common.read_row``)."""
    fetch = read_row if snapshot else get_row
    dossier = fetch(db, DossierRecord, dossier_id, lock=locking(db))
    if dossier is None or dossier.prefecture != agent.prefecture:
        raise NotFound("dossier_not_found", "Dossier introuvable dans votre préfecture.")
    return dossier


def documents_of(db: Session, dossier: DossierRecord) -> list[DocumentRecord]:
    return DOCUMENTS.all(db, {"dossier": dossier.id})


def requests_of(db: Session, dossier: DossierRecord) -> list[AgentRequestRecord]:
    return REQUESTS.all(db, {"dossier": dossier.id})


def _move(ctx: PlatformContext, db: Session, dossier: DossierRecord, target: DossierState) -> None:
    check_transition(dossier.state, target)
    dossier.state = target.value
    enqueue(
        db,
        ctx.faults,
        side="back",
        kind="dossier.state_changed",
        payload={
            "id": dossier.id,
            "state": target.value,
            "decision": dossier.decision,
            "details": dossier.details,
            "procedure": dossier.procedure,
        },
        applicant=dossier.applicant_id,
    )


def start_review(ctx: PlatformContext, db: Session, dossier: DossierRecord) -> DossierRecord:
    _move(ctx, db, dossier, DossierState.UNDER_REVIEW)
    return dossier


def request_complements(
    ctx: PlatformContext, db: Session, agent: Agent, dossier: DossierRecord, message: str
) -> AgentRequestRecord:
    if not message.strip():
        raise InvalidInput("message", "message : texte de la demande attendu.")
    check_transition(dossier.state, DossierState.COMPLEMENT_REQUESTED)
    dossier.state = DossierState.COMPLEMENT_REQUESTED.value
    request = AgentRequestRecord(
        dossier_id=dossier.id, agent_id=agent.id, message=message.strip(), requested_at=utcnow()
    )
    db.add(request)
    db.flush()
    # One message carries the request and the new state: the applicant learns both or neither.
    enqueue(
        db,
        ctx.faults,
        side="back",
        kind="agent_request.created",
        payload={
            "id": request.id,
            "dossier_id": dossier.id,
            "message": request.message,
            "requested_at": request.requested_at.isoformat(),
        },
        applicant=dossier.applicant_id,
    )
    return request


def decide(ctx: PlatformContext, db: Session, dossier: DossierRecord, decision: str) -> DossierRecord:
    target = DossierState.ACCEPTED if decision == "accepted" else DossierState.REFUSED
    check_transition(dossier.state, target)
    dossier.decision = decision
    dossier.decided_at = utcnow()
    if target is DossierState.ACCEPTED and dossier.procedure == Procedure.ADDRESS_CHANGE:
        applicant = get_row(db, ApplicantRecord, dossier.applicant_id)
        if applicant is not None:
            applicant.address = dossier.details["address"]
            applicant.postcode = dossier.details["postcode"]
            applicant.city = dossier.details["city"]
        dossier.state = DossierState.ACCEPTED.value
        _move(ctx, db, dossier, DossierState.CLOSED)
        return dossier
    _move(ctx, db, dossier, target)
    return dossier


def produce_card(ctx: PlatformContext, db: Session, dossier: DossierRecord, today: date) -> CardRecord:
    if dossier.procedure == Procedure.ADDRESS_CHANGE:
        raise DomainError("no_card_for_procedure", "Un changement d'adresse ne donne pas lieu à un nouveau titre.")
    check_transition(dossier.state, DossierState.CARD_PRODUCED)
    previous = db.scalar(
        select(CardRecord)
        .where(CardRecord.applicant_id == dossier.applicant_id)
        .order_by(CardRecord.valid_until.desc())
        .limit(1)
    )
    kind = previous.kind if previous else "carte_pluriannuelle"
    motif = previous.motif if previous else "vie_privee_familiale"
    start = (
        max(today, previous.valid_until + timedelta(days=1))
        if previous and dossier.procedure == Procedure.RENEWAL
        else today
    )
    end = (
        previous.valid_until
        if previous and dossier.procedure == Procedure.DUPLICATE
        else add_years(start, CARD_YEARS.get(kind, 1)) - timedelta(days=1)
    )
    card = CardRecord(
        applicant_id=dossier.applicant_id,
        dossier_id=dossier.id,
        kind=kind,
        motif=motif,
        valid_from=start,
        valid_until=end,
        state="produced",
    )
    db.add(card)
    db.flush()
    _move(ctx, db, dossier, DossierState.CARD_PRODUCED)
    _card_changed(ctx, db, card, dossier_id=dossier.id)
    return card


def card_of(db: Session, dossier: DossierRecord) -> CardRecord:
    card = db.scalar(select(CardRecord).where(CardRecord.dossier_id == dossier.id))
    if card is None:
        raise DomainError("no_card", "Aucun titre n'a été produit pour ce dossier.")
    return card


def make_card_available(ctx: PlatformContext, db: Session, dossier: DossierRecord) -> CardRecord:
    card = card_of(db, dossier)
    check_transition(dossier.state, DossierState.CARD_AVAILABLE)
    card.state = "available"
    _move(ctx, db, dossier, DossierState.CARD_AVAILABLE)
    _card_changed(ctx, db, card, dossier_id=dossier.id)
    return card


def hand_over(ctx: PlatformContext, db: Session, agent: Agent, card_id: str) -> CardRecord:
    """Record the card as handed over; the front office learns it through the seam."""
    card = get_row(db, CardRecord, card_id, lock=locking(db))
    applicant = get_row(db, ApplicantRecord, card.applicant_id) if card else None
    if card is None or applicant is None or applicant.prefecture != agent.prefecture:
        raise NotFound("card_not_found", "Titre introuvable dans votre préfecture.")
    if card.state != "available":
        raise DomainError("card_not_available", f"Le titre n'est pas disponible à la remise (état : {card.state}).")
    dossier = get_row(db, DossierRecord, card.dossier_id) if card.dossier_id else None
    if dossier is not None:
        check_transition(dossier.state, DossierState.HANDED_OVER)
        dossier.state = DossierState.HANDED_OVER.value
    card.state = "handed_over"
    card.handed_over_at = utcnow()
    enqueue(
        db,
        ctx.faults,
        side="back",
        kind="card.handed_over",
        payload={
            "id": card.id,
            "dossier_id": card.dossier_id,
            "handed_over_at": card.handed_over_at.isoformat(),
            "card": card_payload(card),
        },
        applicant=card.applicant_id,
    )
    return card


def card_payload(card: CardRecord) -> dict[str, str]:
    return {
        "id": card.id,
        "kind": card.kind,
        "motif": card.motif,
        "valid_from": card.valid_from.isoformat(),
        "valid_until": card.valid_until.isoformat(),
        "state": card.state,
    }


def _card_changed(ctx: PlatformContext, db: Session, card: CardRecord, *, dossier_id: str | None) -> None:
    enqueue(
        db,
        ctx.faults,
        side="back",
        kind="card.state_changed",
        payload={
            "id": card.id,
            "dossier_id": dossier_id,
            "card": card_payload(card),
        },
        applicant=card.applicant_id,
    )


def cards_of_prefecture(
    db: Session, agent: Agent, state: str | None, limit: int, applicant_id: str | None = None
) -> list[CardRecord]:
    query = (
        select(CardRecord)
        .join(ApplicantRecord, ApplicantRecord.id == CardRecord.applicant_id)
        .where(ApplicantRecord.prefecture == agent.prefecture)
    )
    if state:
        query = query.where(CardRecord.state == state)
    if applicant_id:
        query = query.where(CardRecord.applicant_id == applicant_id)
    return list(db.scalars(query.order_by(CardRecord.valid_until).limit(limit)))
