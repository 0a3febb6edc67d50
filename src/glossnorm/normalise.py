"""Apply found mentions: rewrite variants, record changes, attach glosses.

``apply_edits`` is the single place where spans are turned into new text, so
``apply_edits(source, edits)`` reproduces the output exactly and the change records can
be replayed (see tests). Offsets in ``Change`` and ``Gloss`` are half-open offsets into the
*output* text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from glossnorm.match import Match, Matcher, rewrite_separator
from glossnorm.model import Change, Gloss, Lang


class Edit(NamedTuple):
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
    """Rewrite ``matches`` (sorted, non-overlapping) in one pass; same result as
    ``apply_edits`` with one edit per match (a property test holds them together)."""
    if not matches:
        return Normalised(text, text, (), ())
    if not any(m.prefix or m.pattern.target is not None for m in matches):
        # Only canonical or kept forms (the common case): the text stays as it is.
        return Normalised(text, text, (), tuple(_gloss(m.start, m.end, m) for m in matches))
    parts: list[str] = []
    changes: list[Change] = []
    glosses: list[Gloss] = []
    pos = out_len = 0
    for m, (rep, lead, tail) in zip(matches, replacements(text, match_items(matches)), strict=True):
        gap = text[pos : m.start]
        parts.append(gap)
        parts.append(rep)
        s = out_len + len(gap)
        e = out_len = s + len(rep)
        p = m.pattern
        if lead or tail or p.target is not None:
            changes.append(Change(s, e, text[m.start : m.end], rep, p.entry.id, p.renamed))
        glosses.append(_gloss(s + lead, e - tail, m))
        pos = m.end
    parts.append(text[pos:])
    return Normalised("".join(parts), text, tuple(changes), tuple(glosses))


def _gloss(start: int, end: int, m: Match) -> Gloss:
    p = m.pattern
    ent = p.entry
    return Gloss(start, end, ent.id, ent.en, ent.ja, p.lang)


Item = tuple[int, int, str, "str | None", str]  # (start, end, prefix, target, form)


def replacements(text: str, items: Sequence[Item]) -> list[tuple[str, int, int]]:
    """(replacement, separator chars before, after) per mention.

    A rewrite never glues a name to its neighbour: if the new form would run into a
    katakana or Latin neighbour that the old form did not run into (白ロシア → ベラルーシ
    after アゼルバイジャン; ナトー → NATO before Kiev), a ・ or a space goes between, so
    the output reads as two names and normalising it again is a no-op.
    """
    out: list[tuple[str, int, int]] = []
    n = len(text)
    last = len(items) - 1
    for i, (start, end, lead, target, form) in enumerate(items):
        if not target:
            out.append((lead + form, len(lead), 0) if lead else (form, 0, 0))
            continue
        if not lead:
            if i and items[i - 1][1] == start:
                prev = items[i - 1]
                # (a separator the previous rewrite put after itself is the one between)
                left = "" if out[-1][2] else (prev[3] or prev[4])[-1]
            else:
                left = text[start - 1] if start else ""
            lead = rewrite_separator(left, form[0], target[0])
        if i < last and items[i + 1][0] == end:
            nxt = items[i + 1]
            right = "" if nxt[2] else (nxt[3] or nxt[4])[0]
        else:
            right = text[end] if end < n else ""
        tail = rewrite_separator(right, form[-1], target[-1])
        out.append((lead + target + tail, len(lead), len(tail)))
    return out


def match_items(matches: Sequence[Match]) -> list[Item]:
    """The ``replacements`` input for ``Match`` objects."""
    return [(m.start, m.end, m.prefix, m.pattern.target, m.pattern.form) for m in matches]


def gloss_label(g: Gloss) -> str:
    """What an inline gloss shows: the other language's canonical form."""
    return g.ja if g.lang is Lang.EN else g.en


def parenthesised(text: str, start: int, end: int) -> bool:
    """Does ``text[start:end]`` fill a pair of parentheses (an inline gloss, as written)?"""
    return text[start - 1 : start] == "(" and text[end : end + 1] == ")"


def render_inline(text: str, glosses: Sequence[Gloss]) -> str:
    """``ブリンケン`` → ``ブリンケン(Blinken)``; idempotent on its own output.

    A mention that is already followed by ``(its gloss)`` gets nothing more, and the
    mention inside those parentheses is part of the existing gloss, not a new mention.
    A mention that already reads as its gloss (NATO in Japanese text) gets nothing, nor
    does one that fills a pair of parentheses: it glosses what stands before them, as
    ``(Liz Truss)`` does in this function's own output when トラス itself is not a
    mention on the next run (its rule wanted 外相 next to it, and now sees the gloss).
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
        if mention == label or parenthesised(text, g.start, g.end):
            continue
        parts.append(text[pos : g.end])
        parts.append(existing)
        pos = g.end
    parts.append(text[pos:])
    return "".join(parts)
