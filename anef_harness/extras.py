"""The install's optional extras, and which of them this environment lacks.

The base install judges results folders (gate, report, score, rules, dashboards); the platform, the
browser and load generation come with extras (docs/install.md). Each extra is known here by the
modules its packages bring, looked up without importing them; tests/anef_harness/test_extras.py
checks this table against pyproject.toml's optional dependencies, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.util import find_spec

DISTRIBUTION = "anef-harness"

EXTRAS: dict[str, tuple[str, ...]] = {
    "platform": (
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "psycopg",
        "email_validator",
        "argon2",
        "python_multipart",
        "aiosmtpd",
        "filetype",
    ),
    "browser": ("playwright",),
    "load": ("locust", "psutil"),
}


def missing(extras: Iterable[str]) -> tuple[str, ...]:
    """The extras among ``extras`` of which some module cannot be found (nor is already imported)."""
    return tuple(extra for extra in extras if any(find_spec(module) is None for module in EXTRAS[extra]))


def named(extras: Sequence[str]) -> str:
    """``the 'load' and 'platform' extras``."""
    names = " and ".join(f"'{extra}'" for extra in extras)
    return f"the {names} {'extras' if len(extras) > 1 else 'extra'}"


def needs(what: str, extras: Sequence[str]) -> str:
    """``run needs the 'load' extra: pip install 'anef-harness[load]'``, in one line."""
    return f"{what} needs {named(extras)}: pip install '{DISTRIBUTION}[{','.join(extras)}]'"
