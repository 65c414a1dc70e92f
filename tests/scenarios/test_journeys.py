"""Each journey against a real platform: all ok with faults off; each documented defect at rate 1
shows in the step where it lives, with the outcome the oracle implies, and its detector names it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from checks.defects import Findings
from scenarios.client import StepFailed
from scenarios.events import Outcome, StepEvent
from scenarios.journeys import load_all
from scenarios.journeys.runner import JourneyStopped, Run
from tests.scenarios.world import RENEWAL_STEPS, Sink, World, all_ok


@pytest.mark.parametrize("name", ["login", "password_reset", "renewal", "address_change", "card_handover"])
def test_journey_passes_with_faults_off(clean: World, name: str) -> None:
    sink = clean.run(name, clean.eligible_for(name))
    all_ok(sink)
    assert {e.step.split(".")[0] for e in sink.steps()} == {name}


def test_renewal_steps_have_the_contract_names_and_update_the_oracle(clean: World) -> None:
    index = clean.eligible_for("renewal")
    sink = clean.run("renewal", index)
    all_ok(sink)
    names = [e.step for e in sink.steps()]
    assert names == RENEWAL_STEPS
    (dossier,) = clean.oracle.truth(index).dossiers.values()
    assert dossier.state == "submitted"
    assert dossier.at_prefecture
    assert len(dossier.documents) == 4


def test_a_reconcile_that_ends_ok_says_it_waits_for_nothing(clean: World) -> None:
    """Its first looks miss the dossier (held back across the seam for a second); the ``ok`` event
    must not keep their ``waiting_for``: the score counts its documents as watched at the prefecture."""
    clean.set_faults({"id": "sync_delay", "rate": 1.0, "params": {"delay_seconds": 1.0}})
    sink = clean.run("renewal", clean.eligible_for("renewal"))
    clean.set_faults()
    all_ok(sink)
    (reconcile,) = [e for e in sink.steps() if e.step == "renewal.reconcile"]
    assert reconcile.duration_ms >= 900  # it did look before the dossier was there
    assert "waiting_for" not in reconcile.evidence
    assert len(reconcile.evidence["documents"].split(",")) == 4


def test_a_watch_that_saw_the_effect_missing_is_lost_even_if_its_last_look_failed(clean: World) -> None:
    """A look answered without the effect, then looks that fail (502s) until the deadline: the watch
    did look, so it is ``lost`` (a defect's symptom), not ``error``; with no answer at all, ``error``."""

    def watch(probe: Callable[[], bool]) -> StepEvent:
        sink = Sink()
        run = Run("renewal", clean.context(clean.eligible_for("login")), sink, worker="test")
        with pytest.raises(JourneyStopped):
            run.watch("reconcile", probe)
        return sink.steps()[-1]

    looks: list[str] = []

    def answered_then_502() -> bool:
        looks.append("look")
        if len(looks) == 1:
            return False
        raise StepFailed(Outcome.ERROR, "GET /api/agent/dossiers/{id}: 502", status=502)

    def always_502() -> bool:
        raise StepFailed(Outcome.ERROR, "GET /api/agent/dossiers/{id}: 502", status=502)

    seen_missing = watch(answered_then_502)
    assert len(looks) > 2
    assert seen_missing.outcome.value == "lost"
    assert "the last look failed" in seen_missing.message
    assert watch(always_502).outcome.value == "error"


@pytest.mark.parametrize("name", ["upload", "agent_request"])
def test_journeys_on_a_filed_dossier_pass_with_faults_off(clean: World, name: str) -> None:
    index = clean.eligible_for("renewal")
    all_ok(clean.run("renewal", index))
    all_ok(clean.run(name, index))


def defect(world: World, fault: dict[str, Any], journey: str, index: int) -> tuple[Sink, Findings]:
    world.set_faults({"rate": 1.0, **fault})
    sink = world.run(journey, index)
    world.set_faults()
    return sink, Findings().extend(e for e in sink.steps())


def test_phantom_pending_request_blocks_renewal_create(clean: World) -> None:
    sink, found = defect(clean, {"id": "phantom_pending_request"}, "renewal", clean.eligible_for("renewal"))
    assert sink.outcomes()["renewal.create"] == "blocked"
    assert sink.journey().failed_step == "renewal.create"
    assert set(found.counts) == {"phantom_pending_request"}


def test_procedure_not_selectable_is_missing_from_the_list(clean: World) -> None:
    fault = {"id": "procedure_not_selectable", "params": {"procedure": "renewal"}}
    sink, found = defect(clean, fault, "renewal", clean.eligible_for("renewal"))
    assert sink.outcomes()["renewal.choose_procedure"] == "missing"
    assert set(found.counts) == {"procedure_not_selectable"}


def test_document_lost_is_lost_at_the_prefecture(clean: World) -> None:
    sink, found = defect(clean, {"id": "document_lost"}, "renewal", clean.eligible_for("renewal"))
    outcomes = sink.outcomes()
    assert outcomes["renewal.upload"] == "ok"  # acknowledged: the defect is silent
    assert outcomes["renewal.reconcile"] == "lost"
    assert set(found.counts) == {"document_lost"}


def test_procedure_not_forwarded_is_lost_at_the_prefecture(clean: World) -> None:
    fault = {"id": "procedure_not_forwarded", "params": {"procedures": ["address_change"]}}
    sink, found = defect(clean, fault, "address_change", clean.eligible_for("address_change"))
    assert sink.outcomes()["address_change.submit"] == "ok"
    assert sink.outcomes()["address_change.reconcile"] == "lost"
    assert set(found.counts) == {"procedure_not_forwarded"}


def test_reset_email_lost_never_arrives(clean: World) -> None:
    sink, found = defect(clean, {"id": "reset_email_lost"}, "password_reset", clean.eligible_for("password_reset"))
    assert sink.outcomes() == {"password_reset.request": "ok", "password_reset.email": "lost"}
    assert set(found.counts) == {"reset_email_lost"}


def test_agent_request_hidden_is_lost_on_the_dashboard(clean: World) -> None:
    index = clean.eligible_for("renewal")
    all_ok(clean.run("renewal", index))
    sink, found = defect(clean, {"id": "agent_request_hidden"}, "agent_request", index)
    assert sink.outcomes()["agent_request.send"] == "ok"
    assert sink.outcomes()["agent_request.visible"] == "lost"
    assert set(found.counts) == {"agent_request_hidden"}


def test_title_not_marked_delivered_then_renewal_is_blocked(clean: World) -> None:
    index = clean.pick(lambda a, t: t.card_state == "available" and clean.population.in_renewal_window(a))
    sink, found = defect(clean, {"id": "title_not_marked_delivered"}, "card_handover", index)
    assert sink.outcomes() == {
        "card_handover.login": "ok",
        "card_handover.handover": "ok",
        "card_handover.visible": "lost",
    }
    assert clean.oracle.truth(index).card_state == "handed_over"  # the agent really handed it over
    later = clean.run("renewal", index)  # the truth says renewal is allowed; the platform refuses
    assert later.outcomes()["renewal.choose_procedure"] == "blocked"
    found.extend(e for e in later.steps())
    assert found.counts == {"title_not_marked_delivered": 2}


def test_registry_has_the_journeys_of_the_design() -> None:
    assert set(load_all()) >= {
        "login",
        "password_reset",
        "renewal",
        "upload",
        "address_change",
        "agent_request",
        "card_handover",
    }


def test_a_procedure_hidden_from_the_list_shows_whichever_procedure_the_applicant_came_for(clean: World) -> None:
    fault = {"id": "procedure_not_selectable", "params": {"procedure": "renewal"}}
    sink, found = defect(clean, fault, "address_change", clean.eligible_for("address_change"))
    assert sink.outcomes()["address_change.choose_procedure"] == "missing"
    (event,) = [e for e in sink.steps() if e.step == "address_change.choose_procedure"]
    assert event.evidence["procedure"] == "renewal"
    assert set(found.counts) == {"procedure_not_selectable"}
