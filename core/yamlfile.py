"""Reading the YAML files people write (campaigns, population specs, fault profiles, SLO files).

Strict where PyYAML is lenient: a key given twice in one mapping is an error (PyYAML keeps the
last one silently, so a forgotten line wins over the one the author is editing). Every problem
is one ``ConfigError`` naming the file and, when known, the line: undecodable bytes, invalid
YAML, duplicate keys. What the data must contain is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml

from core.errors import ConfigError

Loc = tuple[str | int, ...]


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A key given twice in the same mapping. ``path`` is the key's field path from the root of
    its document (``document``, from 0, in a stream of several)."""

    def __init__(self, path: Loc, key: yaml.Node, first: yaml.Node, document: int) -> None:
        super().__init__(problem=f"duplicate key {key.value!r}", problem_mark=key.start_mark)
        self.path = path
        self.line = key.start_mark.line + 1
        self.first_line = first.start_mark.line + 1
        self.document = document

    @property
    def explanation(self) -> str:
        return (
            f"given twice in the same mapping (first at line {self.first_line}); "
            "YAML would keep only the last one: remove or rename one of them"
        )


class SafeDatesLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` where a date that does not exist (``2026-02-30``) stays text, so that
    the field expecting a date names it (PyYAML raises a bare ``ValueError``)."""

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


SafeDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", SafeDatesLoader.construct_lenient_timestamp)


class StrictLoader(SafeDatesLoader):
    """``SafeDatesLoader`` that also refuses a key given twice in one mapping."""

    documents_read = 0

    def construct_document(self, node: yaml.Node) -> Any:
        duplicate = find_duplicate_key(node)
        if duplicate is not None:
            path, key, first = duplicate
            raise DuplicateKeyError(path, key, first, self.documents_read)
        self.documents_read += 1
        return super().construct_document(node)


def find_duplicate_key(root: yaml.Node) -> tuple[Loc, yaml.Node, yaml.Node] | None:
    """The first key given twice in a mapping of ``root``: (its field path, its node, the first one's)."""
    for path, node in _walk(root):
        if not isinstance(node, yaml.MappingNode):
            continue
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault((key.tag, key.value), key)
            if first is not key:
                return (*path, key.value), key, first
    return None


def _walk(root: yaml.Node) -> Iterator[tuple[Loc, yaml.Node]]:
    """Every node with its field path, depth first; an aliased node once (aliases may form cycles)."""
    stack: list[tuple[Loc, yaml.Node]] = [((), root)]
    visited: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        yield path, node
        if isinstance(node, yaml.MappingNode):
            children = [((*path, str(key.value)), value) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [((*path, number), item) for number, item in enumerate(node.value)]
        else:
            children = []
        stack.extend(reversed(children))


def read_text(path: Path, raw: bytes | None = None) -> str:
    """The file (or its bytes ``raw``) as UTF-8 text; a file that cannot be read or decoded is one
    ``ConfigError``."""
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(str(path), f"cannot read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            str(path),
            f"expected UTF-8 text, got byte 0x{raw[exc.start]:02x} at line {line}, column {column} "
            "(save the file as UTF-8)",
        ) from None


def load(path: Path, text: str | None = None) -> Any:
    """The one YAML document of a file (``None`` when it is empty), strictly read."""
    source = read_text(path) if text is None else text
    try:
        return yaml.load(source, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        fail(path, exc, source)


def load_with_node(path: Path, raw: bytes) -> tuple[Any, yaml.Node | None]:
    """The document of a file's bytes and its node tree (for ``line_of``), strictly read."""
    text = read_text(path, raw)
    return load(path, text), compose(text)


def load_all(path: Path, text: str | None = None) -> list[Any]:
    """Every YAML document of a file (``---`` separated), strictly read."""
    source = read_text(path) if text is None else text
    try:
        return list(yaml.load_all(source, Loader=StrictLoader))
    except yaml.YAMLError as exc:
        fail(path, exc, source)


def fail(path: Path, exc: yaml.YAMLError, text: str = "") -> NoReturn:
    """A YAML error as one line: ``FILE:LINE: field.path: …`` for a duplicate key, else
    ``FILE:LINE: not valid YAML: …`` with what the parser was doing and where it started."""
    if isinstance(exc, DuplicateKeyError):
        raise ConfigError(f"{path}:{exc.line}", f"{dotted(exc.path)}: {exc.explanation}") from None
    raise ConfigError(*syntax_problem(str(path), exc, text)) from None


def syntax_problem(source: str, exc: yaml.YAMLError, text: str = "") -> tuple[str, str]:
    """(``FILE:LINE``, what is wrong) for a YAML syntax error (``text``: the file, for the line of
    a character YAML does not allow)."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"{source}:{line}", f"not valid YAML: character U+{code:04X} is not allowed in YAML (a binary file?)"
    problem = getattr(exc, "problem", None) or str(exc).replace("\n", " ")
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if "end of stream" in problem and context_mark is not None:
        mark = context_mark  # an unclosed quote or bracket: where it was opened, not the file's end
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    if "'\\t'" in problem:
        problem += " (indent with spaces: YAML does not allow tabs)"
    if context and context_mark is not None:
        problem += f" ({context} at line {context_mark.line + 1})"
    return where, f"not valid YAML: {problem}"


def compose(text: str) -> yaml.Node | None:
    """The node tree of a document (for line numbers), or ``None`` if it cannot be parsed."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def compose_all(text: str) -> list[yaml.Node]:
    """The node tree of every document of a stream (for line numbers); the text must be valid YAML."""
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The line (from 1) of the deepest key or item of ``loc`` found under ``node`` (a field
    missing from the file: its parent's line; ``None`` when not even the first part is there)."""
    best: yaml.Node | None = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            key = next((k for k, _ in node.value if getattr(k, "value", None) == str(part)), None)
            if key is None:
                break
            best, node = key, next(v for k, v in node.value if k is key)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            best = node = node.value[part]
        else:
            break
    return best.start_mark.line + 1 if best is not None else None


def dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)
