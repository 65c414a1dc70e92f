"""Where a command reads the admin token from: a file or the environment, never the command line,
which every user of the machine can read (``ps``)."""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import ConfigError

ENVIRONMENT = "ANEF_ADMIN_TOKEN"
OPTION = "--admin-token-file"


def read_admin_token(file: Path | None) -> str | None:
    """The token in ``file`` (``--admin-token-file``), else ``ANEF_ADMIN_TOKEN``; None if neither."""
    if file is not None:
        try:
            token = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(OPTION, f"cannot read {file} ({exc.strerror})") from None
        if not token:
            raise ConfigError(OPTION, f"{file} is empty; expected the admin token")
        return token
    return os.environ.get(ENVIRONMENT) or None
