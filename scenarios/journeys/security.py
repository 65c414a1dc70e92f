"""The security journey: an applicant's probes of the platform's security guarantees.

Each probe is one step that asks the platform for something it must refuse and judges the answer
alone (never the fault ledger): another applicant's dossier must answer 404 like a missing one
(``security.idor``), a file of a disallowed type or size must be refused (``security.upload_type``),
a reset link already used must be refused (``security.reset_reuse``), and the reset and login
answers must not tell whether an account exists, by their content or their timing
(``security.enumeration``).

A weakness found is ``corrupt``: the platform answered, and its answer is not the one the
guarantee requires. It is not ``blocked`` (a refusal the oracle says is wrong: here the failure is
the absence of a refusal), nor ``lost`` or ``missing`` (nothing is absent), nor ``error`` (nothing
crashed, and errors are judged by the generic detectors). The evidence names the weakness.

The oracle stays true: a password the reset probe changed is recorded, twice if the link worked
twice; the probe's draft procedure (reused on the next run) is recorded like any other.

Design note: the enumeration probe asks for reset links for the applicant's own, existing account.
Each of those is a reset the platform must honour like any applicant's, so each is watched in the
mailbox (``security.enumeration_email``, one watch per reset accepted), even when the probe found a
weakness: a reset e-mail lost there is the documented defect, seen, not a firing nobody looked at.

Design note on timing: one round of six interleaved pairs is not enough under random per-response
latency. With the ``latency`` fault on 20 % of all answers (150 ± 50 ms), four delays landing on the
existing account's side and none on the other, plus the small real cost of a reset that writes a
link, separate the ranks and move the Hodges-Lehmann shift past 100 ms: about 0.6 % of probes (a
seeded simulation of 200,000), so likely once among the dozens of probes of a campaign. A round
that separates is therefore confirmed by a second, independent one, and the weakness is raised only
when both separate in the same direction (``judge_timing``): the false alarm is the square of a
round's, about 0.002 % per probe (``tests/scenarios/test_security_timing.py`` bounds it at 0.1 %),
while the ``user_enumeration`` timing fault (every answer for an existing account 300 ms late) is
still found in every simulated probe. A confirmation costs six more resets for the existing
account (thirteen in the journey, under the platform's twenty per address and window), each
watched like the others.
"""

from __future__ import annotations

import string
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from functools import cache
from typing import Any

import urllib3

from scenarios.client import PlatformError, StepFailed
from scenarios.events import Outcome
from scenarios.journeys import journey
from scenarios.journeys.applicant import emailed_reset_token, entitled, sign_in
from scenarios.journeys.runner import JourneyContext, JourneyStopped, Run
from scenarios.journeys.timing import TIMING_ALPHA, TIMING_SAMPLES, TimingRound, judge_timing
from scenarios.transport import Reply, TransportFailure
from synthetic_users.oracle import Oracle, Truth
from synthetic_users.population import Applicant, Population

PROBE_PROCEDURE = "duplicate"  # needs only a card (every synthetic applicant has one) and no details
PROBE_KIND = "complement"
# The platform accepts 10 MB at most (docs/platform.md, "Uploads"); one byte over the larger reading of
# "10 MB" (10 MiB) is over the limit whichever the platform means.
UPLOAD_LIMIT = 10 * 1024 * 1024


# --- what a probe asks -------------------------------------------------------------------------


def ask(
    ctx: JourneyContext,
    method: str,
    path: str,
    name: str,
    expect: tuple[int, ...],
    *,
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    signed_in: bool = True,
) -> Reply:
    """One request of a probe. ``expect`` is the answer the guarantee requires (Locust counts the
    others as failures); a transport failure ends the step as ``error`` or ``timeout``."""
    sent = dict(headers or {})
    if signed_in and ctx.client.token is not None:
        sent["Authorization"] = f"Bearer {ctx.client.token}"
    try:
        return ctx.client.transport.send(
            method, path, name=name, expect=expect, json=json, content=content, headers=sent
        )
    except TransportFailure as exc:
        raise StepFailed(Outcome.TIMEOUT if exc.timeout else Outcome.ERROR, str(exc)) from None


def answer_of(reply: Reply) -> tuple[str, str]:
    """The platform's error code and message, or the start of whatever came back."""
    try:
        error = reply.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{reply.status}", reply.text[:200]


def unexpected(reply: Reply, name: str) -> PlatformError:
    """An answer that is neither the refusal required nor the weakness looked for: an ``error``."""
    code, message = answer_of(reply)
    return PlatformError(reply.status, code, message, name)


