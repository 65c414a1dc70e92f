"""Journeys across the seam that need the prefecture: an agent's request, a card handover.

The journey acts as the first agent of the applicant's prefecture for the back-office part,
then watches the applicant's side: what the agent did must show on the applicant's dashboard
(and the applicant's answer back at the prefecture) within the deadline.
"""

from __future__ import annotations

from scenarios.client import Dossier, StepFailed
from scenarios.events import Outcome
from scenarios.journeys import journey
from scenarios.journeys.applicant import entitled, filed_dossier, has_filed_dossier, sign_in
from scenarios.journeys.runner import JourneyStopped, NotApplicable, Run
from synthetic_users.agents import COMPLEMENT_MESSAGES
from synthetic_users.oracle import Truth
from synthetic_users.population import Applicant, Population


@journey(
    eligible=has_filed_dossier,
    steps=("login", "send", "visible", "answer", "reconcile"),
    watches={"visible": "seam", "reconcile": "seam"},
    needs_agents=True,
)
def agent_request(run: Run) -> None:
    """The prefecture asks for complements; the applicant sees the request, answers, and the
    answer reaches the prefecture."""
    ctx = run.ctx
    dossier_id = filed_dossier(ctx.truth)
    if dossier_id is None:
        raise NotApplicable()
    # Signed in first: once the request is sent, it is watched at once (a persona who left between
    # the request and the look would leave it unwatched).
    sign_in(run)
    request_ids: list[str] = []

    def send() -> None:
        agent = ctx.agent()
        seen = agent.dossier(dossier_id)
        assert seen is not None
        if seen.state == "submitted":
            seen = agent.review(dossier_id)
        if seen.state != "under_review" or seen.requests:
            raise NotApplicable()  # another agent decided or asked meanwhile
        request = agent.request_complements(dossier_id, ctx.rng.choice(COMPLEMENT_MESSAGES))
        run.evidence(dossier=dossier_id, request=request.id)
        ctx.oracle.request_sent(ctx.applicant.index, dossier_id, request.id)
        request_ids.append(request.id)

    run.step("send", send)
    request_id = request_ids[0]

    def visible() -> bool:
        run.evidence(dossier=dossier_id, request=request_id)
        return any(r.id == request_id for r in ctx.client.requests())

    run.watch("visible", visible)

    def answer() -> None:
        run.evidence(dossier=dossier_id, request=request_id)
        entitled(lambda: ctx.client.answer(request_id, "Veuillez trouver ci-joint les éléments demandés."))
        ctx.oracle.request_answered(ctx.applicant.index, request_id)

    run.step("answer", answer)

    def answered_at_prefecture() -> bool:
        run.evidence(dossier=dossier_id, request=request_id)
        seen: Dossier | None = ctx.agent().dossier(dossier_id)
        return seen is not None and any(r.id == request_id and r.answer for r in seen.requests)

    run.watch("reconcile", answered_at_prefecture)


def card_waiting(applicant: Applicant, truth: Truth, population: Population) -> bool:
    """The card is available at the prefecture and was never handed over."""
    return truth.card_state == "available"


@journey(eligible=card_waiting, steps=("login", "handover", "visible"), watches={"visible": "seam"}, needs_agents=True)
def card_handover(run: Run) -> None:
    """The prefecture hands the card over; the front office must learn it (else the next
    renewal is refused: "previous card not handed over")."""
    ctx = run.ctx
    applicant_id: list[str] = []

    def login() -> None:
        session = entitled(lambda: ctx.client.login(ctx.applicant.email, ctx.truth.password))
        applicant_id.append(str(session.applicant_id))

    run.step("login", login)

    def hand_over() -> None:
        agent = ctx.agent()
        cards = agent.cards("available", applicant_id=applicant_id[0])
        if not cards:
            raise StepFailed(Outcome.MISSING, "no card available at the prefecture for this applicant")
        card = agent.hand_over(cards[0].id)
        run.evidence(card=card.id)
        ctx.oracle.card_handed_over(ctx.applicant.index, card.id)

    run.step("handover", hand_over)

    def visible() -> bool:
        run.evidence(card=str(ctx.truth.card_id))
        card = ctx.client.profile().card
        return card is not None and card.state == "handed_over"

    try:
        run.watch("visible", visible)
    except JourneyStopped:
        if ctx.truth.card_id is not None:
            ctx.oracle.handover_not_seen(ctx.applicant.index, ctx.truth.card_id)
        raise
