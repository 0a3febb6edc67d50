"""Find glossary mentions: one Aho-Corasick pass, then boundary and rule checks.

Finding is separate from applying (``normalise.py``): ``Matcher.find`` only returns spans.
Every form of every entry, Japanese and English, canonical and variant, sits in one
automaton, so the scan costs the same whatever the glossary size; the per-match checks
run only where the automaton reports a hit. Sudachi is loaded once per process, when a
``token`` rule first has to be checked; before the workers fork, where the glossary has
such a rule (``Matcher.load_tokenizer``).

Boundary policy (docs/glossary-format.md):
- a form whose edge is katakana does not match next to more katakana (ナト in ナトリウム);
- a form whose edge is a Latin letter or digit does not match next to another one;
- a katakana run that is exactly a sequence of glossary forms (ルーマニアブルガリア) is split
  back into its parts, and ``・`` is put between two katakana parts.
"""

from __future__ import annotations

import contextlib
import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from glossnorm.compiled import CompiledGlossary, PatternSpec, compile_glossary
from glossnorm.glossary import CONTEXT_WINDOW, NO_RULE, Glossary
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
KATAKANA = _KATAKANA  # public name

# Characters that run together into one word: katakana with katakana (1), ASCII letters and
# digits with each other (2). _SEPARATORS[kind] keeps two such neighbours apart.
_KIND: dict[str, int] = {c: 1 for c in _KATAKANA} | {c: 2 for c in _LATIN}
_SEPARATORS = ("", SEPARATOR, " ")


def rewrite_separator(neighbour: str, old: str, new: str) -> str:
    """What a rewrite puts between its new form and a neighbour that the old form did not
    run into but the new one would (白ロシア → ベラルーシ after アゼルバイジャン: ・).
    ``old`` and ``new`` are the old and new form's characters on the neighbour's side."""
    k = _KIND.get(neighbour, 0)
    return _SEPARATORS[k] if k and _KIND.get(old, 0) != k and _KIND.get(new, 0) == k else ""


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
    rule: Rule = NO_RULE,
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


class Patterns:
    """Patterns by index, compiled on first use: a large glossary has hundreds of
    thousands of forms and a corpus hits only some of them."""

    __slots__ = ("_built", "_compiled")

    def __init__(self, compiled: CompiledGlossary) -> None:
        self._compiled = compiled
        self._built: dict[int, Pattern] = {}

    def __getitem__(self, i: int) -> Pattern:
        p = self._built.get(i)
        if p is None:
            p = self._built[i] = _compile_pattern(*self._compiled.spec(i))
        return p

    def __len__(self) -> int:
        return len(self._compiled.forms)

    def spec(self, i: int) -> PatternSpec:
        return self._compiled.spec(i)


TokenBoundaries = Callable[[str], frozenset[int]]


@lru_cache(maxsize=1)
def _sudachi() -> object:
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


def sudachi_boundaries(text: str) -> frozenset[int]:
    """Token boundary offsets of ``text`` (Sudachi mode C): a clause (``clause_around``)."""
    tok = _sudachi()
    bounds = {0, len(text)}
    for m in tok.tokenize(text):  # type: ignore[attr-defined]
        bounds.add(m.begin())
        bounds.add(m.end())
    return frozenset(bounds)


# Characters Sudachi always makes a token of their own. A token rule's candidate is checked
# in its clause, from the stop before it to the stop after it, both included: the best
# path through the lattice between two such tokens does not depend on what lies beyond
# them, and a segment's Sudachi check costs about a fifth (on the seeds, the sample corpus,
# the test fixtures and 1,739 benchmark headlines, every one of 14,483 clauses gave the
# same boundaries inside as its whole line).
CLAUSE_STOPS = "、。「」『』【】（）()！？!?"
_CLAUSE_STOP_RE = re.compile(f"[{re.escape(CLAUSE_STOPS)}]")


def clause_around(text: str, start: int, end: int) -> tuple[int, int]:
    """``[a, b)`` around ``text[start:end]``: from the last stop before ``start`` to the
    first stop from ``end`` on, stops included, or to the text's ends."""
    a = max(0, max([text.rfind(ch, 0, start) for ch in CLAUSE_STOPS]))
    m = _CLAUSE_STOP_RE.search(text, end)
    return a, m.end() if m is not None else len(text)


Span = tuple[int, int, int, str]  # (start, end, pattern index, separator to insert before)

