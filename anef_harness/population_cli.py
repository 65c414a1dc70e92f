"""``anef-harness population``: generate a population for inspection, or seed it into a platform."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from anef_harness.admin_token import read_admin_token
from anef_harness.exits import fail_usage
from core.errors import ConfigError, HarnessError
from synthetic_users.population import Population
from synthetic_users.seeding import agents_of, seed, write_jsonl
from synthetic_users.spec import PopulationSpec, build_spec, load_spec
from synthetic_users.targets import check_target

app = typer.Typer(help="Synthetic applicant populations (the oracle of every campaign).", no_args_is_help=True)

SizeOption = Annotated[str | None, typer.Option("--size", help="Number of applicants (overrides --spec).")]
SeedOption = Annotated[str | None, typer.Option("--seed", help="Integer seed (overrides --spec).")]
SpecOption = Annotated[
    Path | None, typer.Option("--spec", help="YAML population spec, or a campaign file with a population: section.")
]
DateOption = Annotated[
    str | None, typer.Option("--reference-date", help="The date card validity is drawn around (default: today).")
]


def _integer(option: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(option, f"expected an integer, got {value!r}") from None


def resolve_spec(
    size: str | None, seed_value: str | None, spec_file: Path | None, reference: str | None
) -> PopulationSpec:
    """Options win over the spec file; errors name the option or the file and the field."""
    overrides: dict[str, Any] = {}
    if size is not None:
        overrides["size"] = _integer("--size", size)
    if seed_value is not None:
        overrides["seed"] = _integer("--seed", seed_value)
    if reference is not None:
        try:
            overrides["reference_date"] = date.fromisoformat(reference)
        except ValueError:
            raise ConfigError("--reference-date", f"expected YYYY-MM-DD, got {reference!r}") from None
    if spec_file is not None:
        return load_spec(spec_file, overrides)
    for option, key in (("--size", "size"), ("--seed", "seed")):
        if key not in overrides:
            raise ConfigError(option, "required (or give --spec FILE)")
    return build_spec("options", overrides)


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=None,
        transient=False,
        disable=not sys.stderr.isatty(),
    )


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write ('-' for standard output).")],
    size: SizeOption = None,
    seed_value: SeedOption = None,
    spec_file: SpecOption = None,
    reference_date: DateOption = None,
) -> None:
    """Write the population as JSON Lines, one applicant a line (byte-identical for a spec)."""
    try:
        population = Population(resolve_spec(size, seed_value, spec_file, reference_date))
        if str(out) == "-":
            write_jsonl(population, sys.stdout)
            return
        tmp = out.with_name(out.name + ".part")
        with _progress("generating") as progress, tmp.open("w", encoding="utf-8") as handle:
            task = progress.add_task("generate", total=len(population))
            write_jsonl(population, handle, on_progress=lambda n: progress.advance(task, n))
        tmp.replace(out)
    except HarnessError as exc:
        fail_usage(exc)
    except OSError as exc:
        fail_usage(ConfigError("--out", f"cannot write {out} ({exc.strerror})"))


@app.command("seed")
def seed_command(
    target: Annotated[str, typer.Option("--target", help="Base URL of the platform (loopback unless allowed).")],
    size: SizeOption = None,
    seed_value: SeedOption = None,
    spec_file: SpecOption = None,
    reference_date: DateOption = None,
    admin_token_file: Annotated[
        Path | None, typer.Option(help="A file holding the platform's admin token (else ANEF_ADMIN_TOKEN).")
    ] = None,
    allow_remote: Annotated[bool, typer.Option(help="Allow a target that is not a loopback address.")] = False,
) -> None:
    """Put the population's initial state and the prefecture agents into the platform (idempotent)."""
    try:
        url = check_target(target, allow_remote=allow_remote)
        admin_token = read_admin_token(admin_token_file)
        if not admin_token:
            raise ConfigError("--admin-token-file", "required (or set ANEF_ADMIN_TOKEN)")
        population = Population(resolve_spec(size, seed_value, spec_file, reference_date))
        with _progress("seeding") as progress:
            task = progress.add_task("seed", total=len(population) + len(agents_of(population)))
            counts = seed(population, url, admin_token, on_progress=lambda n: progress.advance(task, n))
    except HarnessError as exc:
        fail_usage(exc)
    typer.echo(
        f"seeded {url}: {counts.applicants} applicants and {counts.agents} agents added, {counts.skipped} already there"
    )


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="population")
