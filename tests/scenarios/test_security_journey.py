"""The security journey against a real platform and mailbox: every probe ok with faults off and
nothing detected; each security fault at rate 1 makes its probe's step ``corrupt``, its detector
names it, and the oracle still holds the truth (the password the reset probe set works)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from checks.defects import Findings
from contracts.faults import SECURITY
from scenarios.client import ApplicantClient
from scenarios.events import StepEvent
from scenarios.journeys import get_journey
from scenarios.journeys.timing import TIMING_ROUNDS, TIMING_SAMPLES
from scenarios.transport import HttpxTransport
from tests.scenarios.world import SETTINGS, Sink, World, all_ok, embedded_world

PROBES = {
    "idor_leak": "security.idor",
    "upload_unchecked": "security.upload_type",
    "reset_token_reusable": "security.reset_reuse",
    "user_enumeration": "security.enumeration",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from embedded_world(tmp_path_factory, "security", size=200, population_seed=7, in_renewal_window=0.5)


def probe(world: World) -> Sink:
    return world.run("security", world.eligible_for("security"))


def defects(sink: Sink) -> dict[str, int]:
    return dict(Findings().extend(e for e in sink.steps()).counts)


def applicant_of(sink: Sink) -> int:
    index = sink.journey().applicant
    assert index is not None
    return index


def signs_in_with_the_oracles_password(world: World, index: int) -> None:
    client = ApplicantClient(HttpxTransport(world.target.url))
    client.login(world.population.applicant(index).email, world.oracle.truth(index).password)


def with_fault(world: World, fault: dict[str, Any]) -> Sink:
    """Run the journey once with faults off (its draft is then another's dossier for the IDOR
    probe), then once with the fault at rate 1."""
    all_ok(probe(world))
    world.set_faults({"rate": 1.0, **fault})
    try:
        return probe(world)
    finally:
        world.set_faults()


def test_every_probe_passes_with_faults_off(clean: World) -> None:
    first, second = probe(clean), probe(clean)
    for sink in (first, second):
        all_ok(sink)
        assert defects(sink) == {}
    # The second run knows the first one's draft: another's dossier for its IDOR probe.
    names = [e.step for e in second.steps()]
    assert list(dict.fromkeys(names)) == list(get_journey("security").step_names), names
    # Every reset the enumeration probe asked for the existing account is watched in the mailbox.
    assert names.count("security.enumeration_email") == TIMING_SAMPLES
    # A round that does not separate the timings ends the probe: one round, its figures kept.
    enumerations = [e for e in second.steps() if e.step == "security.enumeration"]
    assert [sorted(k for k in e.evidence if k.startswith("timing_round")) for e in enumerations] == [["timing_round_1"]]
    for sink in (first, second):
        signs_in_with_the_oracles_password(clean, applicant_of(sink))


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"id": "idor_leak"}, id="idor_leak"),
        pytest.param({"id": "upload_unchecked", "params": {"checks": ["type"]}}, id="upload_unchecked-type"),
        pytest.param({"id": "upload_unchecked", "params": {"checks": ["size"]}}, id="upload_unchecked-size"),
        pytest.param({"id": "reset_token_reusable"}, id="reset_token_reusable"),
        pytest.param({"id": "user_enumeration", "params": {"how": "content"}}, id="user_enumeration-content"),
    ],
)
def test_each_security_fault_fails_its_probe_and_is_detected(clean: World, fault: dict[str, Any]) -> None:
    detected(clean, with_fault(clean, fault), fault["id"])


def test_the_timing_fault_is_confirmed_by_a_second_round_whose_resets_are_watched_too(clean: World) -> None:
    # 1 s rather than the default 300 ms: the machine is shared, and a loaded one blurs timings.
    sink = with_fault(clean, {"id": "user_enumeration", "params": {"how": "timing", "delay_ms": 1000}})
    failed = detected(clean, sink, "user_enumeration")
    assert failed.evidence["weakness"] == "enumeration by timing"
    rounds = [failed.evidence.get(f"timing_round_{n}") for n in range(1, TIMING_ROUNDS + 2)]
    assert all(rounds[:TIMING_ROUNDS]), failed.evidence
    assert rounds[TIMING_ROUNDS] is None, failed.evidence
    assert f"in each of {TIMING_ROUNDS} independent rounds" in failed.message, failed.message
    assert all(str(figures) in failed.message for figures in rounds[:TIMING_ROUNDS]), failed.message
    names = [e.step for e in sink.steps()]
    assert names.count("security.enumeration_email") == TIMING_ROUNDS * TIMING_SAMPLES


def detected(world: World, sink: Sink, fault_id: str) -> StepEvent:
    """The fault's probe step ``corrupt`` and every other step ok, the fault named by its detector, the
    oracle's password still the applicant's: the failed step."""
    step = PROBES[fault_id]
    assert sink.outcomes()[step] == "corrupt", [(e.step, e.outcome.value, e.message) for e in sink.steps()]
    assert sink.journey().failed_step == step
    assert {s: o for s, o in sink.outcomes().items() if s != step} == dict.fromkeys(
        [e.step for e in sink.steps() if e.step != step], "ok"
    )
    failed = next(e for e in sink.steps() if e.step == step)
    assert failed.evidence["weakness"], failed.evidence
    assert failed.evidence["applicant_id"]  # the platform's id, for scoring against the ledger
    assert defects(sink) == {fault_id: 1}
    signs_in_with_the_oracles_password(world, applicant_of(sink))
    return failed


def test_the_probes_cover_every_security_fault() -> None:
    assert set(PROBES) == set(SECURITY)
    assert set(PROBES.values()) <= set(get_journey("security").step_names)


def test_every_lost_enumeration_email_is_watched_within_one_deadline_of_its_reset(clean: World) -> None:
    """Six resets asked together, every e-mail lost: six lost watches, and the chain ends about one
    e-mail deadline after the resets (each deadline runs from its own reset), not six deadlines:
    a run that stops leaves none of them unwatched."""
    clean.set_faults({"id": "reset_email_lost", "rate": 1.0})
    try:
        sink = probe(clean)
    finally:
        clean.set_faults()
    watches = [e for e in sink.steps() if e.step == "security.enumeration_email"]
    assert [e.outcome.value for e in watches] == ["lost"] * TIMING_SAMPLES
    deadline_s = SETTINGS.email_deadline
    assert sum(e.duration_ms for e in watches) / 1000 < deadline_s + 1.0


def test_an_address_at_its_reset_limit_gets_no_timing_verdict_rather_than_a_false_enumeration(clean: World) -> None:
    # The platform limits resets per address, whether or not it has an account: an applicant whose
    # earlier resets used up the window answers 429 where the probe's fresh address answers 202.
    index = clean.eligible_for("security")
    email = clean.population.applicant(index).email
    with httpx.Client(base_url=clean.target.url) as client:
        answers: list[int] = []
        while len(answers) < 200 and 429 not in answers:
            answers.append(client.post("/api/auth/password-reset", json={"email": email}).status_code)
        assert answers[-1] == 429, answers
        assert set(answers[:-1]) == {202}, answers
    sink = clean.run("security", index)
    enumeration = next(e for e in sink.steps() if e.step == "security.enumeration")
    assert enumeration.outcome == "ok", enumeration.message
    assert enumeration.evidence["timing"].startswith("not judged"), enumeration.evidence
    assert defects(sink) == {}
