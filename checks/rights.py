"""Rights at risk: the synthetic applicants whose renewal failed and whose card would expire before
a next attempt could succeed — the figure the ministry reads first.

It is a projection from synthetic people, not a fact about real ones: had these been real
applicants, each would be at risk of losing legal residence. A renewal must be filed by the 60th
day before the card expires (CESEDA R.431-5, shared/reference-data.md); an applicant whose renewal
failed can only try again once the defect is fixed, assumed here to take ``horizon_days`` (a
release cycle, an assumption the gate lets you change). If the filing window closes before that,
the applicant cannot file on time: only an application filed on time and complete earns the
attestation de prolongation d'instruction (CESEDA R.431-15-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydantic import ValidationError

from checks.store import Results
from checks.summary import AtRiskApplicant, RightsFigures
from core.errors import ConfigError
from scenarios.campaign_file import load_scenario
from synthetic_users.population import Population
from synthetic_users.spec import PopulationSpec

FILING_CLOSES_DAYS = 60  # CESEDA R.431-5
DEFAULT_HORIZON_DAYS = 30


@dataclass(frozen=True)
class AtRisk:
    applicant: int
    failed_step: str
    outcome: str
    message: str
    card_expires: date
    days_to_expiry: int
    days_left_to_file: int

    def figures(self) -> AtRiskApplicant:
        return AtRiskApplicant(
            applicant=self.applicant,
            failed_step=self.failed_step,
            outcome=self.outcome,
            message=self.message,
            card_expires=self.card_expires,
            days_to_expiry=self.days_to_expiry,
            days_left_to_file=self.days_left_to_file,
        )


@dataclass(frozen=True)
class RightsAtRisk:
    count: int
    failed_renewals: int
    horizon_days: int
    reference_date: date
    applicants: list[AtRisk]

    def figures(self, *, limit: int = 200) -> RightsFigures:
        """What ``summary.json`` keeps: the counts and the first ``limit`` applicants."""
        return RightsFigures(
            count=self.count,
            failed_renewals=self.failed_renewals,
            horizon_days=self.horizon_days,
            reference_date=self.reference_date,
            projection="synthetic applicants: had they been real, each would be at risk of losing legal residence",
            applicants=[a.figures() for a in self.applicants[:limit]],
        )


_FAILED_RENEWALS = """
WITH failed AS (
    SELECT applicant, jid, failed_step, time FROM journeys
    WHERE journey = 'renewal' AND outcome = 'failed' AND applicant IS NOT NULL
),
renewed AS (
    SELECT applicant, max(time) AS time FROM journeys
    WHERE journey = 'renewal' AND outcome = 'ok' AND applicant IS NOT NULL GROUP BY applicant
),
last_failure AS (
    SELECT f.applicant, arg_max(f.jid, f.time) AS jid, arg_max(f.failed_step, f.time) AS failed_step
    FROM failed f LEFT JOIN renewed r ON r.applicant = f.applicant
    WHERE r.time IS NULL OR r.time < f.time
    GROUP BY f.applicant
)
SELECT l.applicant, l.failed_step, coalesce(s.outcome, 'error'), coalesce(s.message, '')
FROM last_failure l LEFT JOIN (
    SELECT jid, step, arg_max(outcome, time) AS outcome, arg_max(message, time) AS message
    FROM steps WHERE outcome <> 'ok' GROUP BY jid, step
) s ON s.jid = l.jid AND s.step = l.failed_step
ORDER BY l.applicant
"""


def rights_at_risk(
    results: Results, population_spec: PopulationSpec, *, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> RightsAtRisk:
    """The applicants whose last renewal attempt failed and who cannot file on time again."""
    population = Population(population_spec)
    today = population_spec.reference_date
    found = []
    failed = results.rows(_FAILED_RENEWALS)
    for index, failed_step, outcome, message in failed:
        if not 0 <= index < len(population):
            continue
        expires = population.applicant(int(index)).card.valid_until
        closes = expires - timedelta(days=FILING_CLOSES_DAYS)
        left = (closes - today).days
        if left < horizon_days:
            found.append(
                AtRisk(
                    applicant=int(index),
                    failed_step=str(failed_step),
                    outcome=str(outcome),
                    message=str(message)[:300],
                    card_expires=expires,
                    days_to_expiry=(expires - today).days,
                    days_left_to_file=left,
                )
            )
    found.sort(key=lambda a: (a.days_left_to_file, a.applicant))
    return RightsAtRisk(len(found), len(failed), horizon_days, today, found)


def rights_in_folder(
    results: Results, folder: Path, *, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> RightsAtRisk | None:
    """The rights at risk of a results folder, judged against its campaign's population; None when
    the folder keeps no campaign file that can be read."""
    campaign = folder / "campaign.yaml"
    if not campaign.is_file():
        return None
    try:
        spec = load_scenario(campaign)
    except (ConfigError, ValidationError):
        return None
    return rights_at_risk(results, spec.population, horizon_days=horizon_days)
