"""The report's words and number formats, in French (the default: the ministry reads it) and English.

Owns the messages (``messages``), the defects' wording as the declarations give it (``defects``),
the evidence samples worded again in each language (``evidence``) and the formats of each
language (``lang``). Must not: hold a defect's wording of its own (declare
it with the defect, in ``checks.defects``), or put markup in a message (the template escapes all).
"""

from __future__ import annotations

from dashboards.i18n.defects import DEFECTS
from dashboards.i18n.evidence import WORDINGS, evidence_why
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
    "WORDINGS",
    "Lang",
    "evidence_why",
    "french_spaces",
    "language",
]
