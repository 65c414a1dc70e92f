"""The generic registry of things users name in YAML (faults, journeys, shapes, detectors, drills,
personas, benchmark parts): a decorator, a duplicate check and "did you mean" in one place."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, Generic, TypeVar

from core.errors import UnknownName

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


def suggest(word: str, choices: Collection[str], *, listed: int = 25) -> str:
    """ "; did you mean 'x'?" for a close choice (the same word in another case first), else the
    choices when there are few enough to list, else nothing."""
    names = list(choices)
    same = [choice for choice in names if choice.casefold() == word.casefold()]
    close = same or difflib.get_close_matches(word, names, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    if names and len(names) <= listed:
        return f"; expected one of {', '.join(names)}"
    return ""


class Registry(Mapping[str, T], Generic[T]):
    """Named entries of one kind. ``what`` is how errors name the kind ("journey", "fault id")."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``; a name registered twice is a programming error."""
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} registered twice")
        self._entries[name] = entry
        return entry

    def register(self, build: Callable[[F], T]) -> Callable[[F], F]:
        """A decorator that registers ``build(function)`` under the function's name."""

        def decorate(function: F) -> F:
            self.add(function.__name__, build(function))
            return function

        return decorate

    def remove(self, name: str) -> None:
        """Forget ``name`` if held: for a test's throwaway entry, or a module re-registering its own."""
        self._entries.pop(name, None)

    def order_by(self, key: Callable[[T], Any]) -> None:
        """Put the entries in ``key`` order (stable): an order that does not depend on which module
        happened to be imported first."""
        self._entries = dict(sorted(self._entries.items(), key=lambda item: key(item[1])))

    def get_or_fail(self, name: str) -> T:
        """The entry named ``name``; ``UnknownName`` (with "did you mean") when there is none."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(self.what, name, self.hint(name)) from None

    def hint(self, name: str) -> str:
        """ "; did you mean …?" (or the names held) for a name this registry does not hold."""
        return suggest(name, sorted(self._entries))

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {sorted(self._entries)})"
