"""``python -m reference_platform SETTINGS_JSON``: serve the platform from its settings as JSON.

The secrets (``admin_token``, ``secret_key``) come from ``ANEF_ADMIN_TOKEN`` and
``ANEF_SECRET_KEY``, never the command line, which other users of the machine can read. The
harness's embedded target starts the platform this way: it imports only the platform, so it is
up in a fraction of the time ``anef-harness platform serve`` takes to import the whole harness (a
restart drill measures the platform, not the harness's imports), and a restarted platform keeps
its secret key, so pages opened before the restart still post.
"""

from __future__ import annotations

import json
import os
import sys

from pydantic import ValidationError

from reference_platform.server import serve
from reference_platform.settings import Settings


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m reference_platform SETTINGS_JSON")
    data = json.loads(args[0])
    for field, variable in (("admin_token", "ANEF_ADMIN_TOKEN"), ("secret_key", "ANEF_SECRET_KEY")):
        if variable in os.environ:
            data[field] = os.environ[variable]
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        print(f"reference_platform: {field}: {error['msg']}", file=sys.stderr)
        sys.exit(2)
    serve(settings)


if __name__ == "__main__":
    main()
