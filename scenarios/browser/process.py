"""The browser process the conductor starts beside the load (``python -m scenarios.browser``).

Its options are parsed and checked before anything is launched; ``--browsers`` loops
(``scenarios.browser.runner``) run in threads, each with its own Chromium, while the main thread
waits for SIGTERM or SIGINT. Exit code 0 when the loops ran to their end, 2 for bad options, 3
when the browser or the target failed; a summary line (JSON) goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import ValidationError

from core.describe import describe
from core.errors import ConfigError, TargetError
from scenarios.browser.runner import (
    CHROMIUM,
    BrowserOptions,
    BrowserStats,
    BrowserUnavailable,
    Cast,
    check_weights,
    run_browser_journeys,
)
from scenarios.events import EventLog
from scenarios.journeys.runner import AgentDesk, EventSink, JourneySettings, mailbox_reader
from synthetic_users.agents import agent_identities
from synthetic_users.oracle import Oracle
from synthetic_users.partition import LeaseTable, Partition
from synthetic_users.population import Population
from synthetic_users.spec import PopulationSpec, build_spec
from synthetic_users.targets import check_target

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scenarios.browser",
        description="Run browser journeys (Chromium, headless) against the platform's French pages.",
    )
    parser.add_argument("--target", required=True, help="the platform's base URL")
    parser.add_argument("--mailbox", help="the mailbox's HTTP API URL (needed by password_reset)")
    parser.add_argument("--population-json", help="the population spec: a JSON file, or inline JSON")
    parser.add_argument("--size", type=int, help="population size (overrides the spec)")
    parser.add_argument("--seed", type=int, help="population seed (overrides the spec)")
    parser.add_argument("--reference-date", type=date.fromisoformat, help="YYYY-MM-DD (overrides the spec)")
    parser.add_argument("--events", type=Path, required=True, help="the JSON Lines file the events go to")
    parser.add_argument("--duration", type=float, help="seconds to run (default: until SIGTERM or SIGINT)")
    parser.add_argument("--journeys", default="login=1,password_reset=1,renewal=1", help="name=weight,…")
    parser.add_argument("--partition", default="0/1", help="K/N: this process acts for applicants i with i %% N == K")
    parser.add_argument(
        "--think-time-scale", type=float, default=None, help="multiplies the personas' think times (default 1)"
    )
    parser.add_argument("--journey-settings-json", help="further journey settings as inline JSON")
    parser.add_argument("--browsers", type=int, default=1, help="Chromium instances, each running its own loop")
    parser.add_argument("--worker", help="the worker name in the events (default: browser-K)")
    parser.add_argument("--oracle", type=Path, help="where to save the oracle's truth at the end (JSON)")
    parser.add_argument("--chromium", default=CHROMIUM, help="the Chromium executable")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a page wait is a timeout")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between two journeys of a browser")
    parser.add_argument("--allow-remote", action="store_true", help="allow a target that is not loopback")
    return parser


@dataclass(frozen=True)
class ProcessConfig:
    """The browser process's options, checked and typed."""

    target: str
    spec: PopulationSpec
    partition: Partition
    weights: dict[str, float]
    settings: JourneySettings
    options: BrowserOptions
    events: Path
    oracle: Path | None
    mailbox: str | None
    duration: float | None
    browsers: int
    worker: str


def parse_config(argv: Sequence[str] | None) -> ProcessConfig:
    """Parse and check every option before anything is launched (raises ``ConfigError``)."""
    args = build_parser().parse_args(argv)
    partition = parse_partition(args.partition)
    weights = parse_weights(args.journeys)
    check_weights(weights)
    for option, value in (("--browsers", args.browsers), ("--timeout", args.timeout), ("--duration", args.duration)):
        if value is not None and value <= 0:
            raise ConfigError(option, f"expected a number > 0, got {value}")
    return ProcessConfig(
        target=check_target(args.target, allow_remote=args.allow_remote),
        spec=population_spec(args),
        partition=partition,
        weights=weights,
        settings=journey_settings(args),
        options=BrowserOptions(executable_path=args.chromium, timeout_ms=args.timeout * 1000, pause=max(0, args.pause)),
        events=args.events,
        oracle=args.oracle,
        mailbox=check_target(args.mailbox, allow_remote=args.allow_remote, option="--mailbox")
        if args.mailbox
        else None,
        duration=args.duration,
        browsers=args.browsers,
        worker=args.worker or f"browser-{partition.number}",
    )


