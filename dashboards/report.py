"""``report.html``: one self-contained page for a reader at the ministry, French by default.

It shows what ``summary.json`` judged (the verdict, rights at risk, SLOs, defects) and adds what
a reader needs around it: charts, the DINUM service-quality bands, the fault schedule, the
shifts against the baseline (as judged) and the comparison with the campaign's previous run. It
computes no verdict of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from checks.score import configured_rates
from checks.summary import DefectSample, ShiftCheckFigures, SummaryFile, read_summary
from dashboards.charts import report_charts
from dashboards.history import compare, key_figures
from dashboards.i18n import Lang, evidence_why, language
from dashboards.report_data import FAILURES, CampaignFile, EventFigures, event_figures, read_campaign, utc
from dashboards.windows import Window, run_windows
from scenarios.manifest import ManifestFile, read_manifest

TEMPLATES = Path(__file__).resolve().parent / "templates"
Band = Literal["faible", "partiel", "optimal"]


def write_report(results: Path, *, lang: str = "fr", history: Path | None = None) -> Path:
    """Writes results/report.html and returns its path. `history` is the history database (default:
    results.parent / 'history.sqlite' when it exists)."""
    return write_report_to(results / "report.html", results, lang=lang, history=history)


def write_report_to(out: Path, results: Path, *, lang: str = "fr", history: Path | None = None) -> Path:
    """The report of ``results`` written to ``out`` (replaced atomically)."""
    html = render_report(results, lang=lang, history=history)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


@dataclass(frozen=True)
class ReportInput:
    results: Path
    summary: SummaryFile
    manifest: ManifestFile
    campaign: CampaignFile
    notes: list[str]  # optional files that could not be read


def read_inputs(results: Path) -> ReportInput:
    """Everything the report reads from the folder's files (events aside)."""
    summary = read_summary(results)
    notes: list[str] = []
    manifest = read_manifest(results, notes)
    campaign = read_campaign(results, notes)
    return ReportInput(results, summary, manifest, campaign, notes)


def render_report(results: Path, *, lang: str = "fr", history: Path | None = None) -> str:
    """The report's HTML."""
    words = language(lang)  # an unknown language fails before anything is read
    inputs = read_inputs(results)
    manifest = inputs.manifest
    events = event_figures(results, origin=manifest.load_started.timestamp() if manifest.load_started else None)
    windows = _windows(inputs, events, words)
    database = history if history is not None else results.parent / "history.sqlite"
    charts = report_charts(inputs.summary, events, windows, words)
    comparison = compare(database, results, key_figures(inputs.summary, events.request_p95_ms), words)
    page = {
        "L": words,
        "i": inputs,
        "s": inputs.summary,
        "m": inputs.manifest,
        "events": events,
        "css": Markup(_css()),  # noqa: S704  (our own stylesheet, shipped beside the template)
        "partial": inputs.summary.partial or (inputs.manifest.status not in (None, "complete")),
        "slos": sorted(inputs.summary.slos, key=lambda s: ({"breached": 0, "met": 1, "nodata": 2}[s.state], s.name)),
        "charts": {name: _inline(chart.svg if chart else None) for name, chart in charts.items()},
        "bands": bands(inputs, events, words),
        "defects": _defects(inputs, words),
        "faults": _faults(inputs),
        "schedule": _schedule(inputs, words),
        "shifts": _shifts(inputs, words),
        "windows": windows,
        "comparison": comparison,
        "trend": _inline(comparison.trend.svg if comparison.trend else None),
        "version": inputs.manifest.versions.get("anef-harness") or _version(),
        "started": inputs.manifest.started or inputs.manifest.load_started,
        "ended": inputs.manifest.ended or inputs.manifest.load_ended,
        "failures": FAILURES,
    }
    return _environment().get_template("report.html.j2").render(page)


def _inline(svg: str | None) -> Markup | None:
    """Our own charts' SVG, inserted as markup (their text was escaped when they were drawn)."""
    return Markup(svg) if svg is not None else None  # noqa: S704


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def _version() -> str:
    try:
        return metadata.version("anef-harness")
    except metadata.PackageNotFoundError:
        return "?"


