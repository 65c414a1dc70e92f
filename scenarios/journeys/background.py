"""Background prefecture agents as synthetic users: each action is a step, its effect watched.

A background agent works its prefecture's queue; ``synthetic_users.agents.plan`` decides the next
action on each dossier. Every action is one short journey ``agent`` for the dossier's applicant:
the action is a step (``agent.review``, ``agent.complements``, ``agent.decide``, ``agent.produce_card``,
``agent.make_available``, ``agent.handover``) and, where it changes what the applicant sees, a watch
on the applicant's side with a deadline, like any journey step (``agent.complements_visible``: the
request shows on the dashboard; ``agent.decision_visible``: the decision does; ``agent.handover_visible``:
the card shows as handed over). Without those watches, a defect that fires on an agent's action
(a card never marked handed over, a hidden request) would fire where nobody looks (DESIGN.md,
"Everything the harness does is judged").

An agent acts only for applicants of its own process's partition, under a lease, so that no journey
acts for the same applicant meanwhile, the watch can sign in with the password the oracle knows, and
the oracle learns what the agent did. A dossier whose applicant is busy waits for the next pass.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from scenarios.client import AgentClient, AgentDossier, ApplicantClient, StepFailed
from scenarios.events import Outcome
from scenarios.journeys import JourneyContext, NotApplicable, Run, conclude, journey
from scenarios.journeys.runner import AgentDesk, EventSink, JourneySettings, JourneyStopped, MailboxReader
from scenarios.transport import Transport
from synthetic_users.agents import AgentAction, AgentIdentity, AgentPace, Planned, actionable, plan
from synthetic_users.oracle import Oracle, Truth
from synthetic_users.partition import LeaseTable
from synthetic_users.personas import Persona
from synthetic_users.population import Applicant, Population

T = TypeVar("T")
JOURNEY = "agent"
STEPS = (
    "review",
    "complements",
    "complements_visible",
    "decide",
    "decision_visible",
    "produce_card",
    "make_available",
    "handover",
    "handover_visible",
)
# An agent does not hesitate, give up or think between its action and the look at the other side;
# it tries an action twice (the platform may answer differently next time).
AGENT = Persona(
    name="agent", think_time=(0.0, 0.0), patience=1, abandonment=0.0, channel="api", answers_agent_requests=0.0
)


def _drawn_never(applicant: Applicant, truth: Truth, population: Population) -> bool:
    return False


@journey(
    eligible=_drawn_never,
    steps=STEPS,
    watches={"complements_visible": "seam", "decision_visible": "seam", "handover_visible": "seam"},
    needs_agents=True,
    background=True,
)
def agent(run: Run) -> None:
    """A background prefecture agent's action and its effect on the applicant's side (run by the
    campaign's agents, never drawn as a journey)."""
    raise NotApplicable()


@dataclass
class Shift:
    """What the agents of one load process share: the partition's applicants and where to record."""

    population: Population
    oracle: Oracle
    leases: LeaseTable
    sink: EventSink
    worker: str
    settings: JourneySettings
    desk: AgentDesk
    mailbox: MailboxReader | None


class BackgroundAgent:
    """One synthetic agent of one prefecture working its queue, one recorded action at a time."""

    def __init__(
        self,
        identity: AgentIdentity,
        pace: AgentPace,
        shift: Shift,
        transport: Transport,
        applicant_transport: Callable[[], Transport],
        rng: random.Random,
    ) -> None:
        self.identity = identity
        self.pace = pace
        self.shift = shift
        self.client = AgentClient(transport)
        self.applicant_transport = applicant_transport
        self.rng = rng

    def work_once(self) -> int:
        """One pass over the queue: at most ``max_batch`` actions, one per dossier; returns the
        actions run (each one a journey ``agent`` in the results)."""
        try:
            queue = self._signed_in(lambda: self.client.queue(self.pace.queue_page))
        except StepFailed:
            return 0  # no session or no queue: the agent's requests show in the load statistics
        acted = 0
        for dossier in queue:
            if acted >= self.pace.max_batch:
                break
            index = self.shift.population.index_of(dossier.foreign_number)
            if index is None or not self.shift.leases.partition.owns(index):
                continue  # another process's applicant, or not of this campaign's population
            if not actionable(dossier.state, dossier.procedure, self.pace):
                continue  # waiting for the applicant's answer
            lease = self.shift.leases.take(index)
            if lease is None:
                continue  # a journey acts for this applicant now: next pass
            with lease:
                current = self._current(dossier.id)  # the queue was read before: another agent may have acted
                planned = None if current is None else self._plan(current)
                if current is None or planned is None:
                    continue
                self._act(index, current, planned)
            acted += 1
        return acted

    def _current(self, dossier_id: str) -> AgentDossier | None:
        """The dossier as the prefecture has it now; None if it cannot be read (the failure shows in
        the load statistics, and the next pass tries again)."""
        try:
            return self._signed_in(lambda: self.client.dossier(dossier_id, missing_ok=True))
        except StepFailed:
            return None

    def _plan(self, dossier: AgentDossier) -> Planned | None:
        planned = plan(
            dossier.state, dossier.procedure, has_requests=bool(dossier.requests), pace=self.pace, rng=self.rng
        )
        if planned is not None and planned.action is AgentAction.HAND_OVER and dossier.card is None:
            return None
        return planned

    def _act(self, index: int, dossier: AgentDossier, planned: Planned) -> None:
        shift = self.shift
        ctx = JourneyContext(
            applicant=shift.population.applicant(index),
            oracle=shift.oracle,
            persona=AGENT,
            client=ApplicantClient(self.applicant_transport()),
            desk=shift.desk,
            mailbox=shift.mailbox,
            settings=shift.settings,
            rng=self.rng,
        )
        run = Run(JOURNEY, ctx, shift.sink, worker=shift.worker, channel="agent")
        conclude(run, Action(self, run, dossier, planned).perform)

    def _signed_in(self, call: Callable[[], T]) -> T:
        """``call`` in the agent's session: opened first if needed, reopened once on a 401."""
        if self.client.token is None:
            self.client.login(self.identity.login, self.identity.password)
        try:
            return call()
        except StepFailed as failure:
            if failure.status != 401:
                raise
        self.client.login(self.identity.login, self.identity.password)
        return call()


class Action:
    """One planned action on one dossier, run as steps of the ``agent`` journey."""

    def __init__(self, agent: BackgroundAgent, run: Run, dossier: AgentDossier, planned: Planned) -> None:
        self.agent, self.run, self.dossier, self.planned = agent, run, dossier, planned
        self.index = run.ctx.applicant.index
        self.oracle = run.ctx.oracle

    def perform(self) -> None:
        action = self.planned.action
        if action is AgentAction.REVIEW:
            self._step("review", lambda: self.agent.client.review(self.dossier.id), "under_review")
        elif action is AgentAction.REQUEST_COMPLEMENTS:
            self._request()
        elif action in (AgentAction.ACCEPT, AgentAction.REFUSE):
            self._decide(str(self.planned.decision))
        elif action is AgentAction.PRODUCE_CARD:
            self._step("produce_card", lambda: self.agent.client.produce_card(self.dossier.id), "card_produced")
        elif action is AgentAction.MAKE_AVAILABLE:
            self._make_available()
        elif action is AgentAction.HAND_OVER:
            self._hand_over()

    def _step(self, name: str, call: Callable[[], T], state: str | None = None) -> T:
        def action() -> T:
            self.run.evidence(dossier=self.dossier.id)
            value = self.agent._signed_in(call)
            if state is not None:
                self.oracle.dossier_moved(self.index, self.dossier.id, self.dossier.procedure, state)
            return value

        return self.run.step(name, action)

    def _request(self) -> None:
        message = str(self.planned.message)
        request = self._step("complements", lambda: self.agent.client.request_complements(self.dossier.id, message))
        self.oracle.request_sent(self.index, self.dossier.id, request.id, procedure=self.dossier.procedure)
        self.oracle.dossier_moved(self.index, self.dossier.id, self.dossier.procedure, "complement_requested")

        def visible() -> bool:
            self.run.evidence(dossier=self.dossier.id, request=request.id)
            return any(r.id == request.id for r in self._applicant().requests())

        self.run.watch("complements_visible", visible)

    def _decide(self, decision: str) -> None:
        decided = self._step("decide", lambda: self.agent.client.decide(self.dossier.id, decision))
        # The state the decision leads to: an accepted address change is closed at once.
        state = decided.state
        self.oracle.dossier_moved(self.index, self.dossier.id, self.dossier.procedure, state)

        def visible() -> bool:
            self.run.evidence(dossier=self.dossier.id, decision=decision, state=state)
            return self._applicant().dossier(self.dossier.id).state == state

        self.run.watch("decision_visible", visible)

    def _make_available(self) -> None:
        card = self._step("make_available", lambda: self.agent.client.make_available(self.dossier.id), "card_available")
        self.oracle.card_available(self.index, card.id, procedure=self.dossier.procedure)

    def _hand_over(self) -> None:
        assert self.dossier.card is not None
        card_id = self.dossier.card.id
        self._step("handover", lambda: self.agent.client.hand_over(card_id), "handed_over")
        self.oracle.card_handed_over(self.index, card_id)

        def visible() -> bool:
            self.run.evidence(card=card_id, dossier=self.dossier.id)
            card = self._applicant().profile().card
            return card is not None and card.id == card_id and card.state == "handed_over"

        try:
            self.run.watch("handover_visible", visible)
        except JourneyStopped:
            self.oracle.handover_not_seen(self.index, card_id)
            raise

    def _applicant(self) -> ApplicantClient:
        """The applicant's own session, opened on the first look (a refusal to sign in is judged
        like any login: the watch keeps looking until its deadline)."""
        ctx = self.run.ctx
        if ctx.client.token is None:
            try:
                ctx.client.login(ctx.applicant.email, ctx.truth.password)
            except StepFailed as failure:
                raise StepFailed(Outcome.ERROR, f"signing in as the applicant to look: {failure}") from None
        return ctx.client
