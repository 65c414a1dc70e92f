"""The mail worker: hands queued e-mails to the configured SMTP server, retrying on failure."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText

from sqlalchemy import select, update

from reference_platform.context import PlatformContext
from reference_platform.storage.common import utcnow
from reference_platform.storage.front import Email
from reference_platform.workers import PollingWorker

log = logging.getLogger("reference_platform.mail")


class MailWorker(PollingWorker):
    name = "mail-sender"

    def __init__(self, ctx: PlatformContext) -> None:
        super().__init__(ctx.settings.mail_interval_seconds)
        self.ctx = ctx

    def run_once(self) -> int:
        now = utcnow()
        store = self.ctx.stores.front
        with store.read() as session:
            due = list(
                session.scalars(
                    select(Email)
                    .where(
                        Email.sent_at.is_(None),
                        Email.dropped.is_(False),
                        Email.bounced.is_(False),
                        Email.send_after <= now,
                    )
                    .order_by(Email.send_after)
                    .limit(50)
                )
            )
        if not due:
            return 0
        sent: list[int] = []
        bounced: list[int] = []
        try:
            with smtplib.SMTP(self.ctx.settings.smtp_host, self.ctx.settings.smtp_port, timeout=10) as smtp:
                for email in due:
                    try:
                        smtp.sendmail(self.ctx.settings.mail_from, [email.recipient], self._message(email))
                        sent.append(email.seq)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as refusal:
                        code = getattr(refusal, "smtp_code", 550)
                        if code < 500:
                            raise  # a temporary refusal: retried with the rest
                        # A permanent refusal (a dead mailbox) is final: it must not hold the queue.
                        log.info("e-mail %s to %s bounced: %s", email.seq, email.recipient, refusal)
                        bounced.append(email.seq)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP %s:%s unavailable: %s", self.ctx.settings.smtp_host, self.ctx.settings.smtp_port, exc)
        done = {*sent, *bounced}
        # At least once: a crash before this commit sends those e-mails again after restart.
        with store.write() as session:
            if sent:
                # Handed over: the body (reset links, their tokens) is not kept in the platform.
                session.execute(update(Email).where(Email.seq.in_(sent)).values(sent_at=utcnow(), body=""))
            if bounced:
                session.execute(update(Email).where(Email.seq.in_(bounced)).values(bounced=True, body=""))
            for email in (e for e in due if e.seq not in done):
                row = session.get(Email, email.seq)
                if row is not None:
                    row.attempts += 1
                    row.send_after = utcnow() + timedelta(seconds=min(2**row.attempts, 60))
        return len(done)

    def _message(self, email: Email) -> bytes:
        """The message as sent: text in UTF-8 (base64), the subject RFC 2047-encoded. Built with the
        ``email`` package's compat32 classes: ``EmailMessage`` and its header registry cost ten times
        as much per message, on the interpreter the requests share."""
        message = MIMEText(email.body, "plain", "utf-8")
        message["From"] = self.ctx.settings.mail_from
        message["To"] = email.recipient
        message["Subject"] = Header(email.subject, "utf-8").encode()
        message["Message-ID"] = f"<anef-{email.seq}-{int(email.created_at.timestamp())}@anef.invalid>"
        return message.as_bytes()
