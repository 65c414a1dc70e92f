"""Mailpit's search language, the part the harness needs (``internal/storage/search.go``).

A query is words separated by spaces (double quotes group a phrase); every word must match.
``to:``, ``from:``, ``cc:``, ``bcc:``, ``reply-to:``, ``addressed:``, ``subject:`` and
``message-id:`` match a substring of that field, ``is:read``/``is:unread``,
``has:attachment``/``has:inline``, ``larger:``/``smaller:`` (``10kb``, ``2m``) and ``tag:`` filter,
and any other word matches the headers and body text. A leading ``-`` or ``!`` negates a word.
Matching ignores case. Date filters (``after:``, ``before:``) are refused rather than ignored:
a silently wrong answer would look like a lost e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from synthetic_users.mailbox.message import StoredMessage, clean_search_text

_ALPHANUMERIC = re.compile(r"[a-zA-Z0-9]")
_SIZE = re.compile(r"^(\d+)(\.\d+)?\s?([a-z]{1,2})?$")
_UNSUPPORTED = ("after:", "before:")

Predicate = Callable[[StoredMessage, bool], bool]
"""Whether a message (and its read flag) matches one word of a query."""

_FIELDS: dict[str, Callable[[StoredMessage], str]] = {
    "to:": lambda m: m.search.to,
    "from:": lambda m: m.search.sender,
    "cc:": lambda m: m.search.cc,
    "bcc:": lambda m: m.search.bcc,
    "reply-to:": lambda m: m.search.reply_to,
    "message-id:": lambda m: m.search.message_id,
    "addressed:": lambda m: " ".join((m.search.to, m.search.sender, m.search.cc, m.search.bcc, m.search.reply_to)),
}

_FLAGS: dict[str, Predicate] = {
    "is:read": lambda m, read: read,
    "is:unread": lambda m, read: not read,
    "is:tagged": lambda m, read: False,  # the harness's mailbox keeps no tags
    "has:attachment": lambda m, read: m.attachments > 0,
    "has:attachments": lambda m, read: m.attachments > 0,
    "has:inline": lambda m, read: m.inline > 0,
    "has:inlines": lambda m, read: m.inline > 0,
}


class SearchError(ValueError):
    """The query uses a filter this mailbox does not implement."""


@dataclass(frozen=True)
class Query:
    """A parsed search: a message matches when every word does."""

    text: str
    words: tuple[Predicate, ...]

    def matches(self, message: StoredMessage, read: bool) -> bool:
        return all(word(message, read) for word in self.words)


def parse_query(text: str) -> Query:
    """Parse a Mailpit search string; raises :class:`SearchError` for unsupported filters."""
    words: list[Predicate] = []
    for arg in split_args(text):
        if not clean_search_text(arg):
            continue
        exclude = len(arg) > 1 and arg[0] in "-!"
        word = arg[1:] if exclude else arg
        if not _ALPHANUMERIC.search(word):
            continue
        predicate = _predicate(word)
        if predicate is not None:
            words.append(_negate(predicate) if exclude else predicate)
    return Query(text=text, words=tuple(words))


def split_args(text: str) -> list[str]:
    """Split on spaces outside double quotes, dropping the quotes (Mailpit's ArgsParser)."""
    args: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if current:
                args.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        args.append("".join(current))
    return args


def _predicate(word: str) -> Predicate | None:
    lower = word.lower()
    for prefix, field in _FIELDS.items():
        if lower.startswith(prefix):
            return _contains(field, clean_search_text(word[len(prefix) :]))
    if lower.startswith("subject:"):
        # Mailpit does not clean a subject term: "Re: (2)" keeps its punctuation.
        return _contains(lambda m: m.search.subject, lower[len("subject:") :])
    if lower.startswith("tag:"):
        return (lambda m, read: False) if lower[len("tag:") :] else None
    if lower in _FLAGS:
        return _FLAGS[lower]
    for prefix, larger in (("larger:", True), ("smaller:", False)):
        size = _size(lower[len(prefix) :]) if lower.startswith(prefix) else 0
        if size > 0:
            return _size_filter(size, larger=larger)
    if lower.startswith(_UNSUPPORTED):
        raise SearchError(f"unsupported search filter {word.split(':', 1)[0]}: (date filters are not implemented)")
    needle = clean_search_text(word)
    return lambda m, read: needle in m.search.text


def _contains(field: Callable[[StoredMessage], str], needle: str) -> Predicate | None:
    if not needle:
        return None
    return lambda m, read: needle in field(m)


def _negate(predicate: Predicate) -> Predicate:
    return lambda m, read: not predicate(m, read)


def _size_filter(size: int, *, larger: bool) -> Predicate:
    return (lambda m, read: m.size > size) if larger else (lambda m, read: m.size < size)


def _size(value: str) -> int:
    """Bytes from ``2048``, ``10kb``, ``1.5m`` … (0 when not a size)."""
    found = _SIZE.match(value.strip())
    if found is None:
        return 0
    number = float(found.group(1) + (found.group(2) or ""))
    unit = found.group(3) or ""
    factors = {"": 1, "k": 1024, "kb": 1024, "m": 1024 * 1024, "mb": 1024 * 1024}
    return int(number * factors[unit]) if unit in factors else 0