# URLs, e-mail addresses and @handles name things: a form inside one, or glued to one, is
# not a mention (https://en.wikipedia.org/wiki/Kiev and @Kiev_Independent must stay as
# published, and a rewrite glued on, https://t.co/x/ナトー -> …/NATO, would change them).
# A URL runs to the first space or non-ASCII character (Japanese text follows it unspaced).
# Two scans, merged: a handle glued to a URL (@Newshttps://…) must not hide the URL.
_URL_RE = re.compile(r"(?:https?|ftp)://[!-~]+|www\.[!-~]+", re.IGNORECASE)
# (Starting only where a run of address characters starts: tried from every position of a
# long run without @, the pattern was quadratic.)
_HANDLE_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@[A-Za-z0-9_][A-Za-z0-9_.\-]*"
)


def protected_spans(text: str) -> list[tuple[int, int]] | None:
    """Spans of the URLs, addresses and handles in ``text``, sorted and merged where they
    overlap or touch, or None (most texts)."""
    if "://" not in text and "@" not in text and "ww." not in text and "WW." not in text:
        return None
    merged: list[tuple[int, int]] = []
    for a, b in sorted(m.span() for rx in (_URL_RE, _HANDLE_RE) for m in rx.finditer(text)):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged or None


def touches(prot: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does ``[start, end)`` lie inside or touch one of ``prot`` (from ``protected_spans``)?
    Only the last span starting at or before ``end`` can: they are sorted and disjoint."""
    i = bisect_right(prot, (end, sys.maxsize)) - 1
    return i >= 0 and prot[i][1] >= start


def _outside(spans: list[Span], prot: list[tuple[int, int]]) -> list[Span]:
    """The spans neither inside nor touching a protected one."""
    return [c for c in spans if not touches(prot, c[0], c[1])]


# Edge flags of a pattern, computed on its first hit (a big glossary has hundreds of
# thousands of forms and a corpus hits only some of them).
# _SLOW: the form has rules (checked in _check); _SHORT: too short to be a part of a fused
# katakana run, so a katakana neighbour refuses it outright.
_KS, _KE, _LS, _LE, _SLOW, _SHORT, _UNKNOWN = 1, 2, 4, 8, 16, 32, 255


class Matcher:
    """Leftmost-longest glossary matcher with Japanese-aware boundaries."""

    def __init__(
        self,
        glossary: Glossary | CompiledGlossary,
        boundaries: TokenBoundaries = sudachi_boundaries,
    ) -> None:
        compiled = compile_glossary(glossary) if isinstance(glossary, Glossary) else glossary
        self.compiled = compiled
        self.patterns = Patterns(compiled)
        self._forms = compiled.forms
        self._auto = compiled.automaton
        self._boundaries = boundaries
        self._flags = bytearray([_UNKNOWN]) * len(compiled.forms)

    def __reduce__(self) -> tuple[type[Matcher], tuple[CompiledGlossary]]:
        return (Matcher, (self.compiled,))

    def load_tokenizer(self) -> None:
        """Load Sudachi now if a rule of the glossary needs its tokens: processes forked
        after this share it, where each would load its own on first need (~0.05 s of CPU
        apiece, in a run whose workers keep every core busy)."""
        if self.compiled.token_rules and self._boundaries is sudachi_boundaries:
            # A failure (a broken dictionary) comes back where a token is first checked,
            # as it would without this: a corpus that needs none still runs.
            with contextlib.suppress(Exception):
                _sudachi()

    def _flag(self, pi: int) -> int:
        form, _, _, _, rule, _ = self.patterns.spec(pi)
        fl = (
            (_KS if form[0] in _KATAKANA and not rule.infix else 0)
            | (_KE if form[-1] in _KATAKANA and not rule.infix else 0)
            | (_LS if form[0] in _LATIN else 0)
            | (_LE if form[-1] in _LATIN else 0)
            | (0 if rule.is_empty else _SLOW)
            | (_SHORT if len(form) < MIN_SPLIT_PART else 0)
        )
        self._flags[pi] = fl
        return fl

    def find(self, text: str, headline: bool = False) -> list[Match]:
        """All accepted mentions in ``text``, non-overlapping, leftmost-longest, in order."""
        pats = self.patterns
        return [Match(s, e, pats[pi], pre) for s, e, pi, pre in self.find_spans(text, headline)]

    def find_spans(self, text: str, headline: bool = False) -> list[Span]:
        """``find`` as plain tuples (start, end, pattern index, prefix): the hot path.

        The automaton reports leftmost-longest hits only, so a short form inside a longer
        known one (ロ in ロシア) costs nothing. Where a hit is refused by its checks, every
        form starting under it is tried, so a shorter mention hidden under the refused one
        is still found.
        """
        if self._auto is None or not text:
            return []
        hits = self._auto.find(text)  # text is valid Unicode (ingest)
        ok: list[Span] = []
        fused: list[Span] = []  # katakana-boundary refusals, for run splitting
        tokens: list[Span] = []  # waiting for the Sudachi check
        nearby: list[Span] = []  # refused for what stands next to them
        refused: list[tuple[int, int, int]] = []
        flags = self._flags
        kata = _KATAKANA
        latin = _LATIN
        n = len(text)
        # Hot loop: a hit of a form without rules only needs its edges checked, inline.
        for start, end, pi in hits:
            fl = flags[pi]
            if fl:
                if fl == _UNKNOWN:
                    fl = self._flag(pi)
                glued = (fl & _KS and start and text[start - 1] in kata) or (
                    fl & _KE and end < n and text[end] in kata
                )
                if glued and fl & _SHORT:  # ル in ミサイル: what _check would conclude
                    nearby.append((start, end, pi, ""))
                    if end - start > 1:
                        refused.append((start, end, pi))
                    continue
                if (
                    glued
                    or fl & _SLOW
                    or (fl & _LS and start and text[start - 1] in latin)
                    or (fl & _LE and end < n and text[end] in latin)
                ):
                    if (
                        not self._check(text, start, end, pi, headline, ok, fused, tokens, nearby)
                        and end - start > 1  # else nothing shorter can hide under it
                    ):
                        refused.append((start, end, pi))
                    continue
            ok.append((start, end, pi, ""))
        if refused:
            self._rescan(text, refused, headline, ok, fused, tokens, nearby)
        if tokens:
            ok.extend(self._token_ok(text, tokens))
        spans = self._resolve(ok) if refused or tokens else ok
        if len(spans) < len(ok):
            spans = self._rescan_losers(text, spans, headline, ok, fused, nearby)
        if fused:
            spans = self._split_fused(text, spans, fused)
        if (prot := protected_spans(text)) is not None:
            spans, nearby = _outside(spans, prot), _outside(nearby, prot)
        return self._as_written(text, spans, nearby, headline) if nearby else spans

    def find_reference(self, text: str, headline: bool = False) -> list[Match]:
        """Same result as ``find``, from every form at every offset (no automaton): slow,
        for tests only."""
        ok: list[Span] = []
        fused: list[Span] = []
        tokens: list[Span] = []
        nearby: list[Span] = []
        for start, end, pi in self._forms_at(text, range(len(text))):
            self._check(text, start, end, pi, headline, ok, fused, tokens, nearby)
        if tokens:
            ok.extend(self._token_ok(text, tokens))
        spans = self._resolve(ok)
        if fused:
            spans = self._split_fused(text, spans, fused)
        if (prot := protected_spans(text)) is not None:
            spans, nearby = _outside(spans, prot), _outside(nearby, prot)
        if nearby:
            spans = self._as_written(text, spans, nearby, headline)
        pats = self.patterns
        return [Match(s, e, pats[pi], pre) for s, e, pi, pre in spans]

    def _forms_at(self, text: str, offsets: Iterable[int]) -> Iterator[tuple[int, int, int]]:
        """(start, end, pattern index) of every form starting at each offset, shortest
        first. The forms are sorted (``compiled._compile_entries``), so those that begin with a
        growing head of the text narrow to a range found by bisection: no form index to
        build in every process (561k forms: 0.4 s and 40 MB each)."""
        forms = self._forms
        n = len(text)
        for p in offsets:
            lo, hi = 0, len(forms)
            for end in range(p + 1, n + 1):
                head = text[p:end]
                lo = bisect_left(forms, head, lo, hi)
                last = ord(head[-1])
                if last < 0x10FFFF:  # forms starting with head sort below this
                    hi = bisect_left(forms, head[:-1] + chr(last + 1), lo, hi)
                if lo == hi:
                    break
                if forms[lo] == head:  # head itself sorts first among them
                    yield p, end, lo

    def _token_ok(self, text: str, tokens: list[Span]) -> list[Span]:
        """The candidates that start and end on token boundaries of their clause."""
        ok: list[Span] = []
        clauses: dict[tuple[int, int], frozenset[int]] = {}
        for c in tokens:
            a, b = clause_around(text, c[0], c[1])
            bounds = clauses.get((a, b))
            if bounds is None:
                bounds = clauses[a, b] = self._boundaries(text[a:b])
            if c[0] - a in bounds and c[1] - a in bounds:
                ok.append(c)
        return ok

    def _rescan(
        self,
        text: str,
        refused: list[tuple[int, int, int]],
        headline: bool,
        ok: list[Span],
        fused: list[Span],
        tokens: list[Span],
        nearby: list[Span],
    ) -> None:
        seen = {c[:3] for c in ok} | {c[:3] for c in fused} | {c[:3] for c in tokens}
        seen.update(c[:3] for c in nearby)
        seen.update(refused)
        offsets = sorted({p for s, e, _ in refused for p in range(s, e)})
        for start, end, pi in self._forms_at(text, offsets):
            if (start, end, pi) not in seen:
                self._check(text, start, end, pi, headline, ok, fused, tokens, nearby)

    def _rescan_losers(
        self,
        text: str,
        spans: list[Span],
        headline: bool,
        ok: list[Span],
        fused: list[Span],
        nearby: list[Span],
    ) -> list[Span]:
        """A hit that loses to one found under a refused hit may itself hide a shorter
        mention past the winner (Council of European Council of Europe: Europe, once
        European Council beats Council of Europe): the forms starting under each loser
        are tried too, until no hit loses anew."""
        tried: set[tuple[int, int, int]] = set()
        while True:
            kept = set(spans)
            lost = [c[:3] for c in ok if c not in kept and c[:3] not in tried]
            if not lost:
                return spans
            tried.update(lost)
            tokens: list[Span] = []
            self._rescan(text, lost, headline, ok, fused, tokens, nearby)
            if tokens:
                ok.extend(self._token_ok(text, tokens))
            spans = self._resolve(ok)

    def _check(
        self,
        text: str,
        start: int,
        end: int,
        pi: int,
        headline: bool,
        ok: list[Span],
        fused: list[Span],
        tokens: list[Span],
        nearby: list[Span],
    ) -> bool:
        """Boundary and rule checks, cheapest first; files the hit in the right list.
        ``nearby`` gets the hits refused for what stands next to them (see ``_as_written``)."""
        p = self.patterns[pi]
        cand = (start, end, pi, "")
        if (p.latin_start and start > 0 and text[start - 1] in _LATIN) or (
            p.latin_end and end < len(text) and text[end] in _LATIN
        ):
            nearby.append(cand)
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
            nearby.append(cand)
            return False
        if r.headline and not headline:
            return False
        if (r.before or r.after) and not self._context_ok(text, start, end, p):
            nearby.append(cand)
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

    def _as_written(
        self, text: str, spans: list[Span], nearby: list[Span], headline: bool
    ) -> list[Span]:
        """``spans`` and the refused hits that the text as it will be written accepts.

        A hit refused for its neighbours (a katakana or Latin letter glued to it, a context
        rule) is checked again where a neighbour is a rewritten mention: against that
        mention's new form and the separator the rewrite puts between them. Judged on the
        source alone, ナト in ヨンハプ通信ナト is refused, the output reads 聯合ニュース・ナト,
        and normalising that again would take it: the output would not be a fixed point.
        A hit taken this way may displace overlapping mentions that keep their text and
        that it beats (leftmost, then longest), as the next run would; taking one may
        make another's neighbour a rewrite, so this repeats until nothing changes.
        """
        pats = self.patterns
        spec = pats.spec  # (the target from the spec: no pattern compiled for the test)
        if not any(sp[3] or spec(sp[2])[3] for sp in spans):
            return spans  # (most calls: no neighbour that the writing changes)
        pending = sorted(set(nearby))
        by_end = {sp[1]: sp for sp in spans}
        by_start = {sp[0]: sp for sp in spans}
        while pending:
            rest: list[Span] = []
            for cand in pending:
                start, end, pi, _ = cand
                # A neighbour changes the text next to it if it is rewritten, or gets a
                # separator in front (a part of a split katakana run).
                prev, nxt = by_end.get(start), by_start.get(end)
                before = pats[prev[2]].target if prev is not None else None
                if nxt is not None and not (pats[nxt[2]].target or nxt[3]):
                    nxt = None
                over = [sp for sp in spans if sp[0] < end and start < sp[1]]
                if (before is None and nxt is None) or any(
                    pats[sp[2]].target or sp[3] or (sp[0], -sp[1]) <= (start, -end)
                    for sp in over
                ):
                    rest.append(cand)
                    continue
                left = text[max(0, start - CONTEXT_WINDOW) : start]
                if before is not None and prev is not None:
                    sep = rewrite_separator(text[start], pats[prev[2]].form[-1], before[-1])
                    left = text[max(0, prev[0] - CONTEXT_WINDOW) : prev[0]] + before + sep
                right = text[end : end + CONTEXT_WINDOW]
                if nxt is not None:
                    p = pats[nxt[2]]
                    new = p.target or p.form
                    sep = nxt[3] or rewrite_separator(text[end - 1], p.form[0], new[0])
                    right = sep + new + text[nxt[1] : nxt[1] + CONTEXT_WINDOW]
                written = left + text[start:end] + right
                at = len(left)
                if self._check(written, at, at + end - start, pi, headline, [], [], [], []):
                    spans = self._resolve([sp for sp in spans if sp not in over] + [cand])
                    by_end = {sp[1]: sp for sp in spans}
                    by_start = {sp[0]: sp for sp in spans}
                else:
                    rest.append(cand)
            if len(rest) == len(pending):
                break
            pending = rest
        return spans

    @staticmethod
    def _resolve(cands: list[Span]) -> list[Span]:
        """Leftmost, then longest, then first pattern: the automaton's own order."""
        cands.sort(key=lambda c: (c[0], -c[1], c[2]))
        out: list[Span] = []
        last_end = 0
        for c in cands:
            if c[0] >= last_end:
                out.append(c)
                last_end = c[1]
        return out

    def _split_fused(self, text: str, spans: list[Span], fused: list[Span]) -> list[Span]:
        """Split a katakana run that is exactly a sequence of glossary forms.

        The parts may be refused hits (a form glued to more katakana) or accepted ones
        inside the run; the last part may run on past the katakana (a variant ending in
        kanji). Fewest parts wins, so one long known form beats two short ones.
        """
        pieces: dict[int, list[tuple[int, int, bool]]] = {}  # start -> (end, pattern, fused?)
        for start, end, pi, _ in fused:
            pieces.setdefault(start, []).append((end, pi, True))
        by_start = {sp[0]: sp for sp in spans}
        for sp in spans:
            pieces.setdefault(sp[0], []).append((sp[1], -1, False))
        result = list(spans)
        done_until = -1
        for start, fend, _, _ in sorted(fused, key=lambda c: (c[0], -c[1], c[2])):
            if start < done_until:
                continue
            run_start, run_end = _katakana_run(text, start, fend)
            tiling = _tile(run_start, run_end, pieces, text)
            if tiling is None or len(tiling) < 2 or not any(f for _, _, _, f in tiling):
                continue
            end = tiling[-1][1]
            if any(m[0] < run_start < m[1] or m[0] < end < m[1] for m in result):
                continue  # a mention crosses the run's edge: the run is not a name of its own
            done_until = end
            result = [m for m in result if m[1] <= run_start or m[0] >= end]
            prev: Span | None = None
            for s, e, pi, is_fused in tiling:
                part = (s, e, pi, "") if is_fused else by_start[s]
                if (
                    prev is not None
                    and prev[1] == s
                    and _ends_katakana(self.patterns[prev[2]])
                    and _starts_katakana(self.patterns[part[2]])
                ):
                    part = (s, part[1], part[2], SEPARATOR)
                result.append(part)
                prev = part
        result.sort()
        return result


def _ends_katakana(p: Pattern) -> bool:
    out = p.target or p.form
    return out[-1] in _KATAKANA


def _starts_katakana(p: Pattern) -> bool:
    out = p.target or p.form
    return out[0] in _KATAKANA


def _katakana_run(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` widened over katakana, and over single name joiners between two
    katakana letters, on both sides. (``・・`` is punctuation, not a joiner: a run that
    crossed it would not tile, and would tile once something else stood before it.)"""
    kata = _KATAKANA
    s = start
    while s > 0 and (
        text[s - 1] in kata or (text[s - 1] in NAME_JOINERS and s > 1 and text[s - 2] in kata)
    ):
        s -= 1
    e = end
    n = len(text)
    while e < n and (
        text[e] in kata or (text[e] in NAME_JOINERS and e + 1 < n and text[e + 1] in kata)
    ):
        e += 1
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
