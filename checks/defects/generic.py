"""The generic faults an applicant can observe (errors, outages, timeouts, cuts, slowness, lost
sessions, late e-mails, slow seams), each declared once. They do not gate: the SLOs and their error
budgets judge them; the report still explains them in both languages.
"""

from __future__ import annotations

import re

from checks.defects.declaration import Steps, Words, defect
from checks.defects.detection import DetectorSettings, Symptom
from checks.defects.reading import FAILED, code, watched_ids
from checks.defects.rule import Rule, during
from scenarios.events import StepEvent
from scenarios.journeys import watch_kind

# A connection cut mid-answer: httpx and urllib3 raise; Chromium names a net:: error; Locust's
# FastHttpUser (geventhttpclient) hands back the short body without raising, which the client
# reports as a 2xx answer that is not valid JSON (or as an unexpected 2xx with a cut body).
_RESET = re.compile(
    r"reset by peer|ConnectionReset|connection (?:was )?(?:reset|closed|aborted)|peer closed|RemoteProtocolError"
    r"|IncompleteRead|BrokenPipe|ServerDisconnected|ERR_CONNECTION_RESET|ERR_CONNECTION_CLOSED|ERR_EMPTY_RESPONSE"
    r"|ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE_CHUNKED_ENCODING",
    re.IGNORECASE,
)
_TRUNCATED = re.compile(
    r"answer is not a (?:valid|list of) \w+: (?:Expecting|Unterminated|Invalid)|: 2\d\d http_2\d\d: "
)
EVERY_STEP = Steps()


