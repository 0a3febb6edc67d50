"""Apply found mentions: rewrite variants, record changes, attach glosses.

``apply_edits`` is the single place where spans are turned into new text, so
``apply_edits(source, edits)`` reproduces the output exactly and the change records can
be replayed (see tests). Offsets in ``Change`` and ``Gloss`` are half-open offsets into the
*output* text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from glossnorm.match import Match, Matcher
from glossnorm.model import Change, Gloss, Lang


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``source[start:end]`` with ``text`` (source offsets)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    source_text: str
    changes: tuple[Change, ...]
    glosses: tuple[Gloss, ...]


def apply_edits(source: str, edits: Sequence[Edit]) -> tuple[str, list[tuple[int, int]]]:
    """Apply non-overlapping, sorted edits; return the new text and each edit's output span."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    out_len = 0
    for ed in edits:
        if ed.start < pos or ed.end < ed.start or ed.end > len(source):
            raise ValueError(f"edits overlap or are out of range at {ed.start}:{ed.end}")
        gap = source[pos : ed.start]
        parts.append(gap)
        out_len += len(gap)
        parts.append(ed.text)
        spans.append((out_len, out_len + len(ed.text)))
        out_len += len(ed.text)
        pos = ed.end
    parts.append(source[pos:])
    return "".join(parts), spans


def normalise_text(matcher: Matcher, text: str, headline: bool = False) -> Normalised:
    """Find mentions in ``text`` and rewrite the variants among them."""
    matches = matcher.find(text, headline=headline)
    return apply_matches(text, matches)


def apply_matches(text: str, matches: Sequence[Match]) -> Normalised:
    edits = [Edit(m.start, m.end, m.replacement) for m in matches]
    out, spans = apply_edits(text, edits)
    changes: list[Change] = []
    glosses: list[Gloss] = []
    for m, (s, e) in zip(matches, spans, strict=True):
        ent = m.pattern.entry
        if m.rewrites:
            changes.append(Change(s, e, text[m.start : m.end], m.replacement, ent.id))
        gs = s + len(m.prefix)
        glosses.append(Gloss(gs, e, ent.id, ent.en, ent.ja, m.pattern.lang))
    return Normalised(out, text, tuple(changes), tuple(glosses))


def gloss_label(g: Gloss) -> str:
    """What an inline gloss shows: the other language's canonical form."""
    return g.ja if g.lang is Lang.EN else g.en


def render_inline(text: str, glosses: Sequence[Gloss]) -> str:
    """``ブリンケン`` → ``ブリンケン(Blinken)``; idempotent on its own output.

    A mention that is already followed by ``(its gloss)`` gets nothing more, and the
    mention inside those parentheses is part of the existing gloss, not a new mention.
    A mention that already reads as its gloss (NATO in Japanese text) gets nothing.
    """
    parts: list[str] = []
    pos = 0
    skip_until = -1
    for g in glosses:
        if g.start < skip_until:
            continue
        label = gloss_label(g)
        mention = text[g.start : g.end]
        existing = f"({label})"
        if text.startswith(existing, g.end):
            skip_until = g.end + len(existing)
            continue
        if mention == label:
            continue
        parts.append(text[pos : g.end])
        parts.append(existing)
        pos = g.end
    parts.append(text[pos:])
    return "".join(parts)
