"""Frozen data types shared by every pipeline stage.

Offsets are half-open ``[start, end)`` code-point offsets everywhere. Stages pass these
values to each other and never mutate them, so any stage can run in a worker process and
its output can be compared byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class EntryType(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    TERM = "term"
    OTHER = "other"


class Lang(StrEnum):
    JA = "ja"
    EN = "en"


class Origin(NamedTuple):
    """Where something was written: a file and a 1-based line range (inclusive)."""

    path: str
    line: int
    end_line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Rule:
    """When a variant may be applied. Empty rule = always (subject to boundary checks).

    ``before``/``after`` are regular expressions checked against a bounded window of text
    next to the match; when any are given, at least one of them must match.
    """

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    token: bool = False  # match must start and end on Sudachi token boundaries
    headline: bool = False  # only in headline segments
    infix: bool = False  # may match inside a longer katakana run

    @property
    def is_empty(self) -> bool:
        return not (self.before or self.after or self.token or self.headline or self.infix)

    @property
    def has_context(self) -> bool:
        return bool(self.before or self.after or self.token or self.headline)


@dataclass(frozen=True, slots=True)
class Variant:
    """A non-canonical form of an entry.

    ``keep``: an admitted form (matched and glossed, never rewritten).
    ``renamed``: ISO date on which this old official form was replaced by the canonical one.
    """

    form: str
    lang: Lang
    rule: Rule = Rule()
    keep: bool = False
    renamed: str | None = None
    origin: Origin | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    type: EntryType
    ja: str
    en: str
    variants: tuple[Variant, ...] = ()
    note: str = ""
    rejects: tuple[str, ...] = ()  # surfaces a reviewer said are *not* this entry
    origin: Origin | None = field(default=None, compare=False)

    def canonical(self, lang: Lang) -> str:
        return self.ja if lang is Lang.JA else self.en

    def forms(self, lang: Lang | None = None) -> tuple[str, ...]:
        """Canonical forms first, then variants, optionally of one language."""
        if lang is None:
            out = [self.ja, self.en]
            out.extend([v.form for v in self.variants])
        else:
            out = [self.canonical(lang)]
            out.extend([v.form for v in self.variants if v.lang is lang])
        return tuple(dict.fromkeys(out))


class Change(NamedTuple):
    """One rewrite: ``text[start:end]`` (in the *output* text) was ``source`` before.

    Change and Gloss are NamedTuples (immutable, and several times cheaper to create than
    frozen dataclasses): a corpus has one or two of them every few dozen characters.
    """

    start: int
    end: int
    source: str
    target: str
    entry: str
    renamed: str | None = None  # the old official form was renamed on this date


class Gloss(NamedTuple):
    """A glossary mention in the output text, with both canonical forms."""

    start: int
    end: int
    entry: str
    en: str
    ja: str
    lang: Lang  # language of the mention itself; the inline gloss uses the other one


@dataclass(frozen=True, slots=True)
class Segment:
    """A paragraph of a document (or a piece of an over-long one), after cleaning."""

    doc: str
    index: int
    text: str
    headline: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    source: str  # file path (or "-") the document came from
    line: int = 0  # 1-based line for JSONL inputs, 0 for whole-file documents
    encoding: str = "utf-8"
    # A long text file read a piece at a time: ``text`` is left empty, and
    # ``ingest.text_pieces`` reads it (only where ``IngestOptions.stream_bytes`` asks).
    streamed: bool = False