@defect(
    title="Server error (HTTP 5xx) on a step",
    denominator=EVERY_STEP,
    description="A step attempt failed with a 5xx status other than 503 (outage) and 504 (timeout).",
    gating=False,
    match=during("failed attempt"),
    report_title=Words(fr="Erreur du serveur (HTTP 5xx)", en="Server error (HTTP 5xx)"),
    lives=Words(
        fr="L'action échoue sur une erreur du serveur : le demandeur doit recommencer plus tard sans savoir si sa "
        "démarche a été prise en compte.",
        en="The action fails with a server error: the applicant must try again later without knowing whether it "
        "was taken into account.",
    ),
)
def http_error(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    status = event.status
    if event.outcome in FAILED and status is not None and 500 <= status <= 599 and status not in (503, 504):
        return Symptom(f"HTTP {status}: {event.message[:160]}")
    return None


@defect(
    title="Service unavailable (HTTP 503)",
    denominator=EVERY_STEP,
    description="A step attempt failed with 503: the service said it was unavailable.",
    gating=False,
    match=during("failed attempt"),
    report_title=Words(fr="Service indisponible (HTTP 503)", en="Service unavailable (HTTP 503)"),
    lives=Words(
        fr="Le site se dit indisponible : le demandeur ne peut rien faire avant son rétablissement.",
        en="The site says it is unavailable: the applicant can do nothing until it is back.",
    ),
)
def outage(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome in FAILED and event.status == 503:
        return Symptom(f"HTTP 503: {event.message[:160]}")
    return None


@defect(
    title="No answer in time (timeout or HTTP 504)",
    denominator=EVERY_STEP,
    description="A step attempt timed out on the client's side, or the gateway gave up (504).",
    gating=False,
    match=during("failed attempt"),
    report_title=Words(fr="Pas de réponse à temps", en="No answer in time"),
    lives=Words(
        fr="Le site ne répond pas à temps : le demandeur attend, puis abandonne ou recommence sans savoir si "
        "l'action a abouti.",
        en="The site does not answer in time: the applicant waits, then gives up or retries without knowing whether "
        "the action went through.",
    ),
)
def timeout(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "timeout" or (event.outcome in FAILED and event.status == 504):
        return Symptom(f"no answer in time after {event.seconds:.1f} s: {event.message[:160]}")
    return None


@defect(
    title="Connection cut in the middle of an answer",
    denominator=EVERY_STEP,
    description="A step attempt failed because the connection was reset or closed mid-answer, or the "
    "answer arrived cut short (a 2xx whose body is not the JSON it announces).",
    gating=False,
    match=during("failed attempt"),
    report_title=Words(fr="Connexion coupée en pleine réponse", en="Connection cut in the middle of an answer"),
    lives=Words(
        fr="La connexion est coupée au milieu de la réponse : la page reste incomplète et le demandeur ne sait pas si "
        "l'action a été enregistrée.",
        en="The connection is cut mid-answer: the page stays incomplete and the applicant does not know whether the "
        "action was recorded.",
    ),
)
def connection_reset(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome != "error":
        return None
    message = event.message
    status = event.status
    cut = status is not None and 200 <= status <= 299 and _TRUNCATED.search(message) is not None
    if _RESET.search(message) or cut:
        return Symptom(f"connection cut: {message[:160]}")
    return None


@defect(
    title="Step much slower than it should be",
    denominator=Steps(("*", "!security.*"), watching="acts"),
    description="A step attempt that succeeded took longer than settings.latency_s (5 s by default). A fixed "
    "threshold, not a multiple of the step's median: a detector sees one event and keeps no state, so its "
    "verdict does not depend on the order events are read in, and a few seconds is what an applicant "
    "feels. Watches are left out (their duration is a time to consistency: sync_delay, email_delay), and so are "
    "the security journey's probes (a probe such as security.enumeration sends a dozen requests in one step: "
    "no applicant waits for it); "
    "delays below the threshold show in the duration SLOs, not here. In the open model the first step's "
    "duration includes a late start, which counts (the applicant waited).",
    gating=False,
    match=during("slow attempt", route=False),
    report_title=Words(fr="Étape beaucoup plus lente que prévu", en="Step much slower than it should be"),
    lives=Words(
        fr="Une étape aboutit après plusieurs secondes d'attente ; sur un téléphone ou une connexion fragile, le "
        "demandeur risque d'abandonner.",
        en="A step succeeds after several seconds of waiting; on a phone or a weak connection the applicant may "
        "give up.",
    ),
)
def latency(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    step = event.step
    if (
        event.outcome == "ok"
        and watch_kind(step) is None
        and event.seconds >= settings.latency_s
        and not step.startswith("security.")
    ):
        return Symptom(f"{step} took {event.seconds:.1f} s (threshold {settings.latency_s:g} s)")
    return None


@defect(
    title="Session lost mid-journey ('session expired' after a successful login)",
    denominator=Steps(("*", "!*.login", "!login.submit")),
    grouping="journey",
    description="An authenticated step is refused with 401 session_expired: the journey logged in "
    "successfully before (a token is only sent after a login), so the platform dropped the session.",
    gating=False,
    match=during("first refused attempt (later 401s of the journey are the same incident)"),
    report_title=Words(fr="Session perdue en cours de démarche", en="Session lost mid-journey"),
    lives=Words(
        fr="Bien que connecté, le demandeur est renvoyé vers la connexion au milieu de sa démarche et doit tout "
        "recommencer.",
        en="Though logged in, the applicant is sent back to the login page in the middle of the procedure and must "
        "start again.",
    ),
)
def session_drop(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    step = event.step
    if event.status != 401 or event.outcome not in FAILED or step.endswith(".login") or step == "login.submit":
        return None
    message = event.message
    if code(event) == "session_expired" or "session_expired" in message or "session a expiré" in message:
        return Symptom(f"session expired in the middle of the journey at {step}")
    return None


@defect(
    title="E-mail delivered late",
    denominator=Steps(watching="mail"),
    description="The e-mail reached the mailbox, later than settings.email_delay_s (10 s by default; "
    "one past the e-mail deadline shows as reset_email_lost instead).",
    gating=False,
    match=Rule(
        "by time (and platform applicant id when known) on the password-reset routes: the firing happened "
        "during the journey, before its e-mail arrived (e-mails no journey reads cannot be matched)",
        applicant="person",
        window="journey",
        routes=("*password-reset*", "*mot-de-passe*"),
    ),
    report_title=Words(fr="Courriel reçu en retard", en="E-mail delivered late"),
    lives=Words(
        fr="Le courriel arrive, mais longtemps après : le lien qu'il contient a pu expirer entre-temps.",
        en="The e-mail arrives, but long afterwards: the link it carries may have expired in the meantime.",
    ),
)
def email_delay(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    if event.outcome == "ok" and watch_kind(event.step) == "mail" and event.seconds >= settings.email_delay_s:
        return Symptom(f"e-mail arrived after {event.seconds:.1f} s (threshold {settings.email_delay_s:g} s)")
    return None


@defect(
    title="Change across the seam visible only after a long delay",
    denominator=Steps(watching="seam"),
    description="A watch across the seam succeeded, later than settings.sync_delay_s (5 s by default; one "
    "past its deadline shows as lost, i.e. as the documented defect of that watch).",
    gating=False,
    match=Rule(
        "by object id among those the slow watch names (dossier, documents, request, card), firing before it ended",
        objects=True,
        window="before",
    ),
    report_title=Words(
        fr="Changement visible de l'autre côté après un long délai",
        en="Change across the seam visible only after a long delay",
    ),
    lives=Words(
        fr="Une information transmise (document, démarche, remise du titre) n'apparaît de l'autre côté qu'après un "
        "long délai ; entre-temps, le demandeur ou l'agent voit une situation fausse.",
        en="Information sent across (a document, a procedure, a card handover) shows on the other side only after a "
        "long delay; meanwhile the applicant or the agent sees a wrong situation.",
    ),
)
def sync_delay(event: StepEvent, settings: DetectorSettings) -> Symptom | None:
    step = event.step
    if event.outcome == "ok" and watch_kind(step) == "seam" and event.seconds >= settings.sync_delay_s:
        return Symptom(
            f"{step} became visible after {event.seconds:.1f} s (threshold {settings.sync_delay_s:g} s)",
            watched_ids(event),
        )
    return None
