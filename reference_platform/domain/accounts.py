"""Applicant accounts: login (throttled), sessions, password reset, and the e-mail queue."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from reference_platform.context import PlatformContext
from reference_platform.domain import throttle
from reference_platform.domain.security import new_token, token_hash
from reference_platform.errors import (
    InvalidInput,
    Unauthorized,
)
from reference_platform.faults.catalogue import (
    EmailDelay,
    ResetEmailLost,
)
from reference_platform.storage.common import utcnow
from reference_platform.storage.front import (
    Applicant,
    Email,
    LoginThrottle,
    ResetToken,
)
from reference_platform.storage.front import Session as LoginSession

# The queries on every request's path are built once: SQLAlchemy memoizes a statement's cache
# key, so a prebuilt statement skips construction and key generation (about 40 % of a read).
# Built once: on every authenticated request's path (see front_office for why).
SESSION_APPLICANT = (
    select(Applicant)
    .join(LoginSession, LoginSession.applicant_id == Applicant.id)
    .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.expires_at > bindparam("now"))
)
SESSION_EXPIRED = "Votre session a expiré. Veuillez vous reconnecter."


def login(ctx: PlatformContext, identifier: str, password: str) -> tuple[Applicant, str]:
    """Check the credentials (throttled per account) and open a session; returns its token.

    The password is verified outside any write transaction (it is the slow part); a failure is
    committed before the refusal is raised, so throttling counts it.
    """
    key = identifier.strip().lower()
    with ctx.stores.front.read() as db:
        applicant = db.scalar(
            select(Applicant).where((Applicant.email == key) if "@" in key else (Applicant.foreign_number == key))
        )
        if applicant is not None:
            key = throttle_key(applicant)  # one count per account, whichever identifier is typed
        throttle.check(db, LoginThrottle, key, ctx.settings)
    throttle.verify(ctx, ctx.stores.front, LoginThrottle, key, applicant.password_hash if applicant else None, password)
    assert applicant is not None
    token = new_token()
    expires = utcnow() + timedelta(seconds=ctx.settings.session_ttl_seconds)
    with ctx.stores.front.write() as db:
        throttle.clear(db, LoginThrottle, key)
        db.add(LoginSession(token_hash=token_hash(token), applicant_id=applicant.id, expires_at=expires))
    return applicant, token


def throttle_key(applicant: Applicant) -> str:
    return f"applicant:{applicant.id}"


def authenticate(ctx: PlatformContext, db: Session, token: str | None, route: str) -> Applicant:
    """The applicant behind a session token; ``session_drop`` may end the session here."""
    if not token:
        raise Unauthorized("not_authenticated", "Veuillez vous connecter.")
    hashed = token_hash(token)
    # One query on every authenticated request: the session and its applicant together.
    applicant = db.scalar(SESSION_APPLICANT, {"token_hash": hashed, "now": utcnow()})
    if applicant is None:
        raise Unauthorized("session_expired", SESSION_EXPIRED)
    if ctx.faults.fire("session_drop", route=route, applicant=applicant.id):
        with ctx.stores.front.write() as writer:
            writer.execute(delete(LoginSession).where(LoginSession.token_hash == hashed))
        raise Unauthorized("session_expired", SESSION_EXPIRED)
    return applicant


def logout(db: Session, token: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def request_password_reset(ctx: PlatformContext, db: Session, email: str, route: str) -> None:
    """Send a reset link if the account exists; the caller answers the same either way."""
    applicant = db.scalar(select(Applicant).where(Applicant.email == email.strip().lower()))
    if applicant is None:
        return
    token = new_token()
    now = utcnow()
    ttl = timedelta(seconds=ctx.settings.reset_token_ttl_seconds)
    db.add(ResetToken(token_hash=token_hash(token), applicant_id=applicant.id, expires_at=now + ttl))
    link = f"{ctx.settings.base_url}/mot-de-passe/nouveau?jeton={token}"
    # The defect decides first: a lost or late link is not also delayed by email_delay.
    lost = ctx.faults.fire("reset_email_lost", route=route, applicant=applicant.id, obj="reset")
    message = queue_email(
        ctx,
        db,
        to=applicant.email,
        may_delay=lost is None,
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
    if lost is not None:
        assert isinstance(lost.params, ResetEmailLost)
        if lost.params.late_seconds is None:
            message.dropped = True
        else:
            message.send_after = now + timedelta(seconds=lost.params.late_seconds)


def confirm_password_reset(ctx: PlatformContext, db: Session, token: str, password: str) -> None:
    check_password_strength(password)
    record = db.get(ResetToken, token_hash(token))
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
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
) -> Email:
    """Write an e-mail for the mail worker; ``email_delay`` may hold it back."""
    send_after = utcnow()
    delayed = ctx.faults.fire("email_delay", route=route, applicant=applicant, obj=subject[:64]) if may_delay else None
    if delayed is not None:
        assert isinstance(delayed.params, EmailDelay)
        send_after += timedelta(seconds=delayed.params.delay_seconds)
    message = Email(recipient=to, subject=subject, body=body, send_after=send_after)
    db.add(message)
    return message
