"""The mailbox's HTTP API: a faithful subset of Mailpit's API v1, so a real Mailpit can stand in.

Shapes and behaviour follow axllent/mailpit: ``server/apiv1/messages.go`` (list, search,
delete), ``server/apiv1/api.go`` (one message, raw source, ``latest``), ``server/apiv1/other.go``
(``start``/``limit`` parsing, the plain-text 400 and 404 answers) and
``internal/storage/structs.go`` (field names). Field names are Mailpit's, hence PascalCase.

Implemented: ``GET /api/v1/messages``, ``GET /api/v1/search``, ``GET /api/v1/message/{ID}``
(``latest`` too; opening marks it read), ``GET /api/v1/message/{ID}/raw`` and
``DELETE /api/v1/messages``. One deliberate difference: Mailpit deletes *every* message when the
DELETE body is not valid JSON; this mailbox answers 400 instead.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from core.net import host_of, is_loopback
from synthetic_users.mailbox.message import Address, Attachment, StoredMessage
from synthetic_users.mailbox.search import SearchError, parse_query
from synthetic_users.mailbox.store import MessageStore, Page

DEFAULT_LIMIT = 50
_LINK = re.compile(r"<([^>]+)>")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailAddress(_Model):
    Name: str
    Address: str


class MessageSummary(_Model):
    ID: str
    MessageID: str
    Read: bool
    From: MailAddress
    To: list[MailAddress]
    Cc: list[MailAddress]
    Bcc: list[MailAddress]
    ReplyTo: list[MailAddress]
    Subject: str
    Created: str
    Username: str
    Tags: list[str]
    Size: int
    Attachments: int
    Snippet: str


class MessagesSummary(_Model):
    total: int
    unread: int
    count: int  # Mailpit's legacy field: the number of messages on this page
    messages_count: int
    messages_unread: int
    start: int
    tags: list[str]
    messages: list[MessageSummary]


class Checksums(_Model):
    MD5: str
    SHA1: str
    SHA256: str


class AttachmentInfo(_Model):
    PartID: str
    FileName: str
    ContentType: str
    ContentID: str
    Size: int
    Checksums: Checksums


class ListUnsubscribe(_Model):
    Header: str
    Links: list[str]
    Errors: str
    HeaderPost: str


class Message(_Model):
    ID: str
    MessageID: str
    From: MailAddress
    To: list[MailAddress]
    Cc: list[MailAddress]
    Bcc: list[MailAddress]
    ReplyTo: list[MailAddress]
    ReturnPath: str
    Subject: str
    ListUnsubscribe: ListUnsubscribe
    Date: str
    Tags: list[str]
    Username: str
    Text: str
    HTML: str
    Size: int
    Inline: list[AttachmentInfo]
    Attachments: list[AttachmentInfo]


class DeleteRequest(BaseModel):
    # Unknown fields are ignored, as Go's JSON decoder does in Mailpit: a Mailpit client must work as is.
    model_config = ConfigDict(extra="ignore", frozen=True)

    IDs: list[str] = []


def create_app(store: MessageStore, *, any_host: bool = False) -> FastAPI:
    """The API over ``store``; nothing is shared between apps. Unless it listens beyond loopback
    (``any_host``, by explicit consent), it answers only to loopback names: the mailbox holds reset
    links, and a web page must not read it through DNS rebinding."""
    app = FastAPI(title="anef-harness mailbox (Mailpit API v1 subset)", version="1")

    @app.middleware("http")
    async def _loopback_hosts(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not any_host and not is_loopback(host_of(request.headers.get("host", ""))):
            return PlainTextResponse("Host not allowed\n", status_code=400)
        return await call_next(request)

    @app.get("/api/v1/messages", response_model=MessagesSummary)
    def list_messages(start: str | None = None, limit: str | None = None) -> MessagesSummary:
        first, count = _start_limit(start, limit)
        # Mailpit lists everything when limit is 0.
        return _summaries(store.page(start=first, limit=count or None), first)

    @app.get("/api/v1/search", response_model=MessagesSummary)
    def search(query: str = "", start: str | None = None, limit: str | None = None) -> MessagesSummary | Response:
        if not query.strip():
            return _bad_request("Error: no search query")
        try:
            parsed = parse_query(query.strip())
        except SearchError as exc:
            return _bad_request(str(exc))
        first, count = _start_limit(start, limit)
        return _summaries(store.search(parsed, start=first, limit=count), first)

    @app.get("/api/v1/message/{message_id}", response_model=Message)
    def get_message(message_id: str, query: str = "") -> Message | Response:
        found = _find(store, message_id, query)
        if isinstance(found, Response):
            return found
        store.mark_read(found.id)
        return _message(found)

    @app.get("/api/v1/message/{message_id}/raw", response_class=PlainTextResponse)
    def get_raw(message_id: str, query: str = "") -> Response:
        found = _find(store, message_id, query)
        if isinstance(found, Response):
            return found
        return Response(found.raw, media_type="text/plain; charset=utf-8")

    @app.delete("/api/v1/messages", response_class=PlainTextResponse)
    async def delete_messages(request: Request) -> Response:
        body = await request.body()
        try:
            ids = DeleteRequest.model_validate_json(body).IDs if body.strip() else []
        except ValidationError:
            return _bad_request('expected a JSON body {"IDs": ["…"]}, or no body to delete every message')
        store.delete(ids or None)
        return PlainTextResponse("ok")

    return app


def _start_limit(start: str | None, limit: str | None) -> tuple[int, int]:
    """Mailpit's lenient parsing: anything not a valid number falls back to 0 and 50."""
    first = _integer(start)
    count = _integer(limit)
    return (first if first is not None and first > 0 else 0), (count if count is not None and count > -1 else 50)


