"""One declaration per defect: the gating set, the scoring rules, the report's wording, the SLOs and
the drill's plans are derived from ``checks.defects``; a documented or security fault of the
catalogue without a complete declaration fails here, before it silently stops failing the gate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.detection_power import PLANS
from checks.defects import DETECTORS, SloHook, Words, catalogue_gaps, gating_defects, get_detector, missing
from checks.evaluate import GATING_DEFECTS
from checks.score import RULES
from checks.slo_catalogue import defect_slos, render, slo_names
from contracts.faults import CATALOGUE, DOCUMENTED, SECURITY
from dashboards.i18n import DEFECTS, french_spaces, language

GATING = set(DOCUMENTED) | set(SECURITY)


def test_every_documented_or_security_fault_has_a_complete_declaration() -> None:
    assert catalogue_gaps() == {}
    assert set(DETECTORS) == set(CATALOGUE)  # the generic faults are declared too


def test_the_gating_set_is_derived_from_the_declarations() -> None:
    assert gating_defects() == GATING_DEFECTS == GATING


def test_the_scoring_rules_are_the_declared_ones() -> None:
    declared_rules = {name: declared.match for name, declared in DETECTORS.items()}
    assert declared_rules == RULES
    assert all(RULES[defect].how for defect in GATING)


@pytest.mark.parametrize("code", ["fr", "en"])
def test_the_report_wording_is_the_declared_one(code: str) -> None:
    words = language(code)
    for name, declared in DETECTORS.items():
        title, lives = getattr(declared.report_title, code), getattr(declared.lives, code)
        assert DEFECTS[name] == (
            (declared.report_title.fr, declared.report_title.en),
            (declared.lives.fr, declared.lives.en),
        )
        typeset = french_spaces if code == "fr" else str
        assert words.defect_title(name, "") == typeset(title)
        assert words.defect_lives(name) == typeset(lives)


def test_the_slos_are_derived_from_the_declared_hooks() -> None:
    shipped = render()
    for defect in GATING:
        names = slo_names(DETECTORS[defect])
        assert names, defect
        for name in names:
            assert f"\n  name: {name}\n" in shipped, (defect, name)
    owned = {slo.name: slo.labels["defect"] for slo in defect_slos()}
    assert owned == {o.name: n for n, d in DETECTORS.items() if d.slo for o in d.slo.objectives}
    assert set(owned.values()) <= set(DOCUMENTED)


def test_the_drill_plans_are_the_declared_ones() -> None:
    assert set(PLANS) == set(DOCUMENTED)
    assert all(PLANS[defect] is DETECTORS[defect].drill for defect in DOCUMENTED)


def test_an_incomplete_declaration_is_caught() -> None:
    complete = get_detector("document_lost")
    assert missing(complete) == []
    broken = replace(
        complete, gating=False, lives=Words(fr=" ", en="…"), slo=SloHook(), match=replace(complete.match, how="")
    )
    assert missing(broken) == ["gating", "a match rule", "the explanation in fr", "an SLO hook"]
    assert missing(None) == ["a declaration (detector)"]
    declarations = {**DETECTORS, "document_lost": broken}
    del declarations["idor_leak"]
    gaps = catalogue_gaps(declarations)
    assert gaps["document_lost"] == ["gating", "a match rule", "the explanation in fr", "an SLO hook"]
    assert gaps["idor_leak"] == ["a declaration (detector)"]
    assert set(gaps) == {"document_lost", "idor_leak"}
    without_drill = {**DETECTORS, "reset_email_lost": replace(DETECTORS["reset_email_lost"], drill=None)}
    assert catalogue_gaps(without_drill) == {"reset_email_lost": ["a drill plan"]}
