"""The error root. Every mistake in a user's input becomes one of these, with the file or option,
the field and what was expected; only the CLI turns them into exit codes."""

from __future__ import annotations


class HarnessError(Exception):
    """Root of the project's own errors (the platform's start-up errors included)."""


class ConfigError(HarnessError):
    """Invalid configuration (a campaign, population, profile or SLO file, an option): exit code 2."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class TargetError(HarnessError):
    """The target cannot be used (unreachable, refused, or not allowed): exit code 2 or 3."""


class UnknownName(ConfigError, KeyError):
    """A name looked up in a ``Registry`` that it does not hold; the message says "did you mean"."""

    def __init__(self, what: str, name: str, hint: str) -> None:
        super().__init__(what, f"unknown {what} {name!r}{hint}")
        self.message = f"unknown {what} {name!r}{hint}"
        self.name = name

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.message
