"""Reading the platform's YAML files (fault profiles) strictly, with one-line errors.

A key given twice in one mapping is an error (PyYAML keeps the last one silently). The harness
applies the same rule to its own files (``synthetic_users/yamlfile.py``); the platform keeps its
own copy because it imports no harness package.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from reference_platform.errors import ConfigError

Loc = tuple[str | int, ...]


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A key given twice in the same mapping, at ``path`` (its field path from the document's root)."""

    def __init__(self, path: Loc, key: yaml.Node, first: yaml.Node) -> None:
        super().__init__(problem=f"duplicate key {key.value!r}", problem_mark=key.start_mark)
        self.path = path
        self.line = key.start_mark.line + 1
        self.first_line = first.start_mark.line + 1


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

    def construct_document(self, node: yaml.Node) -> Any:
        for path, mapping in _walk(node):
            seen: dict[tuple[str, str], yaml.Node] = {}
            for key, _value in mapping.value if isinstance(mapping, yaml.MappingNode) else ():
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    first = seen.setdefault((key.tag, key.value), key)
                    if first is not key:
                        raise DuplicateKeyError((*path, key.value), key, first)
        return super().construct_document(node)

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date that does not exist (``2026-02-30``) stays text, so the field expecting a date names it."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_lenient_timestamp)


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
            stack.extend(reversed([((*path, str(key.value)), value) for key, value in node.value]))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed([((*path, number), item) for number, item in enumerate(node.value)]))


def load(path: Path, raw: bytes) -> tuple[Any, yaml.Node | None]:
    """The document of a file's bytes and its node tree (for line numbers); ``ConfigError`` naming
    the file and the line for bytes that are not UTF-8, invalid YAML and duplicate keys."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            str(path),
            f"expected UTF-8 text, got byte 0x{raw[exc.start]:02x} at line {line}, column {column} "
            "(save the file as UTF-8)",
        ) from None
    try:
        data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except DuplicateKeyError as exc:
        raise ConfigError(
            f"{path}:{exc.line}",
            f"{dotted(exc.path)}: given twice in the same mapping (first at line {exc.first_line}); "
            "YAML would keep only the last one: remove or rename one of them",
        ) from None
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(
            f"{path}:{text.count(chr(10), 0, exc.position) + 1}",
            f"not valid YAML: character U+{code:04X} is not allowed in YAML (a binary file?)",
        ) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).replace("\n", " ")
        mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if "end of stream" in problem and context_mark is not None:
            mark = context_mark  # an unclosed quote or bracket: where it was opened, not the file's end
        if "'\\t'" in problem:
            problem += " (indent with spaces: YAML does not allow tabs)"
        if context and context_mark is not None:
            problem += f" ({context} at line {context_mark.line + 1})"
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(where, f"not valid YAML: {problem}") from None
    return data, yaml.compose(text, Loader=yaml.SafeLoader)


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The line (from 1) of the deepest key or item of ``loc`` found under ``node``."""
    best: yaml.Node | None = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if pair is None:
                break
            best, node = pair
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            best = node = node.value[part]
        else:
            break
    return best.start_mark.line + 1 if best is not None else None


def dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)
