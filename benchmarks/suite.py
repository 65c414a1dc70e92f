"""The benchmarks of ``anef-harness bench``: each script's measure, sized to fit one run, as table rows.

Every part calls one script's ``measure`` function and turns its typed figures into
``benchmarks.table.Figure`` rows, each beside a reference measured in the same run (the trivial
endpoint of the same server, the naive way, bare Locust, wrk, the fault ledger, a plain-Python
pass). ``benchmarks.suite_sizes.DEFAULT`` sizes the whole suite to end within 15 minutes on a 2-core machine; ``QUICK``
is for a look and for the tests. The scripts themselves keep their full-length defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmarks.suite_load import master, memory, overhead
from benchmarks.suite_sizes import sizes
from benchmarks.table import Figure, Part, Progress

if TYPE_CHECKING:
    from benchmarks.platform_steps import StepFigures


# --- the parts ---------------------------------------------------------------------------------


def platform(quick: bool, progress: Progress) -> list[Figure]:
    """wrk against the main journey steps, each beside /healthz of the same server."""
    from benchmarks import platform_steps

    size = sizes(quick)
    measured = platform_steps.measure(
        seconds=size.platform_seconds,
        applicants=size.platform_applicants,
        submit_room=size.platform_submit_room,
        connections=size.platform_connections,
        progress=progress,
    )
    trivial = measured.trivial_steps
    first = trivial[0]
    rows = [
        Figure(
            "platform",
            f"GET /healthz (trivial), {measured.database}",
            measured.trivial_rps,
            "req/s",
            note=f"mean of its {len(trivial)} rows, one before and after each step ({min(t.rps for t in trivial):,.0f}"
            f" to {max(t.rps for t in trivial):,.0f}); each step's share is against its two; {measured.connections} "
            f"connections, {measured.seconds:g} s per row; {_latency(first)}",
        )
    ]
    for step in measured.journey_steps:
        rows.append(
            Figure(
                "platform",
                step.name,
                step.rps,
                "req/s",
                reference=step.reference_rps,
                reference_label="/healthz",
                ratio_style="percent",
                note="; ".join(
                    [_latency(step) + _cpu_share(step, *trivial)]
                    + [w for w in measured.warnings if w.startswith(step.name)]
                ),
            )
        )
    return rows


def _cpu_share(step: StepFigures, *trivial: StepFigures) -> str:
    """The trivial endpoint's CPU time per request (mean of its rows) over the step's: the share
    the step's own cost allows, background work included."""
    costs = [t.cpu_ms for t in trivial if t.cpu_ms]
    if not costs or not step.cpu_ms:
        return ""
    return f" ({sum(costs) / len(costs) / step.cpu_ms:.0%} of /healthz's)"


def population(quick: bool, progress: Progress) -> list[Figure]:
    """Generation against a Faker per applicant; seeding into an embedded platform."""
    from benchmarks import population as script

    size = sizes(quick)
    measured = script.measure(
        size=size.population_seed, generate=size.population_generate, naive=size.population_naive, progress=progress
    )
    return [
        Figure(
            "population",
            f"generation, one core ({measured.generated:,} applicants)",
            measured.generated_per_s,
            "applicants/s",
            reference=measured.naive_per_s,
            reference_label=f"a Faker per applicant, {measured.naive_generated:,}",
            note="aim ≥ 10×",
        ),
        Figure(
            "population",
            f"seed {measured.seeded_applicants:,} applicants + {measured.seeded_agents} agents (SQLite)",
            measured.seed_seconds,
            "s",
            note=f"{measured.seeded_per_s:,.0f} applicants/s; aim: 100,000 in < 60 s",
        ),
    ]


