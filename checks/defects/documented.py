"""The seven documented ANEF defects (Défenseure des droits, report of December 2024; Assemblée
nationale, written question no. 4677), each declared once: detector, gate, ledger rule, wording, SLO.

Each is recognised from what applicants and agents see: a watch that ends lost, or a refusal the
applicant's true situation does not justify.
"""

from __future__ import annotations

from checks.defects.declaration import DrillPlan, Objective, SloHook, Steps, Words, defect
from checks.defects.detection import DetectorSettings, Symptom, text
from checks.defects.reading import objects, procedure, refused, waited_documents, waiting_for
from checks.defects.rule import Rule
from scenarios.events import StepEvent
from scenarios.journeys import watch_kind

# The watches that carry documents, and those that carry procedures, to the prefecture.
DOCUMENT_STEPS = ("renewal.reconcile", "upload.reconcile", "address_change.reconcile")
PROCEDURE_STEPS = ("renewal.reconcile", "address_change.reconcile")
# Handovers and requests for complements are made by journeys acting as the agent and by the
# background agents; each is watched on the applicant's side.
HANDOVER_STEPS = ("card_handover.handover", "agent.handover")
HANDOVER_WATCHES = ("card_handover.visible", "agent.handover_visible")
REQUEST_WATCHES = ("agent_request.visible", "agent.complements_visible")
# Every reset the harness asks for is watched in the mailbox: the applicant's, and the security probes'.
MAIL_WATCHES = ("password_reset.email", "security.email", "security.enumeration_email")


def watched(
    steps: tuple[str, ...],
    display_name: str,
    description: str,
    what: str,
    comment: str,
    *,
    place: int,
    name: str,
    sli: str,
) -> SloHook:
    """An objective on watch steps: the same indicator as their availability, held to 99.9 % (our
    assumption), because each lost watch there is a documented defect."""
    target = f"99.9% of {what} visible"
    own = Objective(name, display_name, description, sli, steps, target, 0.999, comment, place)
    return SloHook((own,))


def lost_at(event: StepEvent, steps: tuple[str, ...], key: str) -> str | None:
    """The id a watch of one of ``steps`` names when it ended lost ("" when it names none); None otherwise."""
    if event.outcome != "lost" or event.step not in steps:
        return None
    return text(event.evidence.get(key)) or ""


# Eligible events per second measured on two cores (two campaigns at once), for the drill's plans:
# card handovers 9, create attempts 12, reset e-mails 11, agent requests 1.5, watched documents 15,
# watched filings 8, procedure listings and creations 19.


