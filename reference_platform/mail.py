"""The mail worker: hands queued e-mails to the configured SMTP server, retrying on failure.

It runs in a process of its own by default (``python -m reference_platform.mail``, started and
stopped by the app's lifespan, ended with the platform's process): it reads and writes only the
front office's e-mail table, draws no fault, and its work (building each message, four SMTP round
trips) would otherwise compete with the requests for one interpreter.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import smtplib
import subprocess
import sys
from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText

from sqlalchemy import select, update

from core.processes import die_with_parent
from reference_platform.settings import Settings
from reference_platform.storage.common import utcnow
from reference_platform.storage.db import Store, open_stores
from reference_platform.storage.front import Email
from reference_platform.workers import PollingWorker

log = logging.getLogger("reference_platform.mail")

SECRETS = {"admin_token", "secret_key"}  # the sender needs neither; they never reach its command line


class MailWorker(PollingWorker):
    name = "mail-sender"

    def __init__(self, settings: Settings, store: Store) -> None:
        super().__init__(settings.mail_interval_seconds)
        self.settings = settings
        self.store = store

    def run_once(self) -> int:
        now = utcnow()
        store = self.store
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
            with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=10) as smtp:
                for email in due:
                    try:
                        smtp.sendmail(self.settings.mail_from, [email.recipient], self._message(email))
                        sent.append(email.seq)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as refusal:
                        code = getattr(refusal, "smtp_code", 550)
                        if code < 500:
                            raise  # a temporary refusal: retried with the rest
                        # A permanent refusal (a dead mailbox) is final: it must not hold the queue.
                        log.info("e-mail %s to %s bounced: %s", email.seq, email.recipient, refusal)
                        bounced.append(email.seq)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP %s:%s unavailable: %s", self.settings.smtp_host, self.settings.smtp_port, exc)
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
        as much per message."""
        message = MIMEText(email.body, "plain", "utf-8")
        message["From"] = self.settings.mail_from
        message["To"] = email.recipient
        message["Subject"] = Header(email.subject, "utf-8").encode()
        message["Message-ID"] = f"<anef-{email.seq}-{int(email.created_at.timestamp())}@anef.invalid>"
        return message.as_bytes()


class MailProcess:
    """The mail worker in a child process: started with the app, stopped (SIGTERM) with it, and
    killed by the kernel if the platform's process dies first."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        settings = self.settings.model_dump_json(exclude=SECRETS)
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "reference_platform.mail", settings],
            preexec_fn=die_with_parent,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def main(argv: list[str] | None = None) -> None:
    """``python -m reference_platform.mail SETTINGS_JSON``: send the platform's e-mails until
    SIGTERM (or SIGINT); the pass under way ends first."""
    args = sys.argv[1:] if argv is None else argv
    settings = Settings.model_validate(json.loads(args[0]))
    stores = open_stores(settings)
    worker = MailWorker(settings, stores.front)
    ending = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, ending)  # the worker's thread inherits the mask
    worker.start()
    try:
        signal.sigwait(ending)
    finally:
        worker.stop()
        stores.dispose()


if __name__ == "__main__":
    main()
