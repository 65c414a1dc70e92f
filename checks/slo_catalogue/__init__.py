"""The SLO catalogue: ``slos/anef.yaml`` (OpenSLO v1) generated from the steps of the shipped journeys
and the defects' declared SLO hooks, so that a new step or defect cannot be forgotten.

Owns the generation (``model``, ``steps``, ``defects``, ``openslo``, ``render``); the YAML stays in
``slos/``. Regenerate with ``python slos/generate.py`` (or ``python -m checks.slo_catalogue``);
``--check`` says whether the shipped file is up to date, and a test fails while it is not.
Must not: read SLO files back (``checks.slo`` does) or judge a campaign.
"""

from __future__ import annotations

from checks.slo_catalogue.defects import defect_slos, slo_names
from checks.slo_catalogue.model import Slo
from checks.slo_catalogue.render import TARGET, main, render
from checks.slo_catalogue.steps import step_slos

__all__ = ["TARGET", "Slo", "defect_slos", "main", "render", "slo_names", "step_slos"]
