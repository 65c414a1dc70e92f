"""Reading an upload form only once the caller is known to own the dossier.

FastAPI parses ``File``/``Form`` parameters before any dependency runs, so a route declaring them
would read (and spool to disk) a whole file before learning that the dossier is not the caller's.
Upload routes therefore declare no body parameters: they check ownership first, then read the
form here. The guard (``api.guard``) has already capped the body's size.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any

from anyio import from_thread
from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser

from reference_platform.errors import InvalidInput

KIND_MAX_LENGTH = 40
MULTIPART_ALLOWANCE = 64 * 1024  # the form's framing and other fields around the file

# The form as the OpenAPI schema documents it (the route declares no body parameter).
UPLOAD_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "file"],
                    "properties": {
                        "kind": {"type": "string", "maxLength": KIND_MAX_LENGTH},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@dataclass(frozen=True)
class UploadForm:
    kind: str
    filename: str
    content: bytes
    csrf: str  # the pages' form carries its CSRF token; "" when absent


async def _parse(request: Request, max_bytes: int) -> FormData:
    """The multipart form, held in memory (the guard bounds it): Starlette would spool a file over
    1 MiB to a temporary file, writing to disk what may still be refused."""
    content_type, _ = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":  # a form without a file: its fields are checked below
        return await request.form(max_files=1, max_fields=8)
    async with aclosing(request.stream()) as stream:
        parser = MultiPartParser(request.headers, stream, max_files=1, max_fields=8)
        parser.spool_max_size = max_bytes + MULTIPART_ALLOWANCE
        return await parser.parse()


async def read_form(request: Request, max_bytes: int) -> UploadForm:
    """The form's ``kind`` and ``file`` (at most ``max_bytes + 1`` bytes read, so the size check
    can tell "too large"), read on the event loop: no worker thread waits while the body arrives."""
    try:
        form = await _parse(request, max_bytes)
    except InvalidInput:
        raise
    except Exception:  # python-multipart's and Starlette's parse errors have no common base
        raise InvalidInput("body", "body: unreadable (a malformed multipart form)", code="invalid_input") from None
    try:
        kind = form.get("kind")
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput("body.file", "body.file: Field required", code="invalid_input")
        if not isinstance(kind, str):
            raise InvalidInput("body.kind", "body.kind: Field required", code="invalid_input")
        if len(kind) > KIND_MAX_LENGTH or "\x00" in kind:
            raise InvalidInput(
                "body.kind", f"body.kind: at most {KIND_MAX_LENGTH} characters, no NUL", code="invalid_input"
            )
        csrf = form.get("csrf")
        content = file.file.read(max_bytes + 1)  # held in memory (``_parse``): no disk read
        return UploadForm(kind, file.filename or "piece", content, csrf if isinstance(csrf, str) else "")
    finally:
        await form.close()


def read_upload_form(request: Request, max_bytes: int) -> UploadForm:
    """``read_form`` for a route running in the thread pool (the pages' form)."""
    return from_thread.run(partial(read_form, request, max_bytes))
