"""One received e-mail: what the mailbox keeps of it, and how it is read from the wire.

The fields mirror what Mailpit derives from a message (``internal/storage/messages.go``,
``server/smtpd/smtpd.go`` in axllent/mailpit), so the API can answer with the same values:
envelope recipients missing from the headers are listed as Bcc, ``Return-Path`` comes from the
envelope sender, a missing ``Message-ID`` is generated, and the snippet is the first 200
characters of the HTML (stripped) or else of the text body.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

SNIPPET_LENGTH = 200
_ID_ALPHABET = string.ascii_letters + string.digits
_TAG = re.compile(r"<[^>]*>")
_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")
_SEARCH_PUNCTUATION = re.compile(r"[\r\n\t<>\",;()]")


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox in a header: display name and address, as Mailpit's ``{Name, Address}``."""

    name: str
    address: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attached or inline part, described without its content."""

    part_id: str
    file_name: str
    content_type: str
    content_id: str
    size: int
    md5: str
    sha1: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Body:
    """What is read from the raw message only when one message is opened."""

    date: datetime
    text: str
    html: str
    inline: tuple[Attachment, ...]
    attachments: tuple[Attachment, ...]
    list_unsubscribe: str  # the List-Unsubscribe header, as sent
    list_unsubscribe_post: str


@dataclass(frozen=True, slots=True)
class Haystack:
    """Lowercase text each search filter runs on (Mailpit's metadata columns and SearchText)."""

    sender: str
    to: str
    cc: str
    bcc: str
    reply_to: str
    subject: str
    message_id: str
    text: str

    def __len__(self) -> int:
        parts = (self.sender, self.to, self.cc, self.bcc, self.reply_to, self.subject, self.message_id, self.text)
        return sum(len(part) for part in parts)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A received message: its summary, the lowercase text searches run on, and the raw bytes."""

    id: str
    message_id: str
    created: datetime
    envelope_from: str
    recipients: tuple[str, ...]  # envelope recipients, lowercase: the keys of the per-recipient index
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    return_path: str
    subject: str
    attachments: int
    inline: int
    snippet: str
    search: Haystack
    raw: bytes

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def footprint(self) -> int:
        """Approximate bytes held in memory, for the store's byte budget."""
        return len(self.raw) + len(self.search) + len(self.snippet) + 1024

    def body(self) -> Body:
        """Parse the raw message again for its bodies and parts (only a detail view needs them)."""
        message = _parse(self.raw)
        header = message.get("Date")
        date = getattr(header, "datetime", None) if header is not None else None
        if not isinstance(date, datetime):
            date = self.created
        elif date.tzinfo is None:
            date = date.replace(tzinfo=UTC)  # "-0000": the zone is unknown; Go reads it as UTC
        text, html_body = _bodies(message)
        inline, attached = _parts(message)
        return Body(
            date=date,
            text=text,
            html=html_body,
            inline=inline,
            attachments=attached,
            list_unsubscribe=str(message.get("List-Unsubscribe", "")),
            list_unsubscribe_post=str(message.get("List-Unsubscribe-Post", "")),
        )


def new_id() -> str:
    """A 22-character alphanumeric id, like Mailpit's short UUIDs."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def read_message(
    raw: bytes, *, envelope_from: str, recipients: Sequence[str], received: datetime | None = None
) -> StoredMessage:
    """Build the stored form of a message received over SMTP."""
    message = _parse(raw)
    message_id = str(message.get("Message-ID", "")).strip().strip("<>").strip()
    ident = new_id()
    prefix = ""
    if not message_id:
        message_id = f"{ident}@mailpit"
        prefix += f"Message-Id: <{message_id}>\r\n"
    header_return_path = str(message.get("Return-Path", "")).strip().strip("<>")
    if not header_return_path and envelope_from:
        prefix += f"Return-Path: <{envelope_from}>\r\n"

    # policy.default parses a header on every read: read each one once.
    from_header = message.get("From")
    senders = _addresses(from_header)
    sender = senders[0] if senders else Address(name=str(from_header or ""), address="")
    to, cc, bcc = _addresses(message.get("To")), _addresses(message.get("Cc")), _addresses(message.get("Bcc"))
    listed = {a.address.lower() for a in (*to, *cc, *bcc)}
    # Mailpit lists envelope recipients that no header names as Bcc, so a search finds them.
    bcc += tuple(Address(name="", address=r) for r in recipients if r.lower() not in listed)
    reply_to = _addresses(message.get("Reply-To"))
    subject = str(message.get("Subject", ""))
    text, html_body = _bodies(message)
    inline, attached = _parts(message)
    stripped_html = html_to_text(html_body) if html_body else ""

    searchable = [
        str(from_header or ""),
        subject,
        *(_format(group) for group in (to, cc, bcc, reply_to)),
        header_return_path or envelope_from,
        stripped_html or text,
        *(a.file_name for a in attached),
    ]
    return StoredMessage(
        id=ident,
        message_id=message_id,
        created=received or datetime.now(UTC),
        envelope_from=envelope_from,
        recipients=tuple(dict.fromkeys(r.lower() for r in recipients)),
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        return_path=header_return_path or envelope_from or sender.address,
        subject=subject,
        attachments=len(attached),
        inline=len(inline),
        snippet=_snippet(text, stripped_html),
        search=Haystack(
            sender=_format((sender,)).lower(),
            to=_format(to).lower(),
            cc=_format(cc).lower(),
            bcc=_format(bcc).lower(),
            reply_to=_format(reply_to).lower(),
            subject=subject.lower(),
            message_id=message_id.lower(),
            text=clean_search_text(" ".join(searchable)),
        ),
        raw=prefix.encode() + raw,
    )


def clean_search_text(value: str) -> str:
    """Lowercase, punctuation of address lists removed, spaces collapsed (Mailpit's cleanString)."""
    return " ".join(_SEARCH_PUNCTUATION.sub(" ", value.replace("\ufeff", " ")).split()).lower()


def html_to_text(markup: str) -> str:
    """The visible text of an HTML body, on one line."""
    visible = _TAG.sub(" ", _HIDDEN.sub(" ", markup))
    return _SPACES.sub(" ", html.unescape(visible)).strip()


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default always builds EmailMessage
    return message


def _addresses(header: object) -> tuple[Address, ...]:
    found = getattr(header, "addresses", ()) if header is not None else ()
    return tuple(Address(name=a.display_name or "", address=a.addr_spec or "") for a in found)


def _format(addresses: tuple[Address, ...]) -> str:
    return " ".join(f"{a.name} {a.address}" for a in addresses)


def _bodies(message: EmailMessage) -> tuple[str, str]:
    if not message.is_multipart() and message.get_content_disposition() != "attachment":
        # The common case (one text part): get_body would parse the same headers several times.
        kind = message.get_content_type()
        if kind == "text/html":
            return html_to_text(content := _content(message)), content
        return (_content(message) if kind == "text/plain" else ""), ""
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    text = _content(plain) if plain is not None else ""
    html_body = _content(rich) if rich is not None else ""
    if not text and html_body:
        text = html_to_text(html_body)  # as enmime does for HTML-only messages
    return text, html_body


def _content(part: Message) -> str:
    """A text part's content, decoded leniently (a wrong charset must not lose the message)."""
    # Cheaper than EmailMessage.get_content, which re-parses Content-Type several times.
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        content = payload.decode(charset, errors="replace")
    except LookupError:
        content = payload.decode("utf-8", errors="replace")
    return content.replace("\r\n", "\n")  # SMTP's line endings are transport, not content


def _snippet(text: str, stripped_html: str) -> str:
    source = stripped_html or _SPACES.sub(" ", text.replace("\ufeff", " ")).strip()
    return source if len(source) <= SNIPPET_LENGTH else source[:SNIPPET_LENGTH] + "..."


def _parts(message: EmailMessage) -> tuple[tuple[Attachment, ...], tuple[Attachment, ...]]:
    if not message.is_multipart() and message.get("Content-Disposition") is None:
        return (), ()  # a single body part: nothing attached
    inline: list[Attachment] = []
    attached: list[Attachment] = []
    for part_id, part in _leaves(message, ""):
        disposition = part.get_content_disposition()
        file_name = part.get_filename() or ""
        content_id = str(part.get("Content-ID", "")).strip().strip("<>")
        if disposition == "attachment":
            attached.append(_describe(part, part_id, file_name, content_id))
        elif file_name or content_id:
            inline.append(_describe(part, part_id, file_name, content_id))
    return tuple(inline), tuple(attached)


def _leaves(part: Message, part_id: str) -> Iterator[tuple[str, Message]]:
    """Non-multipart parts with enmime-style ids: "1", "2", "1.2" …"""
    if not part.is_multipart() or part.get_content_maintype() == "message":  # an attached e-mail is one part
        yield part_id or "1", part
        return
    children = part.get_payload()
    assert isinstance(children, list)
    for index, child in enumerate(children, start=1):
        yield from _leaves(child, f"{part_id}.{index}" if part_id else str(index))


def _describe(part: Message, part_id: str, file_name: str, content_id: str) -> Attachment:
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    return Attachment(
        part_id=part_id,
        file_name=file_name or content_id,
        content_type=part.get_content_type(),
        content_id=content_id,
        size=len(content),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        sha1=hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
    )
