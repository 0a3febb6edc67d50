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
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from glossnorm.glossary import CONTEXT_WINDOW, Glossary, paused_gc
from glossnorm.model import Entry, Lang, Rule

_KATAKANA = frozenset(
    [chr(c) for c in range(0x30A1, 0x30FB)]  # ァ..ヺ (not ・ U+30FB)
    + [chr(c) for c in range(0x30FC, 0x3100)]  # ー ヽ ヾ ヿ
    + [chr(c) for c in range(0x31F0, 0x3200)]  # small katakana extensions
)
_LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
SEPARATOR = "・"
NAME_JOINERS = frozenset("・=゠")  # may sit inside a katakana name (ジョー=バイデン)
MIN_SPLIT_PART = 3  # shortest form allowed as a part when splitting a fused katakana run


def is_katakana(ch: str) -> bool:
    return ch in _KATAKANA


class Pattern(NamedTuple):
    """One form of one entry, compiled for matching (a NamedTuple: a big glossary has
    hundreds of thousands of them, and they are built at every start)."""

    form: str
    entry: Entry
    lang: Lang
    target: str | None  # the replacement, or None when the form is kept as written
    rule: Rule
    renamed: str | None
    before: tuple[re.Pattern[str], ...]
    after: tuple[re.Pattern[str], ...]
    kata_start: bool
    kata_end: bool
    latin_start: bool
    latin_end: bool


class Match(NamedTuple):
    """A mention of ``pattern`` at ``text[start:end]`` (source offsets)."""

    start: int
    end: int
    pattern: Pattern
    prefix: str = ""  # separator to insert before the mention (fused-run repair)


_NO_RULE = Rule()


@lru_cache(maxsize=4096)
def _compile_rule(rule: Rule) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    """Compiled before/after contexts; rules repeat across variants, compile each once."""
    before = tuple(re.compile(f"(?:{r})\\Z") for r in rule.before)
    return before, tuple(re.compile(r) for r in rule.after)


def _compile_pattern(
    form: str,
    entry: Entry,
    lang: Lang,
    target: str | None,
    rule: Rule = _NO_RULE,
    renamed: str | None = None,
) -> Pattern:
    before, after = _compile_rule(rule) if not rule.is_empty else ((), ())
    return Pattern(
        form,
        entry,
        lang,
        target,
        rule,
        renamed,
        before,
        after,
        form[0] in _KATAKANA,
        form[-1] in _KATAKANA,
        form[0] in _LATIN,
        form[-1] in _LATIN,
    )


PatternSpec = tuple[str, Entry, Lang, "str | None", Rule, "str | None"]


def pattern_specs(glossary: Glossary) -> list[PatternSpec]:
    """(form, entry, lang, target, rule, renamed) for every form of every entry."""
    out: list[PatternSpec] = []
    add = out.append
    for e in glossary.entries:
        add((e.ja, e, Lang.JA, None, _NO_RULE, None))
        if e.en != e.ja:
            add((e.en, e, Lang.EN, None, _NO_RULE, None))
        for v in e.variants:
            target = None if v.keep else e.canonical(v.lang)
            add((v.form, e, v.lang, target, v.rule, v.renamed))
    return out


