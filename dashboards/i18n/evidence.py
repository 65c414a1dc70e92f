"""Evidence samples in the report's language.

A detector explains each symptom in one English sentence (``why``), which the gate, JUnit and the
logs print as it is. The report words it again in its own language, from the fields the sample
keeps beside that sentence (step, ids, HTTP status, duration, the weakness a probe named): one
wording per defect, registered under the defect's id, choosing a message of ``WHY`` and filling it.
A defect without a wording shows the detector's English sentence (a test keeps the two lists equal).
"""

from __future__ import annotations

from collections.abc import Callable

from checks.summary import DefectSample
from dashboards.i18n.lang import Lang, french_spaces

# message key: (French, English). Fields: {step}, {card}, {request}, {dossier}, {documents},
# {procedure}, {status}, {duration}.
WHY: dict[str, tuple[str, str]] = {
    "title_not_marked_delivered.card": (
        "titre {card} remis par la préfecture, toujours « non remis » sur le tableau de bord du demandeur",
        "card {card} handed over at the prefecture, still not handed over on the applicant's dashboard",
    ),
    "title_not_marked_delivered.refused": (
        "renouvellement refusé : le titre précédent « n'a pas été remis », alors que la préfecture l'a remis",
        "renewal refused: previous card “not handed over”, though the prefecture handed it over",
    ),
    "phantom_pending_request": (
        "« une demande est déjà en cours d'instruction » alors qu'aucune démarche n'est en cours ({procedure})",
        "“a request is already under review” with no procedure in progress ({procedure})",
    ),
    "reset_email_lost": (
        "lien de réinitialisation annoncé, absent de la boîte de réception à l'échéance",
        "reset link announced, not in the mailbox by the deadline",
    ),
    "agent_request_hidden": (
        "la demande de compléments {request} n'apparaît jamais sur le tableau de bord du demandeur",
        "request {request} for complements never shows on the applicant's dashboard",
    ),
    "document_lost": (
        "pièce(s) dont le dépôt a été confirmé, jamais reçue(s) par la préfecture : {documents}",
        "acknowledged document(s) never received by the prefecture: {documents}",
    ),
    "procedure_not_forwarded": (
        "démarche {dossier} affichée sur le tableau de bord, inconnue de la préfecture",
        "procedure {dossier} filed on the dashboard, unknown to the prefecture",
    ),
    "procedure_not_selectable.absent": (
        "la démarche ({procedure}) est absente de la liste proposée au demandeur",
        "the procedure ({procedure}) is absent from the list the applicant can choose from",
    ),
    "procedure_not_selectable.refused": (
        "la démarche ({procedure}) est refusée comme « non disponible »",
        "the procedure ({procedure}) is refused as “not available”",
    ),
    "http_error": ("erreur du serveur (HTTP {status}) à l'étape {step}", "server error (HTTP {status}) at {step}"),
    "outage": ("service indisponible (HTTP 503) à l'étape {step}", "service unavailable (HTTP 503) at {step}"),
    "timeout": (
        "pas de réponse à temps à l'étape {step} (après {duration})",
        "no answer in time at {step} (after {duration})",
    ),
    "connection_reset": (
        "connexion coupée en pleine réponse à l'étape {step}",
        "connection cut in the middle of the answer at {step}",
    ),
    "latency": ("l'étape {step} a pris {duration}", "{step} took {duration}"),
    "session_drop": (
        "session expirée au milieu de la démarche, à l'étape {step}",
        "session expired in the middle of the journey at {step}",
    ),
    "email_delay": ("courriel reçu après {duration}", "e-mail arrived after {duration}"),
    "sync_delay": ("{step} visible de l'autre côté après {duration}", "{step} became visible after {duration}"),
    "idor_leak": (
        "dossier {dossier} d'un autre demandeur consultable",
        "another applicant's dossier {dossier} readable",
    ),
    "reset_token_reusable": (
        "un lien de réinitialisation déjà utilisé a changé le mot de passe une seconde fois",
        "a reset link already used changed the password a second time",
    ),
    "user_enumeration": (
        "la réponse révèle si un compte existe",
        "the answer tells whether an account exists",
    ),
    "user_enumeration.content": (
        "la réponse révèle par son contenu si un compte existe",
        "the answer's content tells whether an account exists",
    ),
    "user_enumeration.timing": (
        "la réponse révèle par son délai si un compte existe",
        "the answer's timing tells whether an account exists",
    ),
    "upload_unchecked": ("fichier interdit accepté comme pièce", "disallowed file accepted as a document"),
    "upload_unchecked.executable": ("exécutable accepté comme pièce", "executable accepted as a document"),
    "upload_unchecked.html": ("page HTML acceptée comme pièce", "HTML page accepted as a document"),
    "upload_unchecked.oversized": (
        "fichier de plus de 10 Mo accepté comme pièce",
        "file over 10 MB accepted as a document",
    ),
}

