"""The campaign report: language, order of sections, verdict, rights, SLOs, defects, charts, bands,
no external resource, partial runs, comparison with the previous run, bad input, the CLI."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from pathlib import Path

import msgspec
import pytest
import typer
from typer.testing import CliRunner

from anef_harness import report_cli
from checks.defects import DETECTORS
from checks.evaluate import GATING_DEFECTS, evaluate, write_summary
from checks.slo import load_slos
from core.errors import ConfigError
from dashboards import history
from dashboards.i18n import NBSP, language
from dashboards.report import availability_band, page_load_band, render_report, write_report
from dashboards.report_data import event_figures
from scenarios.events import Event
from scenarios.manifest import FaultChangeRecord, ManifestFile, TargetInfo, read_manifest
from tests.checks.test_gate import SLO_FILE, logins, slo_file
from tests.checks.test_store_and_rights import applicant_where, days_left, folder, journey, step

T0 = 1_795_725_926.0  # 2026-11-26T20:45:26Z
CAMPAIGN_YAML = """\
name: {name}
duration: 60
population: {{size: 400, seed: 5, reference_date: '2026-11-26'}}
faults:
  profile: anef-2024
  schedule:
    - {{at: 30, profile: none}}
"""
DOSSIER = "d0551e55" * 4
# An applicant of the test population whose filing window closes within the 30-day horizon.
AT_RISK = applicant_where(lambda i: 0 <= days_left(i) < 20)


def spread(events: list[Event], every_s: float = 1.0) -> list[Event]:
    """The events, one every ``every_s`` seconds from T0, so the latency chart has a timeline."""
    return [msgspec.structs.replace(event, time=T0 + n * every_s) for n, event in enumerate(events)]


def defects_and_rights() -> list[Event]:
    """A document lost at the prefecture, a renewal refused for an applicant who cannot refile, and
    a document that did reach the prefecture (a time to consistency)."""
    return [
        step("upload.reconcile", duration=120.0, journey_id="arrived"),
        step(
            "renewal.reconcile",
            "lost",
            applicant=1234,
            journey_id="lost-doc",
            evidence={"dossier": DOSSIER, "waiting_for": "documents " + "e" * 32},
            message="renewal.reconcile: not visible within 5 s",
        ),
        step(
            "renewal.create",
            "blocked",
            applicant=AT_RISK,
            journey_id="refused",
            evidence={"code": "request_in_progress"},
            message="refused though entitled: Une demande est déjà en cours d'instruction.",
        ),
        journey("renewal", "refused", AT_RISK, "failed", T0, "renewal.create"),
    ]


def judged(
    path: Path,
    events: list[Event],
    *,
    campaign: str = "test",
    status: str = "complete",
    started: str = "2026-11-26T20:45:21+00:00",
) -> Path:
    """A results folder as a run leaves it: events, manifest, campaign.yaml, and the gate's summary."""
    results = folder(path, events, status=status)
    manifest = ManifestFile.model_validate(
        read_manifest(results).model_dump()
        | {
            "campaign": campaign,
            "seed": 2024,
            "started": started,
            "ended": started.replace("20:45:21", "20:46:33"),
            "target": TargetInfo(url="http://127.0.0.1:8000", embedded=True),
            "fault_changes": [FaultChangeRecord(at_s=30.0, applied=datetime.fromisoformat(started), faults="none")],
        }
    )
    (results / "manifest.json").write_text(manifest.json_text())
    (results / "campaign.yaml").write_text(CAMPAIGN_YAML.format(name=campaign))
    write_summary(results, evaluate(results, load_slos(slo_file(path.parent))))
    return results


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    """A failing run: a breached SLO, a documented defect, one applicant's rights at risk."""
    return judged(tmp_path / "r", spread(logins(90, 10) + defects_and_rights()))