def weakness(what: str, message: str, **evidence: str) -> StepFailed:
    return StepFailed(Outcome.CORRUPT, message, evidence={"weakness": what, **evidence})


# --- targets for the IDOR probe --------------------------------------------------------------


class Targets:
    """Dossiers the probes of one process started, by owner: what other applicants must not read.

    Ids are random, so nobody could name another's dossier without having been shown it; the
    harness knows these from its own oracle. Kept per oracle (one per campaign process), newest
    first, a few dozen at most."""

    def __init__(self, keep: int = 64) -> None:
        self._items: deque[tuple[int, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, owner: int, dossier: str) -> None:
        with self._lock:
            if (owner, dossier) not in self._items:
                self._items.appendleft((owner, dossier))

    def other_than(self, owner: int) -> tuple[int, str] | None:
        with self._lock:
            return next((item for item in self._items if item[0] != owner), None)


_TARGETS: weakref.WeakKeyDictionary[Oracle, Targets] = weakref.WeakKeyDictionary()
_TARGETS_LOCK = threading.Lock()


def targets(oracle: Oracle) -> Targets:
    with _TARGETS_LOCK:
        found = _TARGETS.get(oracle)
        if found is None:
            found = _TARGETS[oracle] = Targets()
        return found


# --- eligibility -----------------------------------------------------------------------------


def draft_of(truth: Truth) -> str | None:
    """A draft of the applicant's (the probe uploads into it; nothing is forwarded from a draft)."""
    return next((key for key, dossier in truth.dossiers.items() if dossier.state == "draft"), None)


def may_probe(applicant: Applicant, truth: Truth, population: Population) -> bool:
    """Reachable by e-mail (the reset probe) and a draft to upload into: one already, or one may start."""
    return not truth.email_bounces and (draft_of(truth) is not None or not truth.open_dossiers)


# --- the probes ------------------------------------------------------------------------------


def probe_draft(run: Run) -> str:
    """The applicant's draft, reused, or started (``security.create``)."""
    ctx = run.ctx
    found = draft_of(ctx.truth)
    if found is not None:
        return found

    def action() -> str:
        run.evidence(procedure=PROBE_PROCEDURE)
        dossier = entitled(lambda: ctx.client.create_dossier(PROBE_PROCEDURE))
        ctx.oracle.dossier_created(ctx.applicant.index, dossier.id, PROBE_PROCEDURE)
        run.evidence(dossier=dossier.id)
        return dossier.id

    return run.step("create", action)


def idor(run: Run, owner: int, dossier: str) -> None:
    """``security.idor``: another applicant's dossier answers 404, word for word like a missing one."""
    ctx = run.ctx
    name = "/api/me/dossiers/{id}"

    def action() -> None:
        run.evidence(dossier=dossier, owner=owner)
        read = ask(ctx, "GET", f"/api/me/dossiers/{dossier}", name, (404,))
        if 200 <= read.status < 300:
            raise weakness("idor", f"another applicant's dossier {dossier} answered {read.status} instead of 404")
        if read.status != 404:
            raise unexpected(read, f"GET {name}")
        missing = ask(ctx, "GET", f"/api/me/dossiers/{ctx.rng.getrandbits(128):032x}", name, (404,))
        if missing.status != 404:
            raise unexpected(missing, f"GET {name}")
        if answer_of(read) != answer_of(missing):
            raise weakness(
                "idor",
                f"another applicant's dossier answers {answer_of(read)}, a missing one {answer_of(missing)}: "
                "the answer tells that it exists",
            )

    run.step("idor", action)


@cache
def oversized_pdf() -> bytes:
    """A valid-looking PDF one byte over the limit (the same bytes each time: stored once)."""
    head, tail = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    return head + b"0" * (UPLOAD_LIMIT + 1 - len(head) - len(tail)) + tail


def disallowed_files() -> list[tuple[str, str, bytes, str, int]]:
    """(what, filename, content, declared type, the status that refuses it): each lies about its type
    by name and declared type, so only a check of the content refuses it."""
    executable = b"MZ" + bytes(62) + b"PE\x00\x00" + bytes(400)
    page = b"<!doctype html><html><body><script>document.title='x'</script></body></html>\n" * 8
    return [
        ("executable", "piece.pdf", executable, "application/pdf", 415),
        ("html", "photo.jpg", page, "image/jpeg", 415),
        ("oversized", "piece.pdf", oversized_pdf(), "application/pdf", 413),
    ]


def upload_type(run: Run, dossier: str) -> None:
    """``security.upload_type``: an executable, an HTML page and a file over 10 MB are refused."""
    ctx = run.ctx
    name = "/api/me/dossiers/{id}/documents"

    def action() -> None:
        run.evidence(dossier=dossier)
        for what, filename, content, declared, refusal in disallowed_files():
            body, multipart = urllib3.encode_multipart_formdata(
                {"kind": PROBE_KIND, "file": (filename, content, declared)}
            )
            reply = ask(
                ctx,
                "POST",
                f"/api/me/dossiers/{dossier}/documents",
                name,
                (refusal,),
                content=body,
                headers={"Content-Type": multipart},
            )
            if 200 <= reply.status < 300:
                raise weakness(
                    f"upload {what}", f"{what} file ({len(content)} bytes, sent as {filename}) accepted: {reply.status}"
                )
            if reply.status != refusal:
                raise unexpected(reply, f"POST {name}")

    run.step("upload_type", action)


def new_password(ctx: JourneyContext) -> str:
    alphabet = string.ascii_letters + string.digits
    return "Sc-" + "".join(ctx.rng.choice(alphabet) for _ in range(14)) + "-4"


def reset_reuse(run: Run) -> None:
    """``security.reset_request``, ``security.email``, ``security.reset_reuse``: a reset link
    read from the mailbox sets a new password once; used again, it is refused."""
    ctx = run.ctx
    token = [emailed_reset_token(run, "reset_request")]  # "security.email": the e-mail deadline and detectors apply
    name = "/api/auth/password-reset/confirm"

    def reuse() -> None:
        first, second = new_password(ctx), new_password(ctx)
        entitled(lambda: ctx.client.confirm_reset(token[0], first))
        ctx.oracle.password_changed(ctx.applicant.index, first)
        again = ask(ctx, "POST", name, name, (422,), json={"token": token[0], "password": second}, signed_in=False)
        if 200 <= again.status < 300:
            ctx.oracle.password_changed(ctx.applicant.index, second)  # it did change: the oracle follows
            raise weakness("reset link reusable", f"a reset link already used set the password again: {again.status}")
        if again.status != 422 or answer_of(again)[0] != "invalid_reset_token":
            raise unexpected(again, f"POST {name}")

    run.step("reset_reuse", reuse, retry=False)  # a reset link is single-use


def enumeration(run: Run) -> None:
    """``security.enumeration``: the reset and login answers for the applicant's address and for an
    address with no account are identical, and their timings cannot be told apart."""
    ctx = run.ctx
    known = ctx.applicant.email.lower()
    unknown = f"inconnu.{ctx.rng.getrandbits(80):020x}@{known.rsplit('@', 1)[1]}"  # same reserved domain
    reset, login = "/api/auth/password-reset", "/api/auth/login"

    accepted: list[float] = []  # resets accepted for the existing account: each sends an e-mail

    def timed(address: str) -> tuple[Reply, float]:
        started = time.perf_counter()
        reply = ask(ctx, "POST", reset, reset, (202,), json={"email": address}, signed_in=False)
        if address == known and reply.status == 202:
            accepted.append(started)
        return reply, time.perf_counter() - started

    def compare(what: str, mine: Reply, nobody: Reply) -> None:
        for reply in (mine, nobody):
            if reply.status >= 500:
                raise unexpected(reply, f"POST {what}")
        if (mine.status, mine.body) != (nobody.status, nobody.body):
            raise weakness(
                "enumeration by content",
                f"{what} answers differ: existing account {mine.status} {answer_of(mine)[1][:80]!r}, "
                f"no account {nobody.status} {answer_of(nobody)[1][:80]!r}",
            )

    def sample() -> TimingRound:
        """One round: interleaved pairs, in a random order within each (a drift of the machine hits both
        sides), the answers' content compared at every pair."""
        times: dict[str, list[float]] = {known: [], unknown: []}
        replies: dict[str, Reply] = {}
        for _ in range(TIMING_SAMPLES):
            pair = [known, unknown] if ctx.rng.random() < 0.5 else [unknown, known]
            for address in pair:
                replies[address], seconds = timed(address)
                times[address].append(seconds)
            if limited(replies[known]) and not limited(replies[unknown]):
                raise ResetLimitReached
            compare(reset, replies[known], replies[unknown])
        return TimingRound(tuple(times[known]), tuple(times[unknown]))

    def action() -> None:
        run.evidence(existing=known, unknown=unknown)
        wrong = new_password(ctx)  # random: not the applicant's
        credentials = [{"identifier": a, "password": wrong} for a in (known, unknown)]
        mine, nobody = (ask(ctx, "POST", login, login, (401,), json=c, signed_in=False) for c in credentials)
        compare(login, mine, nobody)
        try:
            rounds, separated = judge_timing(sample)
        except ResetLimitReached:
            # The platform limits resets per address, whether or not it has an account: this one had
            # its earlier resets in the window (its own journeys, an earlier probe), the fresh unknown
            # address none. A difference of history, not of existence: no verdict on timing.
            run.evidence(timing="not judged: the existing account's reset limit was reached")
            return
        run.evidence(**{f"timing_round_{number}": taken.describe() for number, taken in enumerate(rounds, 1)})
        if separated:
            least = min(abs(taken.shift) for taken in rounds)
            raise weakness(
                "enumeration by timing",
                f"reset answers for an existing account come {least * 1000:.0f} ms "
                f"{'later' if rounds[0].direction > 0 else 'sooner'} in each of {len(rounds)} independent rounds "
                f"of {TIMING_SAMPLES} interleaved samples per side (Hodges-Lehmann shift, exact Mann-Whitney "
                f"test at p <= {TIMING_ALPHA:g}): "
                + "; ".join(f"round {number}: {taken.describe()}" for number, taken in enumerate(rounds, 1)),
            )

    mailbox = ctx.mailbox
    if mailbox is None:
        raise StepFailed(Outcome.ERROR, f"{run.journey} needs a mailbox (campaign: mailbox URL)")
    before = mailbox.message_ids(known)
    # Not retried: each attempt counts one failed login on the account (the reset probe then clears it).
    # Each reset asked for the existing account is a reset like an applicant's: its e-mail is watched
    # (``security.enumeration_email``, one watch per reset accepted), even when the probe found a weakness.
    try:
        run.step("enumeration", action, retry=False)
    except JourneyStopped:
        watch_reset_emails(run, known, before, asked=accepted)
        raise
    watch_reset_emails(run, known, before, asked=accepted)


class ResetLimitReached(Exception):
    """The existing account's reset limit answered (429) where the fresh address was accepted."""


def limited(reply: Reply) -> bool:
    """Whether a reset answer is the platform's per-address reset limit."""
    return reply.status == 429 and answer_of(reply)[0] == "too_many_resets"


def watch_reset_emails(run: Run, address: str, before: set[str], *, asked: list[float]) -> None:
    """``security.enumeration_email`` once per reset asked (``asked``: when each was, on
    ``time.perf_counter()``): the n-th watch ends ok when n reset e-mails came since ``before``, lost
    when the e-mail deadline, counted from its own reset, passes first. The watches wait behind one
    another; counting each deadline from its reset keeps the chain within one deadline, so a run
    that ends leaves none of them unwatched (its stop timeout is one deadline and a grace)."""
    mailbox = run.ctx.mailbox
    assert mailbox is not None
    arrived: set[str] = set()
    for number, since in enumerate(asked, 1):

        def came(number: int = number) -> bool:
            arrived.update(mailbox.reset_messages(address, before | arrived))
            run.evidence(reset=str(number), arrived=str(len(arrived)))
            return len(arrived) >= number

        try:
            run.watch("enumeration_email", came, since=since)
        except JourneyStopped:
            continue  # one e-mail lost: the next ones are still watched


# --- the journey -----------------------------------------------------------------------------

STEPS = (
    "login",
    "create",
    "idor",
    "upload_type",
    "enumeration",
    "enumeration_email",
    "reset_request",
    "email",
    "reset_reuse",
)


@journey(eligible=may_probe, steps=STEPS, watches={"enumeration_email": "mail", "email": "mail"}, needs_mailbox=True)
def security(run: Run) -> None:
    """Probe the platform's security guarantees as an applicant: another's dossier, disallowed files,
    a reset link used twice, answers that tell whether an account exists."""
    ctx = run.ctx
    sign_in(run)
    dossier = probe_draft(run)
    known = targets(ctx.oracle)
    target = known.other_than(ctx.applicant.index)
    known.add(ctx.applicant.index, dossier)
    if target is not None:  # the first run of a process knows nobody else's dossier yet
        idor(run, *target)
    upload_type(run, dossier)
    enumeration(run)
    reset_reuse(run)  # changes the password and ends the sessions: after the signed-in probes
