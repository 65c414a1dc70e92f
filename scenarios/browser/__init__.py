"""Browser journeys: the applicant's journeys through the French pages, in Chromium (Playwright).

Owns driving the pages the way an applicant does (forms, CSRF tokens and cookies handled by a
real browser), measuring page load times, and the process that runs these journeys beside the
protocol load (``python -m scenarios.browser``). Steps and outcomes are those of the API
journeys (same names, ``channel="browser"``), so one SLO covers both channels.

Must not decide what a campaign is (the conductor starts this process), nor read the platform's
fault ledger: like the API journeys, it judges only what an applicant or an agent can observe.
"""
