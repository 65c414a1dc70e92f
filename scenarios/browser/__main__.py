"""``python -m scenarios.browser``: the browser process the conductor starts beside the load."""

from __future__ import annotations

from scenarios.browser.process import main

raise SystemExit(main())
