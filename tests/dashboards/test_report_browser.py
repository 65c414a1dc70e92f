"""The report in a real browser (Playwright driving Debian's Chromium): no console errors, the
charts render, a run with faults off and one with defects differ where they should, and axe-core
finds no serious or critical accessibility violation (RGAA) in either language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image
from playwright.sync_api import Browser, Page, sync_playwright

from dashboards.report import write_report
from scenarios.browser.runner import BrowserOptions, launch
from tests.accessibility import blocking, described
from tests.checks.test_gate import logins
from tests.dashboards.test_report import defects_and_rights, judged, spread
from tests.dashboards.test_report_timeline import drilled_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright, BrowserOptions())
        yield chromium
        chromium.close()


def opened(browser: Browser, report: Path) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def rendered_charts(page: Page, folder: Path) -> int:
    """How many charts render as pictures: each one's screenshot is not a blank image."""
    charts = page.locator("figure svg")
    count = charts.count()
    for index in range(count):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None, f"chart {index} is not displayed"
        assert box["width"] > 100, f"chart {index} has no width"
        assert box["height"] > 50, f"chart {index} has no height"
        shot = folder / f"chart-{index}.png"
        chart.screenshot(path=str(shot))
        pixels = np.asarray(image.imread(str(shot)))
        assert pixels.std() > 0.01, f"chart {index} rendered blank"
    return count


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    clean = judged(tmp_path / "clean", spread(logins(100, 0)), campaign="smoke")
    faulty = judged(tmp_path / "faulty", spread(logins(90, 10) + defects_and_rights()), campaign="smoke")
    return write_report(clean), write_report(faulty)


def test_the_report_opens_without_errors_and_its_charts_render(browser: Browser, reports: tuple[Path, Path]) -> None:
    for report in reports:
        page, problems = opened(browser, report)
        try:
            assert rendered_charts(page, report.parent) >= 2  # failure rate per step, latency over time
            page.screenshot(path=str(report.parent / "report.png"), full_page=True)
            assert not problems, problems
        finally:
            page.close()


def test_faults_off_and_defects_differ_where_they_should(browser: Browser, reports: tuple[Path, Path]) -> None:
    clean, faulty = (opened(browser, report)[0] for report in reports)
    try:
        assert "pass" in (clean.locator("#verdict").get_attribute("class") or "")
        assert "fail" in (faulty.locator("#verdict").get_attribute("class") or "")
        assert clean.locator("#defects article.defect.documented").count() == 0
        assert faulty.locator("#defects article.defect.documented").count() >= 1
        assert clean.locator("#rights .big").inner_text().strip() == "0"
        assert faulty.locator("#rights .big").inner_text().strip() != "0"
        assert clean.locator("#slos").inner_text() != faulty.locator("#slos").inner_text()
    finally:
        clean.close()
        faulty.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_report_has_no_serious_accessibility_violation(browser: Browser, tmp_path: Path, lang: str) -> None:
    runs = {
        "clean": judged(tmp_path / "clean", spread(logins(100, 0)), campaign="smoke"),
        "faulty": judged(tmp_path / "faulty", spread(logins(90, 10) + defects_and_rights()), campaign="smoke"),
        "drilled": drilled_run(tmp_path / "drilled"),  # fault and drill windows, the activity chart
    }
    for name, results in runs.items():
        page, problems = opened(browser, write_report(results, lang=lang))
        try:
            # Folded parts (SLOs met, the charts' data) are checked open: axe skips what is hidden.
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            found = blocking(page)
            assert not found, described(f"report {name} ({lang})", found)
            assert not problems, problems
        finally:
            page.close()