class Patterns:
    """Patterns by index, compiled on first use: a large glossary has hundreds of
    thousands of forms and a corpus hits only some of them."""

    __slots__ = ("_built", "_specs")

    def __init__(self, specs: list[PatternSpec]) -> None:
        self._specs = specs
        self._built: dict[int, Pattern] = {}

    def __getitem__(self, i: int) -> Pattern:
        p = self._built.get(i)
        if p is None:
            p = self._built[i] = _compile_pattern(*self._specs[i])
        return p

    def __len__(self) -> int:
        return len(self._specs)


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
        with paused_gc():
            self._build(glossary, boundaries)

    def _build(self, glossary: Glossary, boundaries: TokenBoundaries) -> None:
        self.glossary = glossary
        specs = pattern_specs(glossary)
        self.patterns = Patterns(specs)
        self._boundaries = boundaries
        self._auto = ahocorasick.Automaton()
        # Automaton value: (pattern index, length, edge flags). The flags of a rule-less
        # form let the hot loop in find() accept it without building its Pattern;
        # None sends the hit through _check.
        flags: dict[tuple[bool, bool, bool, bool], tuple[bool, bool, bool, bool]] = {}
        maxlen = 1
        for i, (form, _, _, _, rule, _) in enumerate(specs):
            edges = None
            if rule.is_empty:
                key = (form[0] in _KATAKANA, form[-1] in _KATAKANA, form[0] in _LATIN,
                       form[-1] in _LATIN)  # fmt: skip
                edges = flags.setdefault(key, key)
            self._auto.add_word(form, (i, len(form), edges))
            maxlen = max(maxlen, len(form))
        if specs:
            self._auto.make_automaton()
        self._maxlen = maxlen

    def __reduce__(self) -> tuple[type[Matcher], tuple[Glossary]]:
        # The automaton is rebuilt in a worker rather than pickled: it is cheap and keeps
        # the payload to the glossary itself.
        return (Matcher, (self.glossary,))

    def find(self, text: str, headline: bool = False) -> list[Match]:
        """All accepted mentions in ``text``, non-overlapping, leftmost-longest, in order.

        The automaton reports leftmost-longest hits only, so a short form inside a longer
        known one (ロ in ロシア) costs nothing. Where a hit is refused by its checks, the
        text it covered is scanned again for every form, so a shorter mention hidden
        under the refused one is still found.
        """
        if not len(self.patterns) or not text:
            return []
        ok: list[tuple[int, int, int]] = []  # (start, -length, pattern index)
        fused: list[tuple[int, int, int]] = []  # katakana-boundary refusals, for run splitting
        tokens: list[tuple[int, int, int]] = []  # waiting for the Sudachi check
        refused: list[tuple[int, int]] = []
        check = self._check
        kata = _KATAKANA
        latin = _LATIN
        n = len(text)
        # Hot loop: a hit of a form without rules only needs its edges checked, inline.
        for last, (pi, ln, ed) in self._auto.iter_long(text):
            end = last + 1
            start = end - ln
            if ed is not None:
                ks, ke, ls, le = ed
                left = text[start - 1] if start else ""
                right = text[end] if end < n else ""
                if not (
                    (ks and left in kata)
                    or (ke and right in kata)
                    or (ls and left in latin)
                    or (le and right in latin)
                ):
                    ok.append((start, -ln, pi))
                    continue
            if not check(text, start, end, pi, headline, ok, fused, tokens):
                refused.append((start, end))
        if refused:
            self._rescan(text, refused, headline, ok, fused, tokens)
        if tokens:
            bounds = self._boundaries(text)
            ok.extend(c for c in tokens if c[0] in bounds and c[0] - c[1] in bounds)
        if refused or tokens:
            matches = self._resolve(ok)
        else:  # iter_long already gave non-overlapping hits in order
            pats = self.patterns
            matches = [Match(st, st - nl, pats[pi]) for st, nl, pi in ok]
        if fused:
            matches = self._split_fused(text, matches, fused)
        return matches

    def find_reference(self, text: str, headline: bool = False) -> list[Match]:
        """Same result as ``find`` from every overlapping hit: slow, for tests only."""
        ok: list[tuple[int, int, int]] = []
        fused: list[tuple[int, int, int]] = []
        tokens: list[tuple[int, int, int]] = []
        for last, (pi, ln, _) in self._auto.iter(text) if len(self.patterns) and text else ():
            self._check(text, last + 1 - ln, last + 1, pi, headline, ok, fused, tokens)
        if tokens:
            bounds = self._boundaries(text)
            ok.extend(c for c in tokens if c[0] in bounds and c[0] - c[1] in bounds)
        matches = self._resolve(ok)
        return self._split_fused(text, matches, fused) if fused else matches

    def _rescan(
        self,
        text: str,
        refused: list[tuple[int, int]],
        headline: bool,
        ok: list[tuple[int, int, int]],
        fused: list[tuple[int, int, int]],
        tokens: list[tuple[int, int, int]],
    ) -> None:
        seen = set(ok) | set(fused) | set(tokens)
        extra: list[tuple[int, int, int]] = []
        n = len(text)
        for s, e in refused:
            for last, (pi, ln, _) in self._auto.iter(text, s, min(n, e + self._maxlen - 1)):
                start = last + 1 - ln
                if s <= start < e:
                    extra.append((start, last + 1, pi))
        for start, end, pi in sorted(set(extra)):
            if (start, start - end, pi) not in seen:
                self._check(text, start, end, pi, headline, ok, fused, tokens)

    def _check(
        self,
        text: str,
        start: int,
        end: int,
        pi: int,
        headline: bool,
        ok: list[tuple[int, int, int]],
        fused: list[tuple[int, int, int]],
        tokens: list[tuple[int, int, int]],
    ) -> bool:
        """Boundary and rule checks, cheapest first; files the hit in the right list."""
        p = self.patterns[pi]
        cand = (start, start - end, pi)
        if p.latin_start and start > 0 and text[start - 1] in _LATIN:
            return False
        if p.latin_end and end < len(text) and text[end] in _LATIN:
            return False
        r = p.rule
        if not r.infix and (
            (p.kata_start and start > 0 and text[start - 1] in _KATAKANA)
            or (p.kata_end and end < len(text) and text[end] in _KATAKANA)
        ):
            # Not a mention on its own, but maybe one part of a fused run.
            if (
                end - start >= MIN_SPLIT_PART
                and not r.token
                and (headline or not r.headline)
                and (not (r.before or r.after) or self._context_ok(text, start, end, p))
            ):
                fused.append(cand)
            return False
        if r.headline and not headline:
            return False
        if (r.before or r.after) and not self._context_ok(text, start, end, p):
            return False
        if r.token:
            tokens.append(cand)
            return False  # may still fail: let the rescan look for a shorter mention too
        ok.append(cand)
        return True

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
        """Split a katakana run that is exactly a sequence of glossary forms.

        The parts may be refused hits (a form glued to more katakana) or accepted ones
        inside the run; the last part may run on past the katakana (a variant ending in
        kanji). Fewest parts wins, so one long known form beats two short ones.
        """
        pieces: dict[int, list[tuple[int, int, bool]]] = {}  # start -> (end, pattern, fused?)
        for start, neg_len, pi in fused:
            pieces.setdefault(start, []).append((start - neg_len, pi, True))
        by_start = {m.start: m for m in matches}
        for m in matches:
            pieces.setdefault(m.start, []).append((m.end, -1, False))
        result = list(matches)
        done_until = -1
        for start, neg_len, _ in sorted(fused):
            if start < done_until:
                continue
            run_start, run_end = _katakana_run(text, start, start - neg_len)
            tiling = _tile(run_start, run_end, pieces, text)
            if tiling is None or len(tiling) < 2 or not any(f for _, _, _, f in tiling):
                continue
            end = tiling[-1][1]
            if any(m.start < run_start < m.end or m.start < end < m.end for m in result):
                continue  # a mention crosses the run's edge: the run is not a name of its own
            done_until = end
            result = [m for m in result if m.end <= run_start or m.start >= end]
            prev: Match | None = None
            for s, e, pi, is_fused in tiling:
                m = Match(s, e, self.patterns[pi]) if is_fused else by_start[s]
                if (
                    prev is not None
                    and prev.end == s
                    and _ends_katakana(prev)
                    and _starts_katakana(m.pattern)
                ):
                    m = m._replace(prefix=SEPARATOR)
                result.append(m)
                prev = m
        result.sort(key=lambda m: m.start)
        return result