def population_spec(args: argparse.Namespace) -> PopulationSpec:
    """The spec from ``--population-json`` (a file or inline JSON), with ``--size``, ``--seed``
    and ``--reference-date`` winning over it."""
    data: dict[str, Any] = {}
    if args.population_json:
        data = json_option("--population-json", args.population_json, file_allowed=True)
    overrides = {"size": args.size, "seed": args.seed, "reference_date": args.reference_date}
    data.update({key: value for key, value in overrides.items() if value is not None})
    if "size" not in data or "seed" not in data:
        raise ConfigError("--population-json", "the population needs at least size and seed (or --size and --seed)")
    return build_spec("--population-json", data)


def json_option(option: str, text: str, *, file_allowed: bool = False) -> dict[str, Any]:
    if file_allowed and not text.lstrip().startswith("{"):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(option, f"cannot read {text} ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(option, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(option, "expected a JSON object")
    return data


def parse_weights(text: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, weight = item.partition("=")
        try:
            weights[name.strip()] = float(weight or 1)
        except ValueError:
            raise ConfigError("--journeys", f"{item!r}: expected name=weight with a number") from None
    return weights


def parse_partition(text: str) -> Partition:
    number, _, count = text.partition("/")
    try:
        return Partition(int(number), int(count))
    except ValueError:
        raise ConfigError("--partition", f"expected K/N with 0 <= K < N, got {text!r}") from None


def journey_settings(args: argparse.Namespace) -> JourneySettings:
    extra = json_option("--journey-settings-json", args.journey_settings_json) if args.journey_settings_json else {}
    try:
        scale = {} if args.think_time_scale is None else {"think_time_scale": args.think_time_scale}
        return JourneySettings.model_validate({**extra, **scale})
    except ValidationError as exc:
        raise ConfigError("--journey-settings-json", describe(exc)) from None


def build_cast(config: ProcessConfig) -> Cast:
    population = Population(config.spec)
    spec = config.spec
    agents = agent_identities(sorted(spec.mix.prefectures), spec.agents_per_prefecture, spec.seed)
    return Cast(
        target=config.target,
        population=population,
        oracle=Oracle(population),
        leases=LeaseTable(len(population), config.partition),
        desk=AgentDesk(agents),
        mailbox=mailbox_reader(config.mailbox),
        settings=config.settings,
    )


def run_loops(config: ProcessConfig, cast: Cast, sink: EventSink, stop: threading.Event) -> BrowserStats:
    """``--browsers`` loops in threads (each with its own Playwright); the main thread waits so
    that it can still take SIGTERM and SIGINT."""
    total = BrowserStats()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def loop(number: int) -> None:
        worker = config.worker if config.browsers == 1 else f"{config.worker}.{number}"
        try:
            stats = run_browser_journeys(
                cast, config.weights, sink, stop=stop, duration=config.duration, worker=worker, options=config.options
            )
        except BaseException as exc:
            stop.set()  # the process fails: the other loops end their journey and stop too
            with lock:
                failures.append(exc)
            return
        with lock:
            total.add(stats)

    threads = [threading.Thread(target=loop, args=(n,), name=f"browser {n}") for n in range(config.browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    if failures:
        raise failures[0]
    return total


def run_process(config: ProcessConfig, stop: threading.Event) -> BrowserStats:
    """Run the loops, writing events to ``config.events``; the log is closed (fsynced) and the
    oracle saved even when the loops fail."""
    cast = build_cast(config)
    events = EventLog(config.events)
    try:
        return run_loops(config, cast, events, stop)
    finally:
        events.close()
        if config.oracle:
            cast.oracle.save(config.oracle)


def main(argv: Sequence[str] | None = None) -> int:
    """The child process: 0 when the loops ran to their end, 2 for bad options, 3 when the
    browser or the target failed. A summary line (JSON) goes to stdout."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        config = parse_config(argv)
        stats = run_process(config, stop)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    except (BrowserUnavailable, TargetError) as exc:
        log.error("%s", exc)
        return 3
    print(json.dumps({"worker": config.worker, **stats.to_json()}), flush=True)
    return 0
