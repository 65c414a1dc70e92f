"""``python -m checks.slo_catalogue [--check]``: write (or check) ``slos/anef.yaml``."""

from __future__ import annotations

import sys

from checks.slo_catalogue.render import main

sys.exit(main())
