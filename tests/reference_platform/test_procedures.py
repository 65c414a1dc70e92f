"""The procedure rules on their own: renewal window (CESEDA R.431-5) and dossier transitions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reference_platform.domain.procedures import (
    IN_PROGRESS,
    TRANSITIONS,
    DossierState,
    check_renewal_window,
    check_transition,
    renewal_window,
)
from reference_platform.errors import DomainError

EXPIRY = date(2027, 3, 31)


def test_window_runs_from_the_120th_to_the_60th_day_before_expiry() -> None:
    assert renewal_window(EXPIRY) == (EXPIRY - timedelta(days=120), EXPIRY - timedelta(days=60))


@pytest.mark.parametrize("days_before", [120, 90, 60])
def test_inside_the_window_is_accepted(days_before: int) -> None:
    check_renewal_window(EXPIRY, EXPIRY - timedelta(days=days_before))


@pytest.mark.parametrize("days_before", [121, 59, 0, -10])
def test_outside_the_window_is_refused_with_the_legal_reference(days_before: int) -> None:
    with pytest.raises(DomainError) as refusal:
        check_renewal_window(EXPIRY, EXPIRY - timedelta(days=days_before))
    assert refusal.value.code == "outside_renewal_window"
    assert "R.431-5" in refusal.value.message
    assert "du 01/12/2026 au 30/01/2027" in refusal.value.message  # the window, as the applicant reads it


def test_every_state_is_covered_and_terminal_states_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(DossierState)
    for terminal in (DossierState.REFUSED, DossierState.HANDED_OVER, DossierState.CLOSED):
        assert not TRANSITIONS[terminal]
        assert terminal not in IN_PROGRESS


def test_a_refused_transition_names_both_states_in_french() -> None:
    with pytest.raises(DomainError) as refusal:
        check_transition("submitted", DossierState.ACCEPTED)
    assert refusal.value.code == "invalid_transition"
    assert "Déposé" in refusal.value.message
    assert "Décision favorable" in refusal.value.message


def test_complements_go_back_to_review() -> None:
    check_transition("under_review", DossierState.COMPLEMENT_REQUESTED)
    check_transition("complement_requested", DossierState.UNDER_REVIEW)
