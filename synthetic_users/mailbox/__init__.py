"""The harness's mailbox: an SMTP server and a Mailpit-compatible HTTP API over one store.

The platform sends its e-mails here; probes find them by recipient (``to:`` searches, or
``MessageStore.wait_for`` in-process). A real Mailpit can replace it: the API is a subset of
Mailpit's API v1 with the same field names. Owns received mail only; judges nothing.
"""

from __future__ import annotations

from synthetic_users.mailbox.message import StoredMessage
from synthetic_users.mailbox.server import MailboxServer, MailboxSettings
from synthetic_users.mailbox.store import MessageStore

__all__ = ["MailboxServer", "MailboxSettings", "MessageStore", "StoredMessage"]
