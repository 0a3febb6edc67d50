"""Find glossary mentions: one Aho-Corasick pass, then boundary and rule checks.

Finding is separate from applying (``normalise.py``): ``Matcher.find`` only returns spans.
Every form of every entry, Japanese and English, canonical and variant, sits in one
automaton, so the scan costs the same whatever the glossary size; the per-match checks
run only where the automaton reports a hit. Sudachi is loaded (once per process) only
when a ``token`` rule has to be checked.

Boundary policy (docs/glossary-format.md):
- a form whose edge is katakana does not match next to more katakana (ナト in ナトリウム);
- a form whose edge is a Latin letter or digit does not match next to another one;
- a katakana run that is exactly a sequence of glossary forms (ルーマニアブルガリア) is split
  back into its parts, and ``・`` is put between two katakana parts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from glossnorm.glossary import CONTEXT_WINDOW, Glossary
from glossnorm.model import Entry, Lang, Rule

_KATAKANA = frozenset(
    [chr(c) for c in range(0x30A1, 0x30FB)]  # ァ..ヺ (not ・ U+30FB)
    + [chr(c) for c in range(0x30FC, 0x3100)]  # ー ヽ ヾ ヿ
    + [chr(c) for c in range(0x31F0, 0x3200)]  # small katakana extensions
)
_LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
SEPARATOR = "・"
MIN_SPLIT_PART = 3  # shortest form allowed as a part when splitting a fused katakana run


def is_katakana(ch: str) -> bool:
    return ch in _KATAKANA


@dataclass(frozen=True, slots=True)
class Pattern:
    """One form of one entry, compiled for matching."""

    form: str
    entry: Entry
    lang: Lang
    target: str | None  # the replacement, or None when the form is kept as written
    rule: Rule
    before: tuple[re.Pattern[str], ...]
    after: tuple[re.Pattern[str], ...]
    kata_start: bool
    kata_end: bool
    latin_start: bool
    latin_end: bool


@dataclass(frozen=True, slots=True)
class Match:
    """A mention of ``pattern`` at ``text[start:end]`` (source offsets)."""

    start: int
    end: int
    pattern: Pattern
    prefix: str = ""  # separator to insert before the mention (fused-run repair)

    @property
    def replacement(self) -> str:
        return self.prefix + (self.pattern.target or self.pattern.form)

    @property
    def rewrites(self) -> bool:
        return bool(self.prefix) or self.pattern.target is not None


def _compile_pattern(form: str, entry: Entry, lang: Lang, target: str | None, rule: Rule) -> Pattern:
    return Pattern(
        form=form,
        entry=entry,
        lang=lang,
        target=target,
        rule=rule,
        before=tuple(re.compile(f"(?:{r})\\Z") for r in rule.before),
        after=tuple(re.compile(r) for r in rule.after),
        kata_start=form[0] in _KATAKANA,
        kata_end=form[-1] in _KATAKANA,
        latin_start=form[0] in _LATIN,
        latin_end=form[-1] in _LATIN,
    )


def build_patterns(glossary: Glossary) -> list[Pattern]:
    out: list[Pattern] = []
    for e in glossary.entries:
        out.append(_compile_pattern(e.ja, e, Lang.JA, None, Rule()))
        if e.en != e.ja:
            out.append(_compile_pattern(e.en, e, Lang.EN, None, Rule()))
        for v in e.variants:
            target = None if v.keep else e.canonical(v.lang)
            out.append(_compile_pattern(v.form, e, v.lang, target, v.rule))
    return out


TokenBoundaries = Callable[[str], frozenset[int]]


@lru_cache(maxsize=1)
def _sudachi() -> object:
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


def sudachi_boundaries(text: str) -> frozenset[int]:
    """Token boundary offsets of ``text`` (Sudachi mode C). ``text`` is one segment."""
    tok = _sudachi()
    bounds = {0, len(text)}
    for m in tok.tokenize(text):  # type: ignore[attr-defined]
        bounds.add(m.begin())
        bounds.add(m.end())
    return frozenset(bounds)


class Matcher:
    """Leftmost-longest glossary matcher with Japanese-aware boundaries."""

    def __init__(self, glossary: Glossary, boundaries: TokenBoundaries = sudachi_boundaries):
        self.glossary = glossary
        self.patterns = build_patterns(glossary)
        self._boundaries = boundaries
        self._auto = ahocorasick.Automaton()
        for i, p in enumerate(self.patterns):
            self._auto.add_word(p.form, (i, len(p.form)))
        if self.patterns:
            self._auto.make_automaton()

    def __reduce__(self) -> tuple[type[Matcher], tuple[Glossary]]:
        # The automaton is rebuilt in a worker rather than pickled: it is cheap and keeps
        # the payload to the glossary itself.
        return (Matcher, (self.glossary,))

    def find(self, text: str, headline: bool = False) -> list[Match]:
        """All accepted mentions in ``text``, non-overlapping, leftmost-longest, in order."""
        if not self.patterns or not text:
            return []
        pats = self.patterns
        n = len(text)
        ok: list[tuple[int, int, int]] = []  # (start, -length, pattern index)
        fused: list[tuple[int, int, int]] = []  # katakana-boundary rejects, for run splitting
        need_tokens: list[tuple[int, int, int]] = []
        for last, (pi, ln) in self._auto.iter(text):
            end = last + 1
            start = end - ln
            p = pats[pi]
            # Boundary checks: cheapest first.
            if p.latin_start and start > 0 and text[start - 1] in _LATIN:
                continue
            if p.latin_end and end < n and text[end] in _LATIN:
                continue
            r = p.rule
            if not r.infix and (
                (p.kata_start and start > 0 and text[start - 1] in _KATAKANA)
                or (p.kata_end and end < n and text[end] in _KATAKANA)
            ):
                # Not a mention on its own, but maybe one part of a fused run.
                if (
                    ln >= MIN_SPLIT_PART
                    and not r.token
                    and (headline or not r.headline)
                    and (not (r.before or r.after) or self._context_ok(text, start, end, p))
                ):
                    fused.append((start, -ln, pi))
                continue
            if r.headline and not headline:
                continue
            if (r.before or r.after) and not self._context_ok(text, start, end, p):
                continue
            if r.token:
                need_tokens.append((start, -ln, pi))
                continue
            ok.append((start, -ln, pi))
        if need_tokens:
            bounds = self._boundaries(text)
            ok.extend(c for c in need_tokens if c[0] in bounds and c[0] - c[1] in bounds)
        matches = self._resolve(ok)
        if fused:
            matches = self._split_fused(text, matches, fused)
        return matches

    @staticmethod
    def _context_ok(text: str, start: int, end: int, p: Pattern) -> bool:
        if p.before:
            left = text[max(0, start - CONTEXT_WINDOW) : start]
            if any(rx.search(left) for rx in p.before):
                return True
        if p.after:
            right = text[end : end + CONTEXT_WINDOW]
            if any(rx.match(right) for rx in p.after):
                return True
        return False

    def _resolve(self, cands: list[tuple[int, int, int]]) -> list[Match]:
        cands.sort()
        out: list[Match] = []
        last_end = 0
        pats = self.patterns
        for start, neg_len, pi in cands:
            if start >= last_end:
                out.append(Match(start, start - neg_len, pats[pi]))
                last_end = start - neg_len
        return out

    def _split_fused(
        self, text: str, matches: list[Match], fused: list[tuple[int, int, int]]
    ) -> list[Match]:
        """Accept parts of a katakana run that is exactly a sequence of glossary forms."""
        taken = [(m.start, m.end) for m in matches]
        by_start: dict[int, list[tuple[int, int]]] = {}
        for start, neg_len, pi in fused:
            by_start.setdefault(start, []).append((start - neg_len, pi))
        added: list[Match] = []
        seen_runs: set[int] = set()
        for start in sorted(by_start):
            run_start, run_end = _katakana_run(text, start)
            if run_start in seen_runs or _overlaps(taken, run_start, run_end):
                continue
            seen_runs.add(run_start)
            tiling = _tile(run_start, run_end, by_start, text)
            if tiling is None or len(tiling) < 2:
                continue
            prev: Match | None = None
            for s, e, pi in tiling:
                p = self.patterns[pi]
                prefix = ""
                if prev is not None and prev.end == s and _ends_katakana(prev) and _starts_katakana(p):
                    prefix = SEPARATOR
                m = Match(s, e, p, prefix)
                added.append(m)
                prev = m
        if not added:
            return matches
        return sorted(matches + added, key=lambda m: m.start)


def _ends_katakana(m: Match) -> bool:
    out = m.pattern.target or m.pattern.form
    return out[-1] in _KATAKANA


def _starts_katakana(p: Pattern) -> bool:
    out = p.target or p.form
    return out[0] in _KATAKANA


def _katakana_run(text: str, pos: int) -> tuple[int, int]:
    """The maximal run of katakana (and inner ・) around ``pos``."""
    s = pos
    while s > 0 and (text[s - 1] in _KATAKANA or (text[s - 1] == SEPARATOR and s - 1 > 0)):
        s -= 1
    while s < pos and text[s] == SEPARATOR:
        s += 1
    e = pos
    n = len(text)
    while e < n and (text[e] in _KATAKANA or (text[e] == SEPARATOR and e + 1 < n)):
        e += 1
    while e > pos and text[e - 1] == SEPARATOR:
        e -= 1
    return s, e


def _overlaps(spans: Sequence[tuple[int, int]], s: int, e: int) -> bool:
    return any(a < e and s < b for a, b in spans)


def _tile(
    run_start: int, run_end: int, by_start: dict[int, list[tuple[int, int]]], text: str
) -> list[tuple[int, int, int]] | None:
    """Cover ``[run_start, run_end)`` exactly with fused candidates (・ may sit between
    parts). Fewest parts wins, so a long known form beats two short ones."""
    best: dict[int, list[tuple[int, int, int]]] = {run_start: []}
    for pos in range(run_start, run_end + 1):
        if pos not in best:
            continue
        path = best[pos]
        nxt = [pos]
        if pos < run_end and text[pos] == SEPARATOR and path:
            nxt.append(pos + 1)
        for p0 in nxt:
            for end, pi in by_start.get(p0, ()):
                if end > run_end:
                    continue
                cand = [*path, (p0, end, pi)]
                if end not in best or len(cand) < len(best[end]):
                    best[end] = cand
    return best.get(run_end)
