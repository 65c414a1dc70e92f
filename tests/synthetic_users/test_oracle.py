"""The oracle's truth drives who may do what: a renewal the run itself completed moves the card out
of the R.431-5 window, so the same applicant is not sent to renew again (the platform rightly
offers renewal as unavailable for years, which a journey would count as a blocked step)."""

from __future__ import annotations

from datetime import date

from scenarios.journeys.applicant import may_renew
from synthetic_users.oracle import Oracle
from synthetic_users.population import Population
from synthetic_users.spec import PopulationSpec, Shares


def entitled_applicant() -> tuple[Population, int]:
    spec = PopulationSpec(
        size=50,
        seed=3,
        reference_date=date(2026, 11, 26),
        shares=Shares(in_renewal_window=1.0, card_handed_over=1.0, email_bounces=0.0),
    )
    population = Population(spec)
    return population, 0


def test_a_card_renewed_during_the_run_ends_the_applicants_renewal_eligibility() -> None:
    population, index = entitled_applicant()
    oracle = Oracle(population)
    applicant = population.applicant(index)
    assert may_renew(applicant, oracle.truth(index), population)
    oracle.dossier_moved(index, "d1", "renewal", "card_produced")
    oracle.card_available(index, "c1", procedure="renewal")
    oracle.dossier_moved(index, "d1", "renewal", "handed_over")
    oracle.card_handed_over(index, "c1")
    assert oracle.truth(index).card_state == "handed_over"
    assert not may_renew(applicant, oracle.truth(index), population)
    assert oracle.snapshot()[str(index)]["card_renewed"] is True


def test_a_duplicate_card_keeps_the_old_validity_and_the_renewal_window() -> None:
    population, index = entitled_applicant()
    oracle = Oracle(population)
    oracle.dossier_moved(index, "d1", "duplicate", "handed_over")
    oracle.card_available(index, "c1", procedure="duplicate")
    oracle.card_handed_over(index, "c1")
    assert may_renew(population.applicant(index), oracle.truth(index), population)


def test_the_oracle_keeps_only_the_truths_the_run_changed() -> None:
    # every journey looks at several applicants to find one that fits: looks must not pile up
    population, index = entitled_applicant()
    oracle = Oracle(population)
    for looked_at in range(len(population)):
        assert oracle.truth(looked_at).password == population.applicant(looked_at).password
        assert oracle.truth_of(population.applicant(looked_at)).dossiers == {}
    assert oracle.changed == 0
    assert oracle.snapshot() == {}

    oracle.dossier_created(index, "d1", "renewal")
    oracle.password_changed(index, "Nouveau-2026")

    assert oracle.changed == 1
    assert oracle.truth(index).password == "Nouveau-2026"
    assert oracle.truth_of(population.applicant(index)).dossiers["d1"].state == "draft"
    assert list(oracle.snapshot()) == [str(index)]
    assert oracle.snapshot()[str(index)]["password_changed"] is True
