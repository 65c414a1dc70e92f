"""Every shipped campaign is valid, and says what it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from anef_harness.campaign import load_campaign, resolved_yaml

CAMPAIGNS = sorted((Path(__file__).resolve().parents[2] / "campaigns").glob("*.yaml"))


def test_the_required_campaigns_are_shipped() -> None:
    assert {p.stem for p in CAMPAIGNS} >= {"smoke", "peak", "soak", "anef-2024-drill", "demo"}


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.stem)
def test_shipped_campaign_is_valid(path: Path, tmp_path: Path) -> None:
    campaign = load_campaign(path)
    assert campaign.name == path.stem
    assert campaign.description
    resolved = tmp_path / "resolved.yaml"
    resolved.write_text(resolved_yaml(campaign), encoding="utf-8")
    assert load_campaign(resolved) == campaign


def test_the_smoke_campaign_lasts_about_a_minute() -> None:
    smoke = load_campaign(CAMPAIGNS[[p.stem for p in CAMPAIGNS].index("smoke")])
    assert 30 <= smoke.duration <= 90
    assert smoke.faults.profile == "none"
