"""The mailbox's SMTP side (aiosmtpd): accept mail into the store, bounce the bounce domains.

A share of the synthetic population has an e-mail address that bounces; the platform must
cope with a refused recipient, so those addresses are refused at RCPT time with 550, as a real
mail server refuses an unknown mailbox.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from synthetic_users.mailbox.message import read_message
from synthetic_users.mailbox.store import MessageStore
from synthetic_users.reference import BOUNCE_DOMAIN

logger = logging.getLogger(__name__)

DEFAULT_BOUNCE_DOMAINS = frozenset({BOUNCE_DOMAIN})  # the population's bouncing share
SERVER_NAME = "mailbox.anef-harness.test"  # a fixed name: aiosmtpd would otherwise resolve the FQDN per session


class MailboxHandler:
    """aiosmtpd handler: refuses bounce domains at RCPT, stores every accepted message."""

    def __init__(self, store: MessageStore, bounce_domains: Iterable[str] = DEFAULT_BOUNCE_DOMAINS) -> None:
        self.store = store
        self.bounce_domains = frozenset(d.lower().strip(".") for d in bounce_domains)

    def bounces(self, address: str) -> bool:
        """Whether ``address`` is in a bounce domain or one of its subdomains."""
        domain = address.rpartition("@")[2].lower().rstrip(".")
        return any(domain == d or domain.endswith(f".{d}") for d in self.bounce_domains)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.bounces(address):
            self.store.record_refusal()
            return f"550 5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""  # the bytes as received, whatever decode_data says
        try:
            message = read_message(raw, envelope_from=envelope.mail_from or "", recipients=envelope.rcpt_tos)
        except Exception:
            # One malformed e-mail must not take delivery down for everyone else: refuse it, say why in the log.
            logger.exception("mailbox: could not read a message from %s", envelope.mail_from)
            return "554 5.6.0 Message could not be parsed"
        self.store.add(message)
        return f"250 2.0.0 Ok: queued as {message.id}"


class SmtpServer(Controller):
    """aiosmtpd's threaded controller, serving on a socket bound beforehand.

    Binding first lets port 0 pick a free port (the controller alone would need a known port)
    and makes a taken port fail in the caller, before any thread starts.
    """

    def __init__(self, handler: MailboxHandler, sock: socket.socket, *, max_message_bytes: int) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(
            handler,
            hostname=host,
            port=port,
            server_hostname=SERVER_NAME,
            data_size_limit=max_message_bytes,
        )
        self._sock = sock

    def _create_server(self) -> Any:  # the extension point aiosmtpd documents for subclasses
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self._sock.close()