def text_of(html: str) -> str:
    """The page's text without tags and entities, for assertions on what a reader sees."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))  # NBSP kept: it is asserted


def test_the_report_is_written_in_french_by_default(failing: Path) -> None:
    path = write_report(failing)
    assert path == failing / "report.html"
    html = path.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    words = text_of(html)
    for french in ("Verdict", "NON CONFORME", "Droits menacés (projection)", "Taux d'échec par étape"):
        assert french in words
    for english in ("Rights at risk", "Failure rate per step", "What the applicant lives"):
        assert english not in words


def test_the_report_in_english(failing: Path) -> None:
    html = write_report(failing, lang="en").read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    words = text_of(html)
    for english in ("Verdict", "FAIL", "Rights at risk (projection)", "Failure rate per step"):
        assert english in words
    assert "Droits menacés" not in words
    assert "Taux d'échec" not in words


def test_an_unknown_language_is_a_one_line_error_naming_the_choices(failing: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        write_report(failing, lang="de")
    assert "'de'" in str(raised.value)
    assert "fr, en" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not (failing / "report.html").exists()


def test_the_verdict_and_rights_at_risk_come_first_and_the_rights_are_a_projection(failing: Path) -> None:
    summary = json.loads((failing / "summary.json").read_text())
    assert summary["rights_at_risk"]["count"] == 1  # the refused renewal of AT_RISK
    html = render_report(failing)
    assert html.index('id="verdict"') < html.index('id="rights"') < html.index('id="slos"')
    rights = html[html.index('id="rights"') : html.index('id="slos"')]
    assert '<span class="big bad">1</span>' in rights
    words = text_of(rights)
    assert "demandeurs synthétiques" in words
    assert "pas un constat sur des personnes réelles" in words
    assert str(AT_RISK) in words


def test_a_passing_run_says_pass_and_no_rights_at_risk(tmp_path: Path) -> None:
    html = render_report(judged(tmp_path / "r", spread(logins(100, 0))), lang="en")
    banner = html[html.index('id="verdict"') : html.index('id="rights"')]
    assert "PASS" in banner
    assert "FAIL" not in banner
    assert '<span class="big good">0</span>' in html


def test_a_breached_slo_is_shown_breached_before_the_met_ones(failing: Path, tmp_path: Path) -> None:
    # A second SLO, met, whose name sorts first: the breached one must still lead.
    met = SLO_FILE.replace("login-submit-availability", "a-upload-reconcile-availability")
    met = met.replace("[login.submit]", "[upload.reconcile]")
    both = tmp_path / "both.yaml"
    both.write_text(SLO_FILE + "---\n" + met)
    write_summary(failing, evaluate(failing, load_slos(both)))
    html = render_report(failing)
    rows = re.findall(r'<tr class="slo-(\w+)">(.*?)</tr>', html, flags=re.S)
    assert [(state, re.search(r"<code>([\w-]+)</code>", row)[1]) for state, row in rows] == [  # type: ignore[index]
        ("breached", "login-submit-availability"),
        ("met", "a-upload-reconcile-availability"),
    ]
    assert "manqué" in rows[0][1]
    assert f"90,00{NBSP}%" in rows[0][1]  # the SLI: 90 good logins of 100


def test_a_detected_defect_says_what_the_applicant_lives_with_its_evidence(failing: Path) -> None:
    html = render_report(failing)
    defect = html[html.index('id="defect-document_lost"') :]
    defect = defect[: defect.index("</article>")]
    words = text_of(defect)
    assert "la préfecture ne la reçoit jamais" in words  # the plain-language sentence
    assert "1234" in words  # the applicant of the evidence sample
    assert DOSSIER in words
    assert "renewal.reconcile" in words
    assert "Défaut documenté" in words
    citation = text_of(html[html.index('id="defects"') :])
    assert "Défenseure des droits" in citation
    assert "question écrite n° 4677" in citation


def test_charts_are_inline_svg_each_with_a_text_alternative(failing: Path) -> None:
    html = render_report(failing)
    svgs = re.findall(r"<svg\b[^>]*>\s*<title id=\"([\w-]+)\">([^<]+)</title>", html)
    assert {chart for chart, _ in svgs} >= {"chart-failures-title", "chart-latency-title", "chart-consistency-title"}
    assert html.count("<svg") == len(svgs)
    assert all(alt.strip() for _, alt in svgs)
    assert "<?xml" not in html
    assert "<!DOCTYPE svg" not in html


def test_the_report_loads_nothing_from_elsewhere(failing: Path) -> None:
    html = render_report(failing)
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.I)
    assert not re.search(r"<script\b[^>]*\bsrc\b", html, flags=re.I)
    assert not re.search(r"<link\b", html, flags=re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", html, flags=re.I)


def test_a_partial_run_says_its_results_are_partial(tmp_path: Path) -> None:
    results = judged(tmp_path / "p", spread(logins(20, 0)), status="interrupted")
    manifest = read_manifest(results).model_copy(update={"problem": "interrupted: the results are partial"})
    (results / "manifest.json").write_text(manifest.json_text())
    partial = text_of(render_report(results))
    assert "Résultats partiels" in partial
    assert "interrompue" in partial
    assert "interrupted: the results are partial" in partial
    complete = render_report(judged(tmp_path / "c", spread(logins(20, 0))))
    assert "Résultats partiels" not in complete


def test_numbers_follow_the_language() -> None:
    assert language("fr").pct(0.995) == f"99,5{NBSP}%"
    assert language("en").pct(0.995) == "99.5%"
    assert language("fr").num(12345.5, 1) == "12\u202f345,5"
    assert language("en").num(12345.5, 1) == "12,345.5"
    assert language("fr").objective(0.99999) == f"99,999{NBSP}%"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_detector_has_a_title_and_a_sentence_in_both_languages(lang: str) -> None:
    words = language(lang)
    for defect in DETECTORS:
        assert words.defect_lives(defect), defect
        assert words.defect_title(defect, fallback="") != defect
    assert set(DETECTORS) >= GATING_DEFECTS


@pytest.mark.parametrize(
    ("ratio", "band"), [(0.9849, "faible"), (0.985, "partiel"), (0.9899, "partiel"), (0.99, "optimal")]
)
def test_availability_bands_of_the_observatoire(ratio: float, band: str) -> None:
    assert availability_band(ratio) == band


@pytest.mark.parametrize(
    ("ms", "band"), [(800.1, "faible"), (800.0, "partiel"), (400.1, "partiel"), (400.0, "optimal")]
)
def test_page_load_bands_of_the_observatoire(ms: float, band: str) -> None:
    assert page_load_band(ms) == band


def test_page_load_comes_from_the_browser_when_it_measured_pages(tmp_path: Path) -> None:
    pages = [step("login.submit", channel="browser", evidence={"page_load_ms": f"{900.0 + n}"}) for n in range(20)]
    html = render_report(judged(tmp_path / "b", spread(pages)))
    quality = text_of(html[html.index('id="quality"') : html.index('id="faults"')])
    assert "Navigation Timing, 20 pages" in quality
    assert "faible" in quality
    assert "Observatoire de la qualité des démarches en ligne (DINUM)" in quality
    without = render_report(judged(tmp_path / "a", spread(logins(20, 0))))
    assert "aucune page chargée par un navigateur" in text_of(without)


def test_latency_buckets_leave_watches_out(tmp_path: Path) -> None:
    events = [step("login.submit", duration=10.0, time=T0 + s) for s in range(10)]
    events += [step("login.submit", duration=30.0, time=T0 + 10 + s) for s in range(10)]
    events += [step("upload.reconcile", duration=5000.0, time=T0 + s) for s in range(20)]
    found = event_figures(folder(tmp_path / "r", events))
    assert found.bucket_s == 1
    assert [b.p50_ms for b in found.timeline] == [10.0] * 10 + [30.0] * 10
    assert found.request_steps == 20
    assert found.request_p95_ms == pytest.approx(30.0)
    assert found.page_load_p95_ms is None


def test_the_fault_schedule_is_shown(failing: Path) -> None:
    faults = text_of(render_report(failing, lang="en").split('id="faults"')[1].split('id="comparison"')[0])
    assert "anef-2024" in faults
    assert "document_lost" in faults
    assert "Changes applied during the campaign" in faults


def test_comparison_with_the_previous_run_of_the_same_campaign_shows_deltas(tmp_path: Path) -> None:
    root = tmp_path / "results"
    before = judged(root / "smoke-1", spread(logins(99, 1)), campaign="smoke", started="2026-11-26T20:45:21+00:00")
    other = judged(root / "peak-1", spread(logins(50, 50)), campaign="peak", started="2026-11-26T20:50:21+00:00")
    now = judged(root / "smoke-2", spread(logins(90, 10)), campaign="smoke", started="2026-11-27T20:45:21+00:00")
    history.record(root, before)
    history.record(root, other)
    html = render_report(now)  # history: results/history.sqlite, found beside the folder
    section = html[html.index('id="comparison"') :]
    words = text_of(section)
    assert "smoke-1" in words
    assert "peak-1" not in words
    assert f"+9,00{NBSP}pt" in words  # failure rate: 1 % → 10 %
    found = re.findall(r'<th scope="row">([^<]+)</th>.*?class="n delta ?(\w*)"', section, flags=re.S)
    rows = {unescape(label): tone for label, tone in found}
    assert rows["Taux d'échec global"] == "worse"
    assert rows["SLO manqués"] == "worse"
    assert rows["Étapes tentées"] == ""
    assert 'id="chart-trend-title"' in section


def test_without_history_the_report_says_so(failing: Path) -> None:
    assert "history.sqlite absent" in text_of(render_report(failing))


def test_a_folder_without_summary_is_a_one_line_error(tmp_path: Path) -> None:
    results = folder(tmp_path / "r", logins(5, 0))
    with pytest.raises(ConfigError) as raised:
        write_report(results)
    assert str(raised.value) == f"{results}: no summary.json — run `anef-harness gate {results}` first"


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{oops", "not readable JSON"), ('{"campaign": "x"}', "verdict")],
    ids=["bad-json", "not-a-summary"],
)
def test_an_unreadable_summary_is_a_one_line_error_naming_it(failing: Path, content: str, expected: str) -> None:
    (failing / "summary.json").write_text(content)
    with pytest.raises(ConfigError) as raised:
        write_report(failing)
    assert str(raised.value).startswith(str(failing / "summary.json"))
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_missing_or_broken_optional_files_do_not_stop_the_report(failing: Path) -> None:
    (failing / "campaign.yaml").unlink()
    (failing / "manifest.json").write_text("{oops")
    html = write_report(failing).read_text(encoding="utf-8")
    assert "manifest.json" in text_of(html[html.index('id="verdict"') : html.index('id="rights"')])
    assert "NON CONFORME" in html


# --- the command line ----------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    report_cli.register(app)  # two commands: typer keeps "report" a subcommand
    return app


def test_cli_writes_the_report_and_prints_its_path(failing: Path, tmp_path: Path) -> None:
    done = CliRunner().invoke(cli(), ["report", str(failing)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(failing / "report.html")
    out = tmp_path / "elsewhere" / "r.html"
    done = CliRunner().invoke(cli(), ["report", str(failing), "--lang", "en", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert '<html lang="en">' in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["missing"], "no such results folder"),
        (["nosummary"], "no summary.json"),
        (["failing", "--lang", "de"], "--lang: expected one of fr, en"),
    ],
    ids=["missing-folder", "missing-summary", "bad-lang"],
)
def test_cli_refuses_bad_input_with_exit_2_and_one_line(
    failing: Path, tmp_path: Path, arguments: list[str], expected: str
) -> None:
    folders = {"missing": tmp_path / "nowhere", "nosummary": folder(tmp_path / "n", []), "failing": failing}
    done = CliRunner().invoke(cli(), ["report", str(folders[arguments[0]]), *arguments[1:]])
    assert done.exit_code == 2, done.output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("anef-harness: ")
    assert expected in lines[0]


def test_shifts_against_the_baseline_show_the_flagged_step_first_with_its_interval(tmp_path: Path) -> None:
    before = judged(tmp_path / "before", spread(logins(1000, 0)))
    now = judged(tmp_path / "now", spread(logins(90, 10)))
    write_summary(now, evaluate(now, load_slos(slo_file(tmp_path)), baseline=before))
    words = text_of(render_report(now, lang="en"))
    shifts = words[words.index("Shifts against the baseline") : words.index("Comparison with the previous campaign")]
    assert f"Each step against the baseline campaign {before}: 2 test(s) made, 1 shift(s) flagged." in shifts
    assert "login.submit flagged failure rate 0.00% 10.00% +10.00 pt (+5.51 pt … +17.44 pt) 5e-11 100 / 1,000" in shifts
    assert "The other tests (1) " in shifts  # the latency check: tested, nothing shifted
    french = text_of(render_report(now))
    assert "Décalages par rapport à la référence" in french
    assert "1 décalage(s) signalé(s)" in french
    alone = text_of(render_report(before, lang="en"))
    assert "No comparison: no baseline:" in alone