# The procedures a sample may name, by their identifiers (an unknown one is shown as it is).
PROCEDURES: dict[str, tuple[str, str]] = {
    "renewal": ("renouvellement", "renewal"),
    "address_change": ("changement d'adresse", "address change"),
    "duplicate": ("duplicata", "duplicate"),
}

Worded = tuple[str, dict[str, str]]  # a key of WHY and its fields
Wording = Callable[[DefectSample, Lang], Worded]
WORDINGS: dict[str, Wording] = {}


def wording(function: Wording) -> Wording:
    """Register the wording of the defect the function is named after."""
    WORDINGS[function.__name__] = function
    return function


def evidence_why(words: Lang, defect: str, sample: DefectSample) -> str:
    """The sample's ``why`` in the report's language (the English sentence for an unknown defect)."""
    found = WORDINGS.get(defect)
    if found is None:
        return sample.why
    key, fields = found(sample, words)
    text = WHY[key][0 if words.code == "fr" else 1]
    if words.code == "fr":
        text = french_spaces(text)
    return text.format(**fields)


def _named(sample: DefectSample, key: str) -> str:
    """An id the sample names: its evidence's, else the first object the detector named."""
    value = sample.evidence.get(key)
    return str(value) if value else (sample.objects[0] if sample.objects else "?")


def _step(sample: DefectSample) -> dict[str, str]:
    return {"step": sample.step or "?"}


def _took(sample: DefectSample, words: Lang) -> dict[str, str]:
    return {"step": sample.step or "?", "duration": words.seconds(sample.duration_s)}


def _variant(base: str, sample: DefectSample, prefix: str) -> str:
    """``base.kind`` when the probe's weakness ("enumeration by timing", "upload html") names a known kind."""
    kind = str(sample.evidence.get("weakness") or "").removeprefix(prefix).strip()
    return f"{base}.{kind}" if f"{base}.{kind}" in WHY else base


@wording
def title_not_marked_delivered(sample: DefectSample, words: Lang) -> Worded:
    if sample.step == "card_handover.visible":
        return "title_not_marked_delivered.card", {"card": _named(sample, "card")}
    return "title_not_marked_delivered.refused", {}


def _procedure(sample: DefectSample, words: Lang) -> dict[str, str]:
    named = _named(sample, "procedure")
    found = PROCEDURES.get(named)
    return {"procedure": found[0 if words.code == "fr" else 1] if found else named}


@wording
def phantom_pending_request(sample: DefectSample, words: Lang) -> Worded:
    return "phantom_pending_request", _procedure(sample, words)


@wording
def reset_email_lost(sample: DefectSample, words: Lang) -> Worded:
    return "reset_email_lost", {}


@wording
def agent_request_hidden(sample: DefectSample, words: Lang) -> Worded:
    return "agent_request_hidden", {"request": _named(sample, "request")}


@wording
def document_lost(sample: DefectSample, words: Lang) -> Worded:
    return "document_lost", {"documents": ", ".join(sample.objects) or "?"}


@wording
def procedure_not_forwarded(sample: DefectSample, words: Lang) -> Worded:
    return "procedure_not_forwarded", {"dossier": _named(sample, "dossier")}


@wording
def procedure_not_selectable(sample: DefectSample, words: Lang) -> Worded:
    absent = sample.step.endswith(".choose_procedure")
    key = "procedure_not_selectable.absent" if absent else "procedure_not_selectable.refused"
    return key, _procedure(sample, words)


@wording
def http_error(sample: DefectSample, words: Lang) -> Worded:
    return "http_error", {"status": str(sample.status or "5xx"), **_step(sample)}


@wording
def outage(sample: DefectSample, words: Lang) -> Worded:
    return "outage", _step(sample)


@wording
def timeout(sample: DefectSample, words: Lang) -> Worded:
    return "timeout", _took(sample, words)


@wording
def connection_reset(sample: DefectSample, words: Lang) -> Worded:
    return "connection_reset", _step(sample)


@wording
def latency(sample: DefectSample, words: Lang) -> Worded:
    return "latency", _took(sample, words)


@wording
def session_drop(sample: DefectSample, words: Lang) -> Worded:
    return "session_drop", _step(sample)


@wording
def email_delay(sample: DefectSample, words: Lang) -> Worded:
    return "email_delay", _took(sample, words)


@wording
def sync_delay(sample: DefectSample, words: Lang) -> Worded:
    return "sync_delay", _took(sample, words)


@wording
def idor_leak(sample: DefectSample, words: Lang) -> Worded:
    return "idor_leak", {"dossier": _named(sample, "dossier")}


@wording
def reset_token_reusable(sample: DefectSample, words: Lang) -> Worded:
    return "reset_token_reusable", {}


@wording
def user_enumeration(sample: DefectSample, words: Lang) -> Worded:
    return _variant("user_enumeration", sample, "enumeration by"), {}


@wording
def upload_unchecked(sample: DefectSample, words: Lang) -> Worded:
    return _variant("upload_unchecked", sample, "upload"), {}