@defect(
    title="Card handed over at the prefecture, never marked handed over for the applicant",
    denominator=Steps(HANDOVER_STEPS),
    # The handover's watch, or a later renewal refused for the card (the rule's alternative), or a new
    # procedure refused because the card's dossier is still open on the applicant's side.
    watched_by=Steps((*HANDOVER_WATCHES, "*.choose_procedure", "*.create")),
    grouping="applicant",
    description="card_handover.visible or agent.handover_visible is lost (the front office never learns the "
    "handover), or a later renewal is refused because the previous card 'was not handed over' though the "
    "harness handed it over, or a new procedure is refused as 'a request is already under review' while that "
    "card's dossier is still open on the applicant's side.",
    gating=True,
    match=Rule(
        "by card id (the handover watch names the card the ledger names); a renewal refused later has no "
        "card id: by platform applicant id, firing before the refusal",
        objects=True,
        unique_objects=True,
        otherwise=Rule("", applicant="required", window="before"),
    ),
    report_title=Words(
        fr="Titre remis en préfecture, jamais marqué comme remis pour le demandeur",
        en="Card handed over, never marked handed over for the applicant",
    ),
    lives=Words(
        fr="La préfecture a remis la carte, mais l'espace du demandeur ne l'apprend jamais ; au renouvellement "
        "suivant, la demande est refusée parce que le titre précédent « n'a pas été remis ».",
        en="The prefecture handed the card over, but the applicant's account never learns it; at the next renewal "
        "the application is refused because the previous card was “not handed over”.",
    ),
    slo=watched(
        HANDOVER_WATCHES,
        "Card handover reaches the applicant's side",
        "Share of card handovers recorded by the prefecture that the front office learns in time.",
        "handovers",
        "Defect 1: the card is handed over, the front office never learns it, and the next renewal is\n"
        'refused ("previous card not handed over"). Same indicator as card-handover-visible-availability,\n'
        "held to 99.9 % (our assumption).",
        place=4,
        name="card-handover-visible",
        sli="card-handovers-visible-ok",
    ),
    drill=DrillPlan({"card_handover": 4, "renewal": 1, "login": 1}, 150),
)
def title_not_marked_delivered(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    card = lost_at(event, HANDOVER_WATCHES, "card")
    if card is not None:
        return Symptom(
            f"card {card or '?'} handed over at the prefecture, still not handed over on the applicant's dashboard",
            objects(card),
        )
    if refused(event, "card_not_handed_over", "n'a pas été remis"):
        return Symptom("renewal refused: previous card 'not handed over', though the prefecture handed it over")
    unseen = text(event.evidence.get("handover_unseen"))
    if unseen and refused(event, "request_in_progress", "déjà en cours"):
        # The handed-over card's dossier is still open on the applicant's side: the same firing.
        return Symptom(
            f"new procedure refused: 'a request is already under review', the dossier of card {unseen} "
            "handed over at the prefecture still open on the applicant's side",
            objects(unseen),
        )
    return None


@defect(
    title="New procedure refused: 'a request is already under review', though none is",
    denominator=Steps(("*.create",)),
    watched_by=Steps(("*.create", "*.choose_procedure")),
    description="Creating a procedure is refused with request_in_progress (or the procedure is offered as "
    "unavailable for that reason) while the oracle knows no procedure of the applicant is open.",
    gating=True,
    match=Rule(
        "by procedure (the ledger's object), platform applicant id and time: the firing happened during the "
        "refused create attempt",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    report_title=Words(
        fr="Nouvelle démarche refusée : « une demande est déjà en cours »",
        en="New procedure refused: “a request is already under review”",
    ),
    lives=Words(
        fr="Le demandeur ne peut déposer aucune nouvelle démarche, pas même son renouvellement : le site répond "
        "qu'une demande est déjà en cours d'instruction, alors qu'il n'y en a aucune.",
        en="The applicant cannot file any new procedure, not even a renewal: the site answers that a request is "
        "already under review, though none is.",
    ),
    # A wrong refusal shows as a blocked create: those steps' availability SLOs count it.
    slo=SloHook(counted_by=Steps(("*.create",))),
    drill=DrillPlan({"renewal": 2, "address_change": 2, "login": 1}, 120),
)
def phantom_pending_request(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    # A card handed over and never seen so on the applicant's side keeps its dossier open there:
    # the refusal is that defect's consequence (title_not_marked_delivered), not a phantom request.
    if refused(event, "request_in_progress", "déjà en cours") and not event.evidence.get("handover_unseen"):
        return Symptom("'a request is already under review' with no procedure in progress", (procedure(event),))
    return None


@defect(
    title="Reset link announced as sent, never received",
    denominator=Steps(MAIL_WATCHES),
    description="After 'a message has been sent to your address', no reset link reaches the mailbox by the "
    "e-mail deadline (a mail watch lost: password_reset.email, security.email, security.enumeration_email).",
    gating=True,
    match=Rule(
        "by time (and platform applicant id when known: the reset journey is not logged in, so usually by "
        "time only): the firing happened during the journey, before its e-mail watch ended",
        applicant="person",
        window="journey",
    ),
    report_title=Words(
        fr="Lien de réinitialisation annoncé, jamais reçu", en="Reset link announced as sent, never received"
    ),
    lives=Words(
        fr="Le site affiche « un message a été envoyé à votre adresse », mais le lien pour changer de mot de passe "
        "n'arrive jamais (ou trop tard) : le demandeur ne peut plus accéder à son compte.",
        en="The site says “a message has been sent to your address”, but the link to change the password never "
        "arrives (or arrives too late): the applicant is locked out of their account.",
    ),
    slo=SloHook(
        (
            Objective(
                "reset-email-within-5-minutes",
                "Password-reset e-mail within 5 minutes",
                "Share of password resets whose e-mail reaches the applicant's mailbox within 5 minutes.",
                "password-reset-email-within-5-minutes",
                MAIL_WATCHES,
                "99% of reset e-mails within 5 minutes",
                0.99,
                "Defect 3, a lost password that cannot be changed: the reset link never arrives. The 5-minute\n"
                "deadline is our assumption (no published figure); 99 % mirrors the availability boundary above.",
                place=0,
                within_ms=300_000,
            ),
        )
    ),
    drill=DrillPlan({"password_reset": 4, "login": 1}, 130),
)
def reset_email_lost(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and watch_kind(event.step) == "mail":
        return Symptom("reset link announced, not in the mailbox by the deadline")
    return None


@defect(
    title="Prefecture's request for complements never shown to the applicant",
    denominator=Steps(REQUEST_WATCHES),
    grouping="object",
    description="The agent's request exists at the prefecture; the applicant's dashboard does not show it by "
    "the deadline (agent_request.visible or agent.complements_visible lost).",
    gating=True,
    match=Rule("by request id", objects=True, unique_objects=True),
    report_title=Words(
        fr="Demande de compléments jamais affichée au demandeur",
        en="Request for complements never shown to the applicant",
    ),
    lives=Words(
        fr="L'agent de préfecture demande des pièces complémentaires, mais la demande n'apparaît jamais sur le "
        "tableau de bord du demandeur, qui ne peut pas y répondre : le dossier reste bloqué.",
        en="The prefecture's agent asks for further documents, but the request never appears on the applicant's "
        "dashboard, so they cannot answer it and the application stalls.",
    ),
    slo=watched(
        REQUEST_WATCHES,
        "Agents' requests reach the applicant",
        "Share of prefecture requests for complements that show on the applicant's dashboard in time.",
        "requests",
        "Defect 4: requests sent by the instructing agent cannot be consulted by the applicant.\n"
        "Same indicator as agent-request-visible-availability, held to 99.9 % (our assumption):\n"
        "a request the applicant never sees makes them miss its deadline.",
        place=3,
        name="agent-requests-visible",
        sli="agent-requests-visible-ok",
    ),
    drill=DrillPlan({"address_change": 2, "agent_request": 3, "login": 1}, 600),
)
def agent_request_hidden(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    request = lost_at(event, REQUEST_WATCHES, "request")
    if request is not None:
        return Symptom(
            f"request {request or '?'} for complements never shows on the applicant's dashboard", objects(request)
        )
    return None


@defect(
    title="Document acknowledged, never received by the prefecture",
    denominator=Steps(("*.upload", "upload.document")),
    watched_by=Steps(DOCUMENT_STEPS),
    grouping="object",
    unit="documents",
    description="A reconciliation watch ends lost while the prefecture has the dossier but not every "
    "acknowledged document (waiting_for 'documents ID,…'); each missing document is one incident.",
    gating=True,
    match=Rule("by document id (the watch's waiting_for list)", objects=True, unique_objects=True),
    report_title=Words(
        fr="Document accusé reçu, jamais reçu par la préfecture",
        en="Document acknowledged, never received by the prefecture",
    ),
    lives=Words(
        fr="Le demandeur a envoyé sa pièce justificative et le site en a accusé réception, mais la préfecture ne la "
        "reçoit jamais : le dossier lui paraît incomplet.",
        en="The applicant sent the supporting document and the site acknowledged it, but the prefecture never "
        "receives it: to the prefecture the application looks incomplete.",
    ),
    slo=SloHook(
        (
            Objective(
                "documents-reach-the-prefecture",
                "Documents reach the prefecture",
                "Share of uploads whose acknowledged documents all reach the prefecture, with the same SHA-256.",
                "documents-at-the-prefecture",
                DOCUMENT_STEPS,
                "99.9% of uploads reach the prefecture",
                0.999,
                "Defect 5: documents transmitted but never received by the prefecture.\nTarget 99.9 %: our assumption.",
                place=1,
            ),
            Objective(
                "no-lost-documents",
                "No document lost",
                "Share of uploads not lost: a document acknowledged to the applicant must never be missing at "
                "the prefecture.",
                "documents-not-lost",
                DOCUMENT_STEPS,
                "No document lost",
                0.99999,
                "Defect 5 again, counted strictly: only a lost document spends this budget (slowness does not).\n"
                'OpenSLO targets are strictly below 1, so "none lost" is written 99.999 % (one in 100,000);\n'
                "the gate also fails on any document_lost detection, whatever this SLO says.",
                place=5,
                bad=("lost",),
            ),
        )
    ),
    drill=DrillPlan({"renewal": 3, "upload": 1, "address_change": 1, "login": 1}, 90),
)
def document_lost(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and watch_kind(event.step) == "seam" and waiting_for(event).startswith("documents "):
        documents = waited_documents(event)
        return Symptom(f"acknowledged document(s) never received by the prefecture: {', '.join(documents)}", documents)
    return None


@defect(
    title="Procedure filed on the dashboard, never received by the prefecture",
    denominator=Steps(PROCEDURE_STEPS),
    grouping="object",
    description="A submitted procedure (with its filing receipt) is still unknown to the prefecture at the "
    "deadline (a reconciliation watch lost, waiting_for 'dossier').",
    gating=True,
    match=Rule("by dossier id", objects=True, unique_objects=True),
    report_title=Words(
        fr="Démarche affichée au demandeur, inconnue de la préfecture",
        en="Procedure shown to the applicant, unknown to the prefecture",
    ),
    lives=Words(
        fr="La démarche (changement d'adresse, demande de titre) figure sur le tableau de bord du demandeur, mais la "
        "préfecture ne la reçoit jamais et ne peut pas la consulter, même quand le demandeur la signale.",
        en="The procedure (address change, card request) shows on the applicant's dashboard, but the prefecture "
        "never receives it and cannot look it up, even when the applicant tells them.",
    ),
    slo=SloHook(
        (
            Objective(
                "procedures-reach-the-prefecture",
                "Procedures reach the prefecture",
                "Share of submitted renewals and address changes that the prefecture receives.",
                "procedures-at-the-prefecture",
                PROCEDURE_STEPS,
                "99.9% of procedures reach the prefecture",
                0.999,
                "Defect 6: an address change or card request visible on the applicant's dashboard, unknown\n"
                "to the prefecture. Target 99.9 %: our assumption.",
                place=2,
            ),
        )
    ),
    drill=DrillPlan({"renewal": 2, "address_change": 2, "login": 1}, 170),
)
def procedure_not_forwarded(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "lost" and watch_kind(event.step) == "seam" and waiting_for(event) == "dossier":
        dossier = text(event.evidence.get("dossier"))
        why = f"procedure {dossier or '?'} filed on the dashboard, unknown to the prefecture"
        return Symptom(why, objects(dossier))
    return None


@defect(
    title="Procedure missing from the list the applicant can choose from",
    denominator=Steps(("*.choose_procedure", "*.create")),
    unit="procedures",
    description="The procedure the applicant is entitled to is absent from the list (choose_procedure "
    "missing), or refused as 'not available' when created (create blocked, procedure_unavailable).",
    gating=True,
    match=Rule(
        "by procedure (the ledger's object), platform applicant id and time: the firing happened during the "
        "choose_procedure or create attempt that showed it",
        objects=True,
        applicant="person",
        window="attempt",
    ),
    report_title=Words(fr="Démarche absente de la liste proposée", en="Procedure missing from the list offered"),
    lives=Words(
        fr="La démarche à laquelle le demandeur a droit ne figure pas dans la liste de celles qu'il peut choisir : il "
        "ne peut tout simplement pas la faire.",
        en="The procedure the applicant is entitled to is not in the list they can choose from: they simply cannot "
        "carry it out.",
    ),
    # A missing or refused procedure shows as a missing choose_procedure or a blocked create.
    slo=SloHook(counted_by=Steps(("*.choose_procedure", "*.create"))),
    drill=DrillPlan({"renewal": 4, "login": 1}, 80, {"procedure": "renewal"}),
)
def procedure_not_selectable(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "missing" and event.step.endswith(".choose_procedure"):
        return Symptom("the procedure is absent from the list the applicant can choose from", (procedure(event),))
    if refused(event, "procedure_unavailable", "n'est pas disponible"):
        return Symptom("the procedure is refused as 'not available'", (procedure(event),))
    return None
