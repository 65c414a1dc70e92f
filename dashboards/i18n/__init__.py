"""The report's words and number formats, in French (the default: the ministry reads it) and English.

Owns the messages (``messages``), the defects' wording as the declarations give it (``defects``)
and the formats of each language (``lang``). Must not: hold a defect's wording of its own (declare
it with the defect, in ``checks.defects``), or put markup in a message (the template escapes all).
"""

from __future__ import annotations

from dashboards.i18n.defects import DEFECTS
from dashboards.i18n.lang import LANGUAGES, MONTHS, NBSP, NNBSP, Lang, french_spaces, language
from dashboards.i18n.messages import MESSAGES, SOURCE_DDD

__all__ = [
    "DEFECTS",
    "LANGUAGES",
    "MESSAGES",
    "MONTHS",
    "NBSP",
    "NNBSP",
    "SOURCE_DDD",
    "Lang",
    "french_spaces",
    "language",
]