def detection(quick: bool, progress: Progress) -> list[Figure]:
    """Each documented defect alone at one rate: firings detected against the ledger."""
    from benchmarks import detection_power as script
    from contracts.faults import DOCUMENTED

    size = sizes(quick)
    # longest first: two at a time, the long campaign runs beside several short ones
    defects = sorted(size.detection_defects or DOCUMENTED, key=lambda defect: -script.PLANS[defect].seconds)
    measured = script.measure(
        defects,
        [size.detection_rate],
        scale=size.detection_scale,
        parallel=size.detection_parallel,
        together=False,
        population=size.detection_population,
        progress=progress,
    )
    rows: list[Figure] = []
    false_total = incidents_total = 0
    order = {defect: number for number, defect in enumerate(DOCUMENTED)}
    for row in sorted(measured.rows, key=lambda row: order.get(row.score.defect, len(order))):
        false_total += row.score.false_detections
        incidents_total += row.score.detected
        if not row.injected_here:
            continue
        result = row.score
        others = sum(
            other.score.false_detections
            for other in measured.rows
            if other.campaign == row.campaign and not other.injected_here
        )
        first = result.time_to_first_detection_s
        notes = [
            f"false {result.false_detections}, by other detectors {others}",
            f"first after {first:.1f} s" if first is not None else "never detected",
        ]
        if result.confused_with:
            notes.append("confused with " + ", ".join(f"{k} ×{v}" for k, v in result.confused_with.items()))
        rows.append(
            Figure(
                "detection",
                f"{result.defect} @ {row.rate:g}, {row.seconds:g} s: detected",
                float(result.matched),
                "",
                reference=float(result.injected),
                reference_label="injected, ledger",
                ratio_style="percent",
                note="; ".join(notes),
            )
        )
    # What users run: the seven together among generic noise, every journey, security probes, agents.
    realistic = script.measure(
        list(DOCUMENTED),
        [size.detection_rate],
        scale=size.detection_realistic_scale,
        parallel=1,
        population=size.detection_population,
        progress=progress,
        realistic=True,
        alone=False,
    )
    observable = sum(row.score.observable for row in realistic.rows if row.injected_here)
    caught = sum(row.score.matched for row in realistic.rows if row.injected_here)
    unobservable = sum(sum(row.score.unobservable.values()) for row in realistic.rows if row.injected_here)
    unwatched = sum(row.score.unwatched for row in realistic.rows if row.injected_here)
    false_realistic = sum(row.score.false_detections for row in realistic.rows)
    rows.append(
        Figure(
            "detection",
            f"seven defects @ {size.detection_rate:g} + noise, all journeys and agents, "
            f"{realistic.load_seconds:g} s: detected",
            float(caught),
            "",
            reference=float(observable),
            reference_label="observable firings",
            ratio_style="percent",
            note=f"unobservable {unobservable}, unwatched {unwatched}, false {false_realistic}",
        )
    )
    rows.append(
        Figure(
            "detection",
            f"false detections, {measured.campaigns} campaigns",
            float(false_total),
            "",
            reference=float(incidents_total),
            reference_label="incidents reported",
            ratio_style="percent",
            note=f"{measured.load_seconds / 60:.1f} min of load, {size.detection_parallel} campaigns at a time",
        )
    )
    return rows


def processing(quick: bool, progress: Progress) -> list[Figure]:
    """Judging N step events (DuckDB) against a plain-Python pass over fewer; peak memory."""
    from benchmarks import processing as script

    size = sizes(quick)
    progress(f"  generating {size.processing_events:,} events, then judging them in a child process…")
    measured = script.run(size.processing_events, baseline_events=size.processing_baseline)
    progress(f"  judged in {measured.judge_s:.1f} s; baseline {measured.baseline_s:.1f} s")
    return [
        Figure(
            "processing",
            f"judge {measured.events:,} events ({measured.slos} SLOs, detectors, gate)",
            measured.events_per_s,
            "events/s",
            reference=measured.baseline_events_per_s,
            reference_label=f"json.loads + counts + p95, {measured.baseline_events:,} events",
            note=f"{measured.judge_s:.1f} s (aim: 10 M in ≤ {script.AIM_S} s); "
            f"generated in {measured.generate_s:.0f} s",
        ),
        Figure(
            "processing",
            "peak memory of the judging process",
            measured.peak_mb,
            "MB",
            reference=measured.json_bytes / 1e6,
            reference_label="of JSON Lines judged",
            note=f"aim ≤ {script.AIM_MB} MB for 10 M events",
        ),
    ]


def _latency(step: StepFigures) -> str:
    errors = f", {step.errors} errors" if step.errors else ""
    cpu = f", CPU {step.cpu_ms:.2f} ms/req" if step.cpu_ms is not None else ""
    return f"p50 {step.p50_ms:.1f} ms, p95 {step.p95_ms:.1f} ms{errors}{cpu}"


PARTS: dict[str, Part] = {
    "platform": platform,
    "population": population,
    "overhead": overhead,
    "detection": detection,
    "processing": processing,
    "master": master,
    "memory": memory,
}
