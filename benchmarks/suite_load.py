"""The load generator's parts of ``anef-harness bench``: the harness against bare Locust
(``overhead``), one master's capacity (``master``) and a long campaign's resident memory (``memory``)."""

from __future__ import annotations

from benchmarks.suite_sizes import in_scratch_folder, sizes
from benchmarks.table import Figure, Progress


def overhead(quick: bool, progress: Progress) -> list[Figure]:
    """The harness's login journey against bare Locust: CPU per request against a canned platform
    (the figure), then both against the real platform; bare Locust against wrk."""
    from benchmarks import harness_overhead as script
    from benchmarks.overhead.measures import BenchmarkError
    from benchmarks.overhead.report import TARGET_CPU, Row, cpu_ratios, rows_of, spread

    size = sizes(quick)
    results = in_scratch_folder(
        "anef-harness-overhead-",
        lambda folder: script.measure(
            users=size.overhead_users,
            seconds=size.overhead_seconds,
            rounds=size.overhead_rounds,
            canned_rounds=2 * size.overhead_rounds,  # short pairs at once: more of them
            warmup=size.overhead_warmup,
            folder=folder,
            progress=progress,
        ),
        BenchmarkError,
        kept="runs",
    )
    rows = rows_of(results)
    canned_harness, canned_bare = rows["canned_harness"], rows["canned_bare"]
    harness, bare, locust, wrk = rows["harness"], rows["bare"], rows["locust_healthz"], rows["wrk_healthz"]
    context = f"{results.users} users, {results.seconds} s × {results.rounds} rounds"

    def limit(*sides: Row) -> str:
        return "saturated: " + " / ".join(side.saturated() for side in sides)

    canned_platform = max(row.mean(lambda m: m.window.platform_cpu) for row in (canned_harness, canned_bare))
    return [
        Figure(
            "overhead",
            f"load generator CPU per request, harness login journey, canned platform "
            f"({results.users} users, {results.seconds} s × {results.canned_rounds} rounds, both sides at once)",
            canned_harness.cpu_per_request,
            "ms",
            reference=canned_bare.cpu_per_request,
            reference_label="bare Locust FastHttpUser, same requests",
            note=f"aim ≤ {TARGET_CPU:.2f}×; per round {spread(cpu_ratios(canned_harness, canned_bare))}; "
            f"{canned_harness.rps:,.0f} / {canned_bare.rps:,.0f} req/s; the recorded answers replayed, platform "
            f"CPU ≤ {canned_platform:.0f} %; {canned_harness.failures + canned_bare.failures} failed",
        ),
        Figure(
            "overhead",
            f"harness login journey, real platform ({context})",
            harness.rps,
            "req/s",
            reference=bare.rps,
            reference_label="bare Locust FastHttpUser, same requests",
            note=f"aim ≥ 0.85; {limit(harness, bare)}; {harness.failures + bare.failures} failed",
        ),
        Figure(
            "overhead",
            "load generator CPU per request, harness, real platform",
            harness.cpu_per_request,
            "ms",
            reference=bare.cpu_per_request,
            reference_label="bare Locust",
            note="moves with the throughput the saturated platform gave each side",
        ),
        Figure(
            "overhead",
            f"bare Locust, GET /healthz ({results.users} users)",
            locust.rps,
            "req/s",
            reference=wrk.rps,
            reference_label=f"wrk, {results.users} connections",
            note=f"{limit(locust, wrk)}; {locust.failures + wrk.failures} failed",
        ),
    ]


def master(quick: bool, progress: Progress) -> list[Figure]:
    """One master's receiving side fed by N simulated workers at increasing rates: where it saturates."""
    from benchmarks import master_capacity as script
    from benchmarks.capacity.levels import saturation

    size = sizes(quick)
    capacity = in_scratch_folder(
        "anef-harness-master-",
        lambda folder: script.measure(
            workers=size.master_workers,
            totals=size.master_totals,
            seconds=size.master_seconds,
            folder=folder,
            progress=progress,
        ),
        script.CapacityError,
        kept="files",
    )
    rows = []
    for count in capacity.workers:
        best, limit = capacity.sustained(count), capacity.saturated(count)
        note = f"master CPU {best.master_cpu:.0f} %, lag p95 {best.lag_p95_s:.2f} s" if best else "no level sustained"
        note += (
            f"; saturated at {limit.offered:,.0f} offered: {saturation(limit)}, master CPU {limit.master_cpu:.0f} %"
            if limit
            else f"; not saturated up to {max(size.master_totals):,} offered"
        )
        rows.append(
            Figure(
                "master",
                f"{count} simulated workers: events/s written and acknowledged",
                best.acknowledged if best else None,
                "events/s",
                reference=best.offered if best else None,
                reference_label="offered",
                ratio_style="percent",
                note=note,
                failed=None if best else "no level sustained",
            )
        )
    return rows


def memory(quick: bool, progress: Progress) -> list[Figure]:
    """Each process of a campaign with every journey: resident memory at the end of the load beside
    the first mark's; a harness process that grew by 10 % or more fails its row (not in ``--quick``:
    a minute is warm-up, not a soak)."""
    from benchmarks import memory_flat as script
    from benchmarks.memory.samples import BOUND

    size = sizes(quick)
    measured = in_scratch_folder(
        "anef-harness-memory-",
        lambda folder: script.measure(
            minutes=size.memory_minutes,
            mark_minutes=size.memory_mark,
            interval=size.memory_interval,
            window=size.memory_window,
            folder=folder,
            population=size.memory_population,
            progress=progress,
        ),
        script.MemoryBenchmarkError,
        kept="the run",
    )
    mark, end = f"minute {size.memory_mark:g}", f"minute {size.memory_minutes:g}"
    rows = [
        Figure(
            "memory",
            f"journeys done by {end} (every journey, agents, one Locust process)",
            float(measured.journeys_by_end),
            "",
            reference=float(measured.journeys_by_mark),
            reference_label=f"by {mark}",
            note=f"a sample every {size.memory_interval:g} s, each figure the median of {size.memory_window:g} s "
            f"around its minute; run exit {measured.exit_code}",
        )
    ]
    for row in measured.rows:
        growth = "—" if row.growth is None else f"{row.growth:+.1%}"
        uss = f"USS {script.megabytes(row.uss_from)} → {script.megabytes(row.uss_end)} MB"
        verdict = "system under test, not judged" if not row.judged else f"bound < {BOUND:.0%}"
        if quick and row.failed:
            verdict += f" (not judged in --quick: {row.failed})"
        rows.append(
            Figure(
                "memory",
                f"{row.role}: RSS at {end}" + (f" ({row.processes} processes)" if row.processes > 1 else ""),
                None if row.rss_end is None else row.rss_end / 2**20,
                "MB",
                reference=None if row.rss_from is None else row.rss_from / 2**20,
                reference_label=f"at {mark}",
                note=f"growth {growth}, peak {script.megabytes(row.peak)} MB, {uss}; {verdict}",
                failed=None if quick else row.failed,
            )
        )
    return rows
