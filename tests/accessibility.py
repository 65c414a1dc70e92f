"""axe-core in a Playwright page: the accessibility checks of the report and the platform's pages.

French public services must meet the RGAA, whose criteria follow WCAG 2.1 AA; axe-core checks the
part of them a machine can check (about a third: names, labels, contrast, language, landmarks,
headings, table headers, text alternatives). The engine is the ``axe.min.js`` that
``axe-playwright-python`` ships, injected into the page: nothing is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

# WCAG 2.0, 2.1 and 2.2 levels A and AA (the RGAA's reference), plus axe's best practices
# (landmarks, one main heading…) so that their serious findings count too.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} — {', '.join(self.targets[:5])}"


def axe_violations(page: Page) -> list[Violation]:
    """Every violation axe-core finds in the page as it is now (all impacts)."""
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    found: dict[str, Any] = Axe().run(page, options=options).response
    return [
        Violation(
            rule=v["id"],
            impact=v.get("impact") or "?",
            help=v.get("help", ""),
            targets=[" ".join(str(part) for part in node["target"]) for node in v["nodes"]],
        )
        for v in found["violations"]
    ]


def blocking(page: Page) -> list[Violation]:
    """The serious and critical violations: what the tests refuse."""
    return [v for v in axe_violations(page) if v.impact in BLOCKING]


def described(where: str, violations: list[Violation]) -> str:
    """One line per violation, for an assertion's message."""
    return f"{where}: {len(violations)} serious or critical accessibility violation(s)\n" + "\n".join(
        f"  {v}" for v in violations
    )