def _integer(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _find(store: MessageStore, message_id: str, query: str) -> StoredMessage | Response:
    if message_id == "latest":
        try:
            found = store.latest(parse_query(query) if query.strip() else None)
        except SearchError as exc:
            return _bad_request(str(exc))
        return found if found is not None else PlainTextResponse("Message not found", status_code=404)
    message = store.get(message_id)
    return message if message is not None else PlainTextResponse("404 page not found", status_code=404)


def _bad_request(message: str) -> Response:
    return PlainTextResponse(message, status_code=400)


def _summaries(page: Page, start: int) -> MessagesSummary:
    return MessagesSummary(
        total=page.total,
        unread=page.unread,
        count=len(page.messages),
        messages_count=page.matched,
        messages_unread=page.matched_unread,
        start=start,
        tags=[],
        messages=[_summary(m, m.id in page.read) for m in page.messages],
    )


def _summary(message: StoredMessage, read: bool) -> MessageSummary:
    return MessageSummary(
        ID=message.id,
        MessageID=message.message_id,
        Read=read,
        From=_address(message.sender),
        To=[_address(a) for a in message.to],
        Cc=[_address(a) for a in message.cc],
        Bcc=[_address(a) for a in message.bcc],
        ReplyTo=[_address(a) for a in message.reply_to],
        Subject=message.subject,
        Created=_timestamp(message.created),
        Username="",
        Tags=[],
        Size=message.size,
        Attachments=message.attachments,
        Snippet=message.snippet,
    )


def _message(message: StoredMessage) -> Message:
    body = message.body()
    return Message(
        ID=message.id,
        MessageID=message.message_id,
        From=_address(message.sender),
        To=[_address(a) for a in message.to],
        Cc=[_address(a) for a in message.cc],
        Bcc=[_address(a) for a in message.bcc],
        ReplyTo=[_address(a) for a in message.reply_to],
        ReturnPath=message.return_path,
        Subject=message.subject,
        ListUnsubscribe=ListUnsubscribe(
            Header=body.list_unsubscribe,
            Links=_LINK.findall(body.list_unsubscribe),
            Errors="",
            HeaderPost=body.list_unsubscribe_post,
        ),
        Date=_timestamp(body.date),
        Tags=[],
        Username="",
        Text=body.text,
        HTML=body.html,
        Size=message.size,
        Inline=[_attachment(a) for a in body.inline],
        Attachments=[_attachment(a) for a in body.attachments],
    )


def _address(address: Address) -> MailAddress:
    return MailAddress(Name=address.name, Address=address.address)


def _attachment(part: Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        PartID=part.part_id,
        FileName=part.file_name,
        ContentType=part.content_type,
        ContentID=part.content_id,
        Size=part.size,
        Checksums=Checksums(MD5=part.md5, SHA1=part.sha1, SHA256=part.sha256),
    )


def _timestamp(moment: datetime) -> str:
    """RFC 3339 as Go writes a ``time.Time`` (RFC3339Nano): milliseconds, trailing zeros dropped, ``Z``."""
    whole = moment.replace(microsecond=0).isoformat()  # YYYY-MM-DDTHH:MM:SS then the offset
    fraction = f"{moment.microsecond // 1000:03d}".rstrip("0")
    offset = whole[19:] or "Z"  # a naive time is read as UTC, as Go does
    return whole[:19] + (f".{fraction}" if fraction else "") + ("Z" if offset == "+00:00" else offset)
