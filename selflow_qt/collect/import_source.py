"""What an import source is, and the registry the sources add themselves to.

Each source module (import_jsonl, import_shell, import_aw) registers its kind here when it is
imported; ``collect.importers`` looks kinds up without the sources importing it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from selflow_qt.core.event import Event


class ImportFormatError(ValueError):
    """A malformed input: names the file (or URL), the line and, in JSON documents, the path."""

    def __init__(
        self, source: str, line: int | None, message: str, where: str | None = None
    ) -> None:
        self.source = str(source)
        self.line = line
        self.message = message
        self.where = where
        super().__init__(self.location() + ": " + (f"{where}: " if where else "") + message)

    def location(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"


Record = Event | ImportFormatError


class ImportSource(Protocol):
    """An input that can be read twice; ``name`` is what error messages call it."""

    name: str

    def records(self) -> Iterator[Record]: ...


SourceFactory = Callable[[str | Path], ImportSource]
_SOURCES: dict[str, SourceFactory] = {}
_ALIASES: dict[str, str] = {}


def register_source(kind: str, factory: SourceFactory, *aliases: str) -> None:
    """Called by each source module: ``kind`` (and its ``aliases``) open with ``factory``."""
    _SOURCES[kind] = factory
    for alias in aliases:
        _ALIASES[alias] = kind


def source_kinds() -> tuple[str, ...]:
    """The kinds registered so far, in registration order."""
    return tuple(_SOURCES)


def open_source(kind: str, source: str | Path) -> ImportSource:
    """The reader for one kind of input; raises ImportFormatError if it cannot be opened."""
    factory = _SOURCES.get(_ALIASES.get(kind, kind))
    if factory is None:
        raise ValueError(
            f"unknown import kind {kind!r}; expected one of {', '.join(source_kinds())}"
        )
    return factory(source)
