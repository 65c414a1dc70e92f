"""The objectives of every step of the shipped journeys: availability for all, latency for the
steps the user waits on (not the watches the journeys declare, not the security probes)."""

from __future__ import annotations

from checks.defects import DETECTORS
from checks.slo_catalogue.model import AVAILABILITY, LATENCY, LATENCY_MS, Slo, slug, source
from contracts.faults import CATALOGUE
from scenarios.journeys import known_steps, watch_kind

# What each step is, for the reader of the file (a step missing here gets a generic sentence).
MEANING = {
    "login.submit": "the applicant signs in",
    "login.dashboard": "the applicant's dashboard opens",
    "password_reset.request": "the applicant asks for a password-reset link",
    "password_reset.email": "the reset e-mail reaches the applicant's mailbox",
    "password_reset.confirm": "the applicant sets a new password through the link",
    "password_reset.login": "the applicant signs in with the new password",
    "renewal.choose_procedure": "the renewal procedure is offered and can be selected",
    "renewal.create": "the renewal application is created",
    "renewal.upload": "each supporting document is uploaded and acknowledged",
    "renewal.submit": "the application is submitted",
    "renewal.receipt": "the filing receipt (attestation de dépôt) is available",
    "renewal.reconcile": "the application and its documents reach the prefecture, unaltered",
    "upload.document": "a supporting document is added to a filed application",
    "upload.reconcile": "the added document reaches the prefecture, unaltered",
    "address_change.choose_procedure": "the address-change procedure is offered and can be selected",
    "address_change.create": "the address-change request is created",
    "address_change.upload": "the proof of address is uploaded and acknowledged",
    "address_change.submit": "the address change is submitted",
    "address_change.reconcile": "the address change and its proof reach the prefecture, unaltered",
    "agent_request.send": "a prefecture agent sends a request for complements (back office)",
    "agent_request.visible": "the agent's request shows on the applicant's dashboard",
    "agent_request.answer": "the applicant answers the request",
    "agent_request.reconcile": "the answer reaches the prefecture",
    "card_handover.handover": "a prefecture agent records the card as handed over (back office)",
    "card_handover.visible": "the applicant's side shows the card as handed over",
    "agent.review": "a background prefecture agent starts reviewing a filed application",
    "agent.complements": "a background agent asks the applicant for complements",
    "agent.complements_visible": "the background agent's request shows on the applicant's dashboard",
    "agent.decide": "a background agent accepts or refuses an application",
    "agent.decision_visible": "the decision shows on the applicant's dashboard",
    "agent.produce_card": "a background agent orders the new card",
    "agent.make_available": "a background agent makes the new card available for collection",
    "agent.handover": "a background agent records the card as handed over",
    "agent.handover_visible": "the applicant's side shows the card handed over by a background agent",
    "security.login": "the probing applicant signs in",
    "security.create": "the probing applicant starts a draft procedure to upload into",
    "security.idor": "another applicant's dossier answers 404, like a missing one",
    "security.upload_type": "an executable, an HTML page and a file over 10 MB are refused",
    "security.enumeration": "reset and login answers do not tell, by content or timing, whether an account exists",
    "security.enumeration_email": "each reset e-mail the enumeration probe asked for reaches the mailbox",
    "security.reset_request": "the probing applicant asks for a password-reset link",
    "security.email": "the reset e-mail reaches the probing applicant's mailbox",
    "security.reset_reuse": "the reset link sets a new password once, and is refused when used again",
}


def probes() -> frozenset[str]:
    """The security journey's probes (the steps where a declared security weakness shows) send several
    requests each (a dozen for the timing comparison, a file over 10 MB for the upload): their duration
    is no page load, so no latency objective."""
    security = [declared for name, declared in DETECTORS.items() if name in CATALOGUE and CATALOGUE[name].security]
    return frozenset(step for step in known_steps() for declared in security if step in declared.denominator)


def step_slos() -> list[Slo]:
    """An availability SLO for every step; a latency SLO for every step that is not a watch."""
    slos: list[Slo] = []
    probing = probes()
    for step, journey in known_steps().items():
        meaning = MEANING.get(step, f"step {step.split('.', 1)[1]} of the {journey.name} journey")
        labels = {"journey": journey.name, "step": step}
        total = source((step,))
        slos.append(
            Slo(
                f"{slug(step)}-availability",
                f"Availability of {step}",
                f"Share of the attempts at {step} ({meaning}) that end ok; every other outcome (error, "
                "timeout, blocked, lost, corrupt, missing) spends the error budget.",
                {**labels, "objective": "availability"},
                f"{slug(step)}-ok",
                {"good": source((step,), outcomes=["ok"]), "total": total},
                f"{AVAILABILITY:.0%} of attempts ok",
                AVAILABILITY,
            )
        )
        if watch_kind(step) is None and step not in probing:
            slos.append(
                Slo(
                    f"{slug(step)}-latency",
                    f"Latency of {step}",
                    f"Share of the attempts at {step} ({meaning}) that end ok within {LATENCY_MS} ms; "
                    "a slow success spends the error budget like a failure.",
                    {**labels, "objective": "latency"},
                    f"{slug(step)}-ok-within-{LATENCY_MS}ms",
                    {"good": source((step,), outcomes=["ok"], max_duration_ms=LATENCY_MS), "total": total},
                    f"{LATENCY:.0%} of attempts ok within {LATENCY_MS} ms",
                    LATENCY,
                )
            )
    return slos
