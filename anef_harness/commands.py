"""The CLI's sub-commands, each imported only when it runs (or when ``--help`` lists it).

A results folder is judged with the base install: importing every command up front would import
the platform, Locust and Playwright, which come with extras. Each command names the module whose
``register(app)`` adds it and the extras it needs; a command whose extras are missing is still
listed, and says in one line which extra to install (exit 2).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from anef_harness.exits import fail_usage
from anef_harness.extras import missing, named, needs

if TYPE_CHECKING:  # the types of TyperGroup's own methods: Typer carries its own copy of Click since 0.26
    from typer._click import Command, Context


@dataclass(frozen=True)
class Lazy:
    """A sub-command: the module whose ``register(app)`` adds it, and the extras it needs."""

    module: str
    extras: tuple[str, ...] = ()


def lazy_group(commands: dict[str, Lazy]) -> type[TyperGroup]:
    """A group class for ``typer.Typer(cls=…)`` that serves ``commands``, importing each when asked."""

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: Context) -> list[str]:
            return [*commands, *(name for name in super().list_commands(ctx) if name not in commands)]

        def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
            if cmd_name not in commands:
                return super().get_command(ctx, cmd_name)
            if cmd_name not in self.commands:
                self.commands[cmd_name] = _load(cmd_name, commands[cmd_name])
            return self.commands[cmd_name]

    return LazyGroup


def _load(name: str, lazy: Lazy) -> Command:
    absent = missing(lazy.extras)
    if absent:
        return _needs_extras(name, absent)
    holder = typer.Typer()
    importlib.import_module(lazy.module).register(holder)
    command = typer.main.get_group(holder).commands.get(name)
    if command is None:
        raise LookupError(f"{lazy.module}.register() adds no command named {name!r}")
    return command


def _needs_extras(name: str, extras: tuple[str, ...]) -> Command:
    message = needs(name, extras)

    def refuse(**_: Any) -> None:
        fail_usage(message)

    return TyperCommand(
        name,
        callback=refuse,
        help=f"(Not installed: needs {named(extras)}.)",  # no brackets: the help is Rich markup
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