# --- service-quality bands (Observatoire de la qualité des démarches en ligne, DINUM) -----------------


@dataclass(frozen=True)
class BandRow:
    indicator: str
    measured: str
    band: Band | None
    label: str
    how: str


def availability_band(ratio: float) -> Band:
    return "faible" if ratio < 0.985 else "partiel" if ratio < 0.99 else "optimal"


def page_load_band(milliseconds: float) -> Band:
    return "faible" if milliseconds > 800 else "partiel" if milliseconds > 400 else "optimal"


def bands(inputs: ReportInput, events: EventFigures, words: Lang) -> list[BandRow]:
    summary = inputs.summary
    rows = []
    total = summary.attempts
    if total:
        ok = total - summary.failures
        band = availability_band(ok / total)
        how = words.t("availability_how", ok=words.num(ok), total=words.num(total))
        rows.append(BandRow(words.t("availability"), words.pct(ok / total, 2), band, words.t(f"band.{band}"), how))
    load: float | None
    if events.page_load_p95_ms is not None:
        load, how = events.page_load_p95_ms, words.t("page_load_browser", n=words.num(events.page_loads))
    else:
        load, how = events.request_p95_ms, words.t("page_load_requests", n=words.num(events.request_steps))
    if load is not None:
        band = page_load_band(load)
        rows.append(BandRow(words.t("page_load"), words.ms(load), band, words.t(f"band.{band}"), how))
    return rows


# --- defects ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRow:
    applicant: str
    dossier: str
    step: str
    finding: str  # the detector's explanation, in the report's language
    message: str  # what the harness recorded, verbatim
    time: str


@dataclass(frozen=True)
class DefectRow:
    id: str
    title: str
    documented: bool
    figures: str
    lives: str | None
    samples: list[SampleRow]


def _defects(inputs: ReportInput, words: Lang) -> list[DefectRow]:
    found = []
    # Documented defects first (they fail the verdict), then by how often they were seen.
    ordered = sorted(inputs.summary.defects.items(), key=lambda kv: (not kv[1].gating, -kv[1].count, kv[0]))
    for defect, figures in ordered:
        fallback = figures.samples[0].title if figures.samples else defect
        samples = [
            SampleRow(
                applicant=str(s.applicant) if s.applicant is not None else (s.applicant_id or "—"),
                dossier=_reference(s),
                step=s.step,
                finding=evidence_why(words, defect, s),
                message=s.message or "—",
                time=words.clock(utc(s.time)) if s.time is not None else "—",
            )
            for s in figures.samples
        ]
        text = words.t(
            "defect_figures",
            count=words.num(figures.count),
            symptoms=words.num(figures.symptoms if figures.symptoms is not None else figures.count),
            first=words.seconds(figures.first_seen_s),
        )
        lives = words.defect_lives(defect)
        found.append(DefectRow(defect, words.defect_title(defect, fallback), figures.gating, text, lives, samples))
    return found


def _reference(sample: DefectSample) -> str:
    """The dossier a sample is about, else the other object it names (document, request, card)."""
    if sample.dossier:
        return sample.dossier
    for key in ("document", "request", "card"):
        if sample.evidence.get(key):
            return f"{key} {sample.evidence[key]}"
    return ", ".join(sample.objects) or "—"


# --- faults -----------------------------------------------------------------------------------------


def _windows(inputs: ReportInput, events: EventFigures, words: Lang) -> list[Window]:
    """The fault and drill windows on the charts' time axis (0: the load's start, else the first event)."""
    if events.origin is None:
        return []
    manifest = inputs.manifest
    if manifest.load_ended is not None:
        end = manifest.load_ended.timestamp() - events.origin
    else:
        end = events.activity[-1].start_s + events.bucket_s if events.activity else 0.0
    return run_windows(inputs.campaign, manifest, origin=events.origin, end_s=end, words=words)


