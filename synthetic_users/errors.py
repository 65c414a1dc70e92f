"""The harness's error root. Every mistake in a user's input becomes one of these, with the
file or option, the field and what was expected; only the CLI turns them into exit codes."""

from __future__ import annotations


class HarnessError(Exception):
    """Root of the harness's errors."""


class ConfigError(HarnessError):
    """Invalid configuration (a campaign or population file, an option): exit code 2."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class TargetError(HarnessError):
    """The target cannot be used (unreachable, refused, or not allowed): exit code 2 or 3."""