def _ends_katakana(m: Match) -> bool:
    out = m.pattern.target or m.pattern.form
    return out[-1] in _KATAKANA


def _starts_katakana(p: Pattern) -> bool:
    out = p.target or p.form
    return out[0] in _KATAKANA


def _katakana_run(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` widened over katakana (and name joiners inside it) on both sides."""
    s = start
    while s > 0 and (text[s - 1] in _KATAKANA or (text[s - 1] in NAME_JOINERS and s - 1 > 0)):
        s -= 1
    while s < start and text[s] in NAME_JOINERS:
        s += 1
    e = end
    n = len(text)
    while e < n and (text[e] in _KATAKANA or (text[e] in NAME_JOINERS and e + 1 < n)):
        e += 1
    while e > end and text[e - 1] in NAME_JOINERS:
        e -= 1
    return s, e


def _tile(
    run_start: int,
    run_end: int,
    pieces: dict[int, list[tuple[int, int, bool]]],
    text: str,
) -> list[tuple[int, int, int, bool]] | None:
    """Cover the run exactly with pieces (a ・ may sit between two of them); the last
    piece may end past the run. Returns (start, end, pattern index, fused?) or None."""
    best: dict[int, list[tuple[int, int, int, bool]]] = {run_start: []}
    over: list[list[tuple[int, int, int, bool]]] = []
    for pos in range(run_start, run_end):
        path = best.get(pos)
        if path is None:
            continue
        starts = [pos]
        if text[pos] in NAME_JOINERS and path:
            starts.append(pos + 1)
        for p0 in starts:
            for end, pi, is_fused in pieces.get(p0, ()):
                cand = [*path, (p0, end, pi, is_fused)]
                if end > run_end:
                    over.append(cand)
                elif end not in best or len(cand) < len(best[end]):
                    best[end] = cand
    done = [c for c in (best.get(run_end), *over) if c]
    if not done:
        return None
    return min(done, key=lambda c: (len(c), -c[-1][1]))