@dataclass(frozen=True)
class FaultRow:
    fault: str
    rate: float | None
    note: str


def _faults(inputs: ReportInput) -> list[FaultRow]:
    """The faults the campaign configured, with their effective rate (as scoring reads them)."""
    manifest = inputs.manifest
    if manifest.fault_changes is None:  # the report has read "not recorded" as "none applied"
        manifest = manifest.model_copy(update={"fault_changes": []})
    found = configured_rates(inputs.results, manifest)
    return [FaultRow(fault, c.rate, c.note or "") for fault, c in sorted(found.items())]


@dataclass(frozen=True)
class ShiftRow:
    step: str
    what: str
    before: str
    now: str
    effect: str  # with its interval
    p: str
    n: str
    flagged: bool


@dataclass(frozen=True)
class Shifts:
    sentence: str
    rows: list[ShiftRow]  # tested checks, flagged first, then the largest interval's lower end


def _shifts(inputs: ReportInput, words: Lang) -> Shifts:
    """The shift checks the gate made against its baseline, in the reader's words."""
    shift = inputs.summary.shift
    if shift is None or shift.baseline is None:
        return Shifts(words.t("shifts_none", why=shift.origin if shift is not None else ""), [])
    tested = [c for c in shift.checks if c.skipped is None]
    band = shift.bounds.get("band")
    band_name = f"p{band[0] * 100:g}-{band[1] * 100:g}" if isinstance(band, list) else "p75-90"
    bound = shift.bounds.get("min_latency_shift_ms")
    sentence = words.t(
        "shifts_intro",
        baseline=shift.baseline,
        drift=words.num(shift.drift, 2),
        tested=len(tested),
        flagged=sum(c.flagged for c in tested),
        band=band_name,
        bound=words.ms(bound if isinstance(bound, float | int) else 30.0),
    )
    order = sorted(tested, key=lambda c: (not c.flagged, -_scaled_low(c)))
    return Shifts(sentence, [_shift_row(c, words, band_name) for c in order])


def _scaled_low(check: ShiftCheckFigures) -> float:
    """The interval's lower end in ms, failure rates read as 1 point = 10 ms (an ordering only)."""
    return check.ci_low if check.what == "latency" else check.ci_low * 1000


def _shift_row(check: ShiftCheckFigures, words: Lang, band: str) -> ShiftRow:
    latency = check.what == "latency"

    def value(v: float) -> str:
        return words.ms(v) if latency else words.pct(v, 2)

    def signed(v: float) -> str:
        size = words.ms(v) if latency else words.t("points", value=words.num(v * 100, 2))
        return size if size.startswith("−") else f"+{size}"

    return ShiftRow(
        check.step,
        words.t("shift_latency", band=band) if latency else words.t("shift_failure_rate"),
        value(check.baseline),
        value(check.now),
        f"{signed(check.effect)} ({signed(check.ci_low)} … {signed(check.ci_high)})",
        f"{check.p_holm:.2g}",
        f"{words.num(check.n_now)} / {words.num(check.n_baseline)}",
        check.flagged,
    )


@dataclass(frozen=True)
class ChangeRow:
    at_s: str
    faults: str
    applied: str
    error: str


def _schedule(inputs: ReportInput, words: Lang) -> list[ChangeRow]:
    """The campaign's planned fault changes beside what the conductor applied (same order)."""
    planned = inputs.campaign.faults.schedule
    applied = inputs.manifest.fault_changes or []
    rows = []
    for number in range(max(len(planned), len(applied))):
        plan = planned[number] if number < len(planned) else None
        done = applied[number] if number < len(applied) else None
        label = done.faults if done else ""
        if not label and plan is not None:
            label = plan.profile or ", ".join(f.id for f in plan.faults or [])
        at = done.at_s if done else plan.at if plan else ""
        rows.append(
            ChangeRow(
                at_s=words.num(at, 1) if isinstance(at, float | int) else str(at),
                faults=label,
                applied=words.moment(done.applied) if done and done.applied else "—",
                error=(done.error or "") if done else "",
            )
        )
    return rows
