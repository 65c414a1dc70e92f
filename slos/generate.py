"""Write ``slos/anef.yaml`` (``--check``: say whether it is up to date, write nothing).

The generator is ``checks.slo_catalogue``, under mypy; this launcher keeps the command the file's
header names: ``python slos/generate.py``.
"""

import sys

from checks.slo_catalogue import main

if __name__ == "__main__":
    sys.exit(main())
