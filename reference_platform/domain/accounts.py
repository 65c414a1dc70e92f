"""Applicant accounts: login (throttled), sessions, password reset, and the e-mail queue."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from contracts.faults import (
    EmailDelay,
    ResetEmailLost,
    UserEnumeration,
)
from reference_platform.context import PlatformContext
from reference_platform.domain import sessions, throttle
from reference_platform.domain.security import new_token, token_hash
from reference_platform.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    Throttled,
    Unauthorized,
)
from reference_platform.faults.injector import answer_late
from reference_platform.storage.common import utcnow
from reference_platform.storage.direct import Direct, Snapshots
from reference_platform.storage.front import (
    Applicant,
    Email,
    LoginThrottle,
    ResetToken,
)
from reference_platform.storage.front import Session as LoginSession

# On every login's or authenticated request's path: built once, run on the driver's cursor
# (``storage.direct``); the applicants they give are snapshots.
SESSION_APPLICANT = Snapshots(
    Applicant, sessions.live_session_query(Applicant, LoginSession, LoginSession.applicant_id)
)
BY_EMAIL = Snapshots(Applicant, select(Applicant).where(Applicant.email == bindparam("key")))
BY_FOREIGN_NUMBER = Snapshots(Applicant, select(Applicant).where(Applicant.foreign_number == bindparam("key")))
INSERT_EMAIL = Direct(insert(Email.__table__))  # type: ignore[arg-type]
INSERT_SESSION = Direct(insert(LoginSession.__table__))  # type: ignore[arg-type]
SESSION_EXPIRED = "Votre session a expiré. Veuillez vous reconnecter."


def login(
    ctx: PlatformContext, identifier: str, password: str, route: str = "/api/auth/login", client: str = "unknown"
) -> tuple[Applicant, str]:
    """Check the credentials (throttled: ``domain.throttle``) and open a session; returns its token.

    Attempts on the same account from the same client take turns (``domain.turns``); the
    password is verified outside any write transaction (it is the slow part).
    """
    asked = key = identifier.strip().lower()
    with ctx.stores.front.read() as db:
        applicant = (BY_EMAIL if "@" in key else BY_FOREIGN_NUMBER).first(db, {"key": key})
    if applicant is not None:
        key = throttle_key(applicant)  # one count per account, whichever identifier is typed
    keys = throttle.Keys.of(key, client)
    counted = throttle.guarded_check(
        ctx,
        ctx.stores.front,
        LoginThrottle,
        keys,
        applicant.password_hash if applicant else None,
        password,
        on_failure=lambda: disclose(disclosure(ctx, asked, applicant, route), unknown_identifier),
    )
    assert applicant is not None
    token = new_token()
    expires = utcnow() + timedelta(seconds=ctx.settings.session_ttl_seconds)
    with ctx.stores.front.write() as db:
        throttle.succeeded(db, LoginThrottle, keys, counted)
        INSERT_SESSION.run(db, {"token_hash": token_hash(token), "applicant_id": applicant.id, "expires_at": expires})
    return applicant, token


def throttle_key(applicant: Applicant) -> str:
    return f"applicant:{applicant.id}"


def authenticate(ctx: PlatformContext, db: Session, token: str | None, route: str) -> Applicant:
    """The applicant behind a session token; ``session_drop`` may end the session here."""
    if not token:
        raise Unauthorized("not_authenticated", "Veuillez vous connecter.")
    hashed = token_hash(token)
    # One query on every authenticated request: the session and its applicant together.
    now = utcnow()
    found = SESSION_APPLICANT.first_with_rest(
        db, {"token_hash": hashed, "now": now, "idle_since": sessions.idle_since(ctx.settings, now)}
    )
    if found is None:
        raise Unauthorized("session_expired", SESSION_EXPIRED)
    applicant, (last_seen,) = found
    if sessions.refresh_due(last_seen, ctx.settings, now):
        ctx.sessions_seen.note("front", hashed, now)  # written by keeper.SessionKeeper
    if ctx.faults.fire("session_drop", route=route, applicant=applicant.id):
        with ctx.stores.front.write() as writer:
            writer.execute(delete(LoginSession).where(LoginSession.token_hash == hashed))
        raise Unauthorized("session_expired", SESSION_EXPIRED)
    return applicant


def logout(db: Session, token: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


# --- user enumeration (a security fault): an answer that tells whether an account exists ----


@dataclass(frozen=True)
class Disclosure:
    """How an answer about an identifier gives away whether its account exists."""

    unknown: bool  # content: the answer says that no account has this identifier
    delay_seconds: float  # timing: an existing account is answered this much later


def unknown_email() -> DomainError:
    """The reset answer that ``user_enumeration`` (content) gives to an address with no account."""
    return NotFound("unknown_account", "Aucun compte ne correspond à cette adresse.")


def unknown_identifier() -> DomainError:
    """The login answer that ``user_enumeration`` (content) gives to an identifier with no account."""
    return Unauthorized("unknown_account", "Aucun compte ne correspond à cet identifiant.")


def disclosure(ctx: PlatformContext, identifier: str, applicant: Applicant | None, route: str) -> Disclosure | None:
    """Whether ``user_enumeration`` fires on an answer about ``identifier``: ``content`` on an
    identifier with no account, ``timing`` on one with an account (the eligible events)."""
    how = "content" if applicant is None else "timing"
    if not any(
        isinstance(spec.params, UserEnumeration) and spec.params.how == how
        for spec in ctx.faults.specs("user_enumeration")
    ):
        return None
    fired = ctx.faults.fire(
        "user_enumeration", route=route, applicant=applicant.id if applicant else None, obj=identifier
    )
    if fired is None or not isinstance(fired.params, UserEnumeration):
        return None
    return Disclosure(unknown=applicant is None, delay_seconds=fired.params.delay_ms / 1000 if applicant else 0.0)


def disclose(found: Disclosure | None, refusal: Callable[[], DomainError]) -> None:
    """Apply a disclosure to the answer being given: make it late, or refuse with ``refusal``."""
    if found is None:
        return
    if found.delay_seconds:
        answer_late(found.delay_seconds)  # at the edge: no worker thread or transaction is held
    if found.unknown:
        raise refusal()


# --- password reset --------------------------------------------------------------------------


def request_password_reset(
    ctx: PlatformContext, db: Session, email: str, route: str, client: str = "unknown"
) -> Disclosure | None:
    """Send a reset link if the account exists; the caller answers the same either way, unless
    ``user_enumeration`` fires: the caller then applies the returned ``Disclosure`` (``disclose``).

    Requests are limited per address asked about (whether or not it has an account, so the
    refusal tells nothing) and per client: no mail bombing of an address.
    """
    asked = email.strip().lower()
    settings = ctx.settings
    limits = [
        (f"reset:{asked}", settings.reset_max_requests),
        (f"reset-client:{client}", settings.reset_client_max_requests),
    ]
    if not throttle.count(db, LoginThrottle, limits, settings.reset_window_seconds):
        raise Throttled("too_many_resets", "Trop de demandes de réinitialisation. Réessayez dans quelques minutes.")
    applicant = db.scalar(select(Applicant).where(Applicant.email == asked))
    if applicant is None:
        return disclosure(ctx, asked, None, route)
    token = new_token()
    now = utcnow()
    ttl = timedelta(seconds=ctx.settings.reset_token_ttl_seconds)
    db.add(ResetToken(token_hash=token_hash(token), applicant_id=applicant.id, expires_at=now + ttl))
    link = f"{ctx.settings.base_url}/mot-de-passe/nouveau?jeton={token}"
    # The defect decides first: a lost or late link is not also delayed by email_delay.
    lost = ctx.faults.fire("reset_email_lost", route=route, applicant=applicant.id, obj="reset")
    late: float | None = None
    if lost is not None:
        assert isinstance(lost.params, ResetEmailLost)
        late = lost.params.late_seconds
    queue_email(
        ctx,
        db,
        to=applicant.email,
        may_delay=lost is None,
        # lost: never sent, and the link it held is not kept either; late: sent that much later
        dropped=lost is not None and late is None,
        send_after=now + timedelta(seconds=late) if late is not None else None,
        applicant=applicant.id,
        route=route,
        subject="ANEF : réinitialisation de votre mot de passe",
        body=(
            f"Bonjour {applicant.given_name} {applicant.family_name},\n\n"
            "Vous avez demandé à réinitialiser votre mot de passe. Ce lien est valable "
            f"{ctx.settings.reset_token_ttl_seconds // 60} minutes et ne sert qu'une fois :\n\n"
            f"{link}\n\n"
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n"
        ),
    )
    return disclosure(ctx, asked, applicant, route)


def confirm_password_reset(
    ctx: PlatformContext, db: Session, token: str, password: str, route: str = "/api/auth/password-reset/confirm"
) -> None:
    check_password_strength(password)
    record = db.get(ResetToken, token_hash(token))
    expired = record is None or record.expires_at <= utcnow()
    used = record is not None and record.used_at is not None
    if used and not expired and record is not None:
        # A used link that has not expired: the eligible event of the fault (the use is not checked).
        used = not ctx.faults.fire("reset_token_reusable", route=route, applicant=record.applicant_id, obj="reset")
    if record is None or used or expired:
        raise InvalidInput(
            "token",
            "Ce lien de réinitialisation n'est plus valide. Faites une nouvelle demande.",
            code="invalid_reset_token",
        )
    applicant = db.get(Applicant, record.applicant_id)
    if applicant is None:
        raise InvalidInput("token", "Ce lien de réinitialisation n'est plus valide.", code="invalid_reset_token")
    # Every reset link of the account dies with this one, not only the link that was used.
    db.execute(
        update(ResetToken)
        .where(ResetToken.applicant_id == applicant.id, ResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    applicant.password_hash = ctx.passwords.hash(password, synthetic=applicant.synthetic)
    db.execute(delete(LoginSession).where(LoginSession.applicant_id == applicant.id))
    throttle.clear(db, LoginThrottle, throttle_key(applicant))


def check_password_strength(password: str) -> None:
    if len(password) < 12 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise InvalidInput(
            "password",
            "Le mot de passe doit comporter au moins 12 caractères, dont des lettres et des chiffres.",
            code="weak_password",
        )


def queue_email(
    ctx: PlatformContext,
    db: Session,
    *,
    to: str,
    subject: str,
    body: str,
    applicant: str | None,
    route: str,
    may_delay: bool = True,
    send_after: datetime | None = None,
    dropped: bool = False,
) -> None:
    """Write an e-mail for the mail worker (one INSERT, no unit of work); ``email_delay`` may hold
    it back. ``send_after`` sends it no earlier; ``dropped`` keeps it unsent, without its body."""
    created = utcnow()
    due = send_after or created
    delayed = ctx.faults.fire("email_delay", route=route, applicant=applicant, obj=subject[:64]) if may_delay else None
    if delayed is not None:
        assert isinstance(delayed.params, EmailDelay)
        due += timedelta(seconds=delayed.params.delay_seconds)
    INSERT_EMAIL.run(
        db,
        {
            "recipient": to,
            "subject": subject,
            "body": "" if dropped else body,
            "created_at": created,
            "send_after": due,
            "dropped": dropped,
        },
    )
