"""The defects' wording in the report, derived from the defect declarations (``checks.defects``):
a defect's title and what the applicant lives stand with its detector, in both languages."""

from __future__ import annotations

from checks.defects import DETECTORS

# id: ((French title, English title), (French sentence, English sentence)): what the applicant lives.
DEFECTS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    name: ((declared.report_title.fr, declared.report_title.en), (declared.lives.fr, declared.lives.en))
    for name, declared in DETECTORS.items()
}
