"""The four security weaknesses, each declared once: what the security journey's probes find.

A probe asks for what the platform must refuse; its step ends corrupt when the platform does not
(scenarios/journeys/security.py). Each attempt is a new draw of the fault: grouping by attempt.
A weakness found fails the gate like a documented defect; its SLO hook is the probe step's
availability objective.
"""

from __future__ import annotations

from checks.defects.declaration import SloHook, Steps, Words, defect
from checks.defects.detection import DetectorSettings, Symptom, text
from checks.defects.reading import objects, probe_failed, weakness
from checks.defects.rule import Rule
from scenarios.events import StepEvent

BURST_S = 10.0  # a probe's repeated samples (a few seconds) on one identifier are one firing


def probe(step: str) -> SloHook:
    """The probe's step availability SLO counts the weakness (the step ends corrupt)."""
    return SloHook(counted_by=Steps((step,)))


@defect(
    title="Another applicant's dossier readable (IDOR)",
    denominator=Steps(("security.idor",)),
    description="The security probe asks, as one applicant, for a dossier of another applicant (an id the "
    "harness knows from its oracle): the answer is the dossier instead of the 404 of a missing one "
    "(security.idor corrupt).",
    gating=True,
    match=Rule(
        "by dossier id (the ledger's object: the dossier read), the reader's platform applicant id and time: "
        "the firing happened during the security.idor attempt",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    report_title=Words(fr="Dossier d'un autre demandeur consultable", en="Another applicant's dossier readable"),
    lives=Words(
        fr="En demandant le dossier d'une autre personne, un demandeur le lit, avec ses pièces justificatives : "
        "état civil, titre de séjour, justificatifs de ressources et de domicile d'un tiers sont exposés.",
        en="By asking for another person's dossier, an applicant reads it, with its supporting documents: a third "
        "party's identity, residence card, proofs of income and address are exposed.",
    ),
    slo=probe("security.idor"),
)
def idor_leak(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if probe_failed(event, "security.idor"):
        dossier = text(event.evidence.get("dossier"))
        why = f"another applicant's dossier {dossier or '?'} readable: {event.message[:160]}"
        return Symptom(why, objects(dossier))
    return None


@defect(
    title="Reset link accepted a second time",
    denominator=Steps(("security.reset_reuse",)),
    description="The security probe uses the reset link read from the mailbox, then uses it again: the second "
    "use sets the password again instead of being refused (security.reset_reuse corrupt).",
    gating=True,
    match=Rule(
        "by platform applicant id (the account whose link was used again) and time: the firing happened "
        "during the security.reset_reuse attempt",
        applicant="person",
        window="attempt",
    ),
    report_title=Words(fr="Lien de réinitialisation réutilisable", en="Reset link usable again"),
    lives=Words(
        fr="Un lien de réinitialisation déjà utilisé change encore le mot de passe : quiconque retrouve le courriel "
        "(boîte partagée, transfert, historique) peut prendre le contrôle du compte.",
        en="A reset link already used changes the password again: anyone who finds the e-mail (a shared mailbox, "
        "a forward, a history) can take over the account.",
    ),
    slo=probe("security.reset_reuse"),
)
def reset_token_reusable(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if probe_failed(event, "security.reset_reuse"):
        return Symptom(f"a used reset link worked again: {event.message[:160]}")
    return None


@defect(
    title="Reset or login answer tells whether an account exists",
    denominator=Steps(("security.enumeration",)),
    description="The security probe compares the reset and login answers for the applicant's address and "
    "for an address with no account (in the same reserved example domain): their content differs, or "
    "their timings separate (an exact Mann-Whitney test and a Hodges-Lehmann shift of at least 100 ms over "
    "a few interleaved samples, in two independent rounds) (security.enumeration corrupt).",
    gating=True,
    match=Rule(
        "by identifier (the ledger's object: the address asked about, with or without an account) and time: "
        f"the firing happened during the security.enumeration attempt; firings on one identifier less than "
        f"{BURST_S:g} s apart are one (the probe's repeated samples)",
        objects=True,
        window="attempt",
        burst_s=BURST_S,
    ),
    report_title=Words(fr="La réponse révèle si un compte existe", en="The answer tells whether an account exists"),
    lives=Words(
        fr="La réponse à une demande de réinitialisation ou de connexion, par son texte ou par son délai, indique si "
        "une adresse a un compte : on peut savoir qui est un étranger en démarche auprès de l'ANEF.",
        en="The answer to a reset or login request, by its text or by how long it takes, tells whether an address "
        "has an account: anyone can learn who is a foreign national with a procedure at ANEF.",
    ),
    slo=probe("security.enumeration"),
)
def user_enumeration(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if probe_failed(event, "security.enumeration"):
        ids = event.evidence
        asked = tuple(str(ids[key]).lower() for key in ("existing", "unknown") if ids.get(key))
        return Symptom(f"{weakness(event) or 'enumeration'}: {event.message[:160]}", asked)
    return None


@defect(
    title="File of a disallowed type or size accepted",
    denominator=Steps(("security.upload_type",)),
    description="The security probe uploads an executable and an HTML page (named and declared as a PDF "
    "and a JPEG) and a PDF over 10 MB: one of them is acknowledged instead of refused with 415 or 413 "
    "(security.upload_type corrupt).",
    gating=True,
    match=Rule(
        "by dossier id (the ledger's object: the dossier uploaded to), platform applicant id and time: the "
        "firing happened during the security.upload_type attempt",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    report_title=Words(
        fr="Fichier de type ou de taille interdits accepté", en="File of a disallowed type or size accepted"
    ),
    lives=Words(
        fr="Un exécutable, une page HTML ou un fichier de plus de 10 Mo est accepté comme pièce justificative : il "
        "parvient aux agents de préfecture qui l'ouvrent, ou encombre le stockage.",
        en="An executable, an HTML page or a file over 10 MB is accepted as a supporting document: it reaches the "
        "prefecture's agents who open it, or clogs the storage.",
    ),
    slo=probe("security.upload_type"),
)
def upload_unchecked(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if probe_failed(event, "security.upload_type"):
        dossier = text(event.evidence.get("dossier"))
        return Symptom(f"{weakness(event) or 'upload'} accepted: {event.message[:160]}", objects(dossier))
    return None
