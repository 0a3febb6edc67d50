"""Find spellings of names the glossary does not list yet, link them to entries, cluster the rest.

A glossary only knows what someone wrote into it; machine translation keeps inventing new
transliterations. This stage *finds* (``extract_candidates``), *scores* (``GlossaryIndex``)
and *groups* (``cluster_unknowns``); it never edits the glossary: a reviewer accepts or rejects
suggestions through ``glossnorm glossary accept/reject``, and a rejection recorded on an entry
(``Entry.rejects``) keeps that pair out of every later report.

Why the pieces look the way they do:

* Candidates are everything that could be a name (katakana runs and their ・ parts, Latin
  name runs, Sudachi proper-noun/OOV tokens, kanji runs read phonetically, known forms fused
  inside longer katakana runs), minus exact glossary forms: an exact form of entry B is never
  offered as a variant of entry A, so two entries are never merged.
* Scoring is ``kana.align`` on phoneme strings: vowel length is cheap, consonant changes are
  "hard" and disqualify, which is what keeps スロバキア away from スロベニア.
* The glossary is indexed by phoneme bigrams (numpy postings) and reranked with rapidfuzz,
  so a 60,000-entry glossary is never compared all-against-all in Python.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from glossnorm import kana
from glossnorm.ingest import Problem
from glossnorm.match import protected_spans, touches
from glossnorm.model import Document, Entry, Lang

# --------------------------------------------------------------------------- options and results


class ReportOptions(NamedTuple):
    """Thresholds (chosen with eval/report/run_eval.py; see docs/report.md)."""

    min_score: float = 0.75  # below this a pair is not suggested at all
    auto_score: float = 0.88  # at or above (and no other condition fails) → decision "auto"
    margin: float = 0.06  # best entry must beat the runner-up entry by this much for "auto"
    cluster_score: float = 0.8  # nearest-neighbour link between two unknown candidates
    contexts: int = 3  # KWIC lines kept per candidate
    window: int = 20  # characters each side in a KWIC line
    top_k: int = 5  # forms reranked exactly per candidate after blocking
    workers: int = 2  # rapidfuzz threads


DEFAULT_OPTIONS = ReportOptions()


@dataclass(frozen=True, slots=True)
class Context:
    doc: str
    left: str
    match: str
    right: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A surface that could be a name. ``kind``: katakana, latin, sudachi, kanji or split."""

    surface: str
    kind: str
    count: int = 1
    contexts: tuple[Context, ...] = ()
    readings: tuple[str, ...] = ()  # katakana readings (kanji and Sudachi candidates)
    normalized: str = ""  # Sudachi normalized_form when Sudachi knows the word
    common: bool = False  # Sudachi knows it as a single common (non-proper) noun
    run: str = ""  # split candidates: the katakana run the surface is fused into
    parts_known: bool = False  # a ・-joined run one of whose parts is a known/linked name


@dataclass(frozen=True, slots=True)
class Suggestion:
    surface: str
    count: int
    entry: str
    canonical: str
    en: str
    score: float
    decision: str  # "auto" or "review"
    evidence: tuple[str, ...]
    contexts: tuple[Context, ...] = ()
    kind: str = "variant"  # "variant", or "split" for a form fused inside a longer run
    run: str = ""
    lang: str = "ja"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "surface": self.surface,
            "count": self.count,
            "entry": self.entry,
            "canonical": self.canonical,
            "en": self.en,
            "score": round(self.score, 3),
            "decision": self.decision,
            "evidence": list(self.evidence),
            "contexts": [
                {"doc": c.doc, "left": c.left, "match": c.match, "right": c.right}
                for c in self.contexts
            ],
            "kind": self.kind,
            "lang": self.lang,
        }
        if self.kind == "split":
            out["run"] = self.run
            out["infix"] = True
        return out


@dataclass(frozen=True, slots=True)
class Cluster:
    members: tuple[tuple[str, int], ...]  # (surface, count), most frequent first
    score: float
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "members": [{"surface": s, "count": c} for s, c in self.members],
            "score": round(self.score, 3),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Report:
    suggestions: tuple[Suggestion, ...]
    clusters: tuple[Cluster, ...]
    documents: int = 0
    candidates: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "suggestions": [s.to_json() for s in self.suggestions],
            "clusters": [c.to_json() for c in self.clusters],
            "documents": self.documents,
            "candidates": self.candidates,
        }


# --------------------------------------------------------------------------- Sudachi


@lru_cache(maxsize=1)
def _sudachi() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core")


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    return _sudachi().tokenizer()


_MAX_BYTES = 40_000  # Sudachi refuses input over 49,149 bytes


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """(offset, chunk) pieces under Sudachi's byte limit, cut after line ends or 。."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _MAX_BYTES // 4)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind("。", start, end))
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    surface: str
    reading: str
    normalized: str
    proper: bool
    oov: bool


def tokenize(text: str) -> list[Token]:
    """Sudachi (mode C) tokens with half-open offsets into ``text``."""
    from sudachipy import SplitMode

    out: list[Token] = []
    tok = _tokenizer()
    for off, chunk in _chunks(text):
        for m in tok.tokenize(chunk, SplitMode.C):
            pos = m.part_of_speech()
            out.append(Token(off + m.begin(), off + m.end(), m.surface(), m.reading_form(),
                             m.normalized_form(), pos[1] == "固有名詞", m.is_oov()))
    return out


@lru_cache(maxsize=65536)
def reading_of(form: str) -> str:
    """Katakana reading of a non-katakana form by Sudachi ('' when any part is unknown)."""
    toks = tokenize(form)
    if not toks or any(t.oov for t in toks):
        return ""
    r = "".join(t.reading for t in toks)
    return r if kana.is_katakana(r) else ""


@lru_cache(maxsize=4096)
def _char_readings(ch: str) -> tuple[str, ...]:
    out = list(kana.ATEJI.get(ch, ()))
    for m in _sudachi().lookup(ch):
        r = m.reading_form()
        if kana.is_katakana(r):
            out.append(r)
    return tuple(dict.fromkeys(out))


def kanji_readings(tokens: Sequence[Token], limit: int = 16) -> tuple[str, ...]:
    """Readings of a token sequence: Sudachi's, plus per-kanji alternatives (ateji table)."""
    options: list[tuple[str, ...]] = []
    for t in tokens:
        alts = [t.reading] if kana.is_katakana(t.reading) else []
        if len(t.surface) == 1:
            alts.extend(_char_readings(t.surface))
        options.append(tuple(dict.fromkeys(alts)) or ("",))
    out: list[str] = []
    for combo in itertools.product(*options):
        out.append("".join(combo))
        if len(out) >= limit:
            break
    return tuple(r for r in dict.fromkeys(out) if r)


# --------------------------------------------------------------------------- candidate extraction

KATA_RUN_RE = re.compile(r"[ァ-ヺー]+(?:[・=＝][ァ-ヺー]+)*")
# (Not after # or @: a hashtag or handle is not a spelling of a name, #NATOexpansion.)
LATIN_RUN_RE = re.compile(r"(?<![A-Za-z0-9#@_])[A-Z][A-Za-z'’\-]*(?:[ \-][A-Z][A-Za-z'’\-]*)*")
# No name is longer: a longer katakana run (a line of noise) is not looked into, which keeps
# the prefix and suffix searches below linear in the run's length.
MAX_NAME_CHARS = 40
KANJI_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]{2,}")
_KANJI_CH_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]+\Z")
_LATIN_STOP = frozenset(["a", "an", "the", "of", "in", "on", "at", "by", "for", "to", "and", "or", "but", "is", "are", "was", "were", "be", "been", "source", "link", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mr", "mrs", "ms", "dr"])  # noqa: E501


class _Acc:
    """Accumulates occurrences of one surface."""

    __slots__ = ("common", "contexts", "count", "kind", "normalized", "parts_known",
                 "readings", "run")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.count = 0
        self.contexts: list[Context] = []
        self.readings: tuple[str, ...] = ()
        self.normalized = ""
        self.common = False
        self.run = ""
        self.parts_known = False


class Extractor:
    """Collects candidates over many documents (find only: nothing is linked here)."""

    def __init__(self, known: Callable[[str], bool], options: ReportOptions = DEFAULT_OPTIONS,
                 kana_key_known: Callable[[str], bool] | None = None) -> None:
        self.known = known
        self.kana_key_known = kana_key_known or (lambda k: False)
        self.opts = options
        self.acc: dict[tuple[str, str], _Acc] = {}
        self.documents = 0

    def _add(self, doc: str, text: str, start: int, end: int, kind: str,
             surface: str | None = None) -> _Acc:
        s = text[start:end] if surface is None else surface
        a = self.acc.get((s, kind))
        if a is None:
            a = self.acc[(s, kind)] = _Acc(kind)
        a.count += 1
        if len(a.contexts) < self.opts.contexts:
            w = self.opts.window
            a.contexts.append(Context(doc, _flat(text[max(0, start - w):start]), text[start:end],
                                      _flat(text[end:end + w])))
        return a

    def add_document(self, doc: str, text: str) -> None:
        self.documents += 1
        tokens = tokenize(text) if text.strip() else []
        by_start = {t.start: t for t in tokens}
        prot = protected_spans(text) or []  # URLs, addresses, handles: not text
        for m in KATA_RUN_RE.finditer(text):
            if not touches(prot, *m.span()):
                self._katakana_run(doc, text, m.start(), m.end(), by_start)
        for m in LATIN_RUN_RE.finditer(text):
            if not touches(prot, *m.span()):
                self._latin_run(doc, text, m.start(), m.end())
        for t in tokens:
            if (t.proper or t.oov) and _KANJI_CH_RE.match(t.surface) and not self.known(t.surface):
                a = self._add(doc, text, t.start, t.end, "sudachi")
                a.readings = (t.reading,) if kana.is_katakana(t.reading) else ()
                a.normalized = t.normalized
        # Tokens are in text order and do not overlap: starts and ends both ascend.
        starts, ends = [t.start for t in tokens], [t.end for t in tokens]
        for m in KANJI_RUN_RE.finditer(text):
            first = bisect.bisect_left(starts, m.start())
            self._kanji_run(doc, text, tokens[first : bisect.bisect_right(ends, m.end())])

    def _katakana_run(self, doc: str, text: str, start: int, end: int,
                      by_start: dict[int, Token]) -> None:
        run = text[start:end]
        parts: list[tuple[int, int]] = []
        pos = start
        for piece in re.split(r"[・=＝]", run):
            parts.append((pos, pos + len(piece)))
            pos += len(piece) + 1
        any_known = False
        for ps, pe in parts:
            piece = text[ps:pe]
            if len(piece) < 2 or len(piece) > MAX_NAME_CHARS or piece.strip("ー") == "":
                continue
            if self.known(piece) or self._segmentable(piece):
                any_known = True
                continue
            a = self._add(doc, text, ps, pe, "katakana")
            t = by_start.get(ps)
            if t is not None and t.end == pe and not t.oov:
                a.normalized = t.normalized
                a.common = not t.proper
            self._fused(doc, text, ps, pe)
        if len(parts) > 1 and len(run) <= MAX_NAME_CHARS and not self.known(run):
            a = self._add(doc, text, start, end, "katakana")
            a.parts_known = a.parts_known or any_known

    def _segmentable(self, piece: str) -> bool:
        """A run that is exactly two or more known forms (the normaliser splits those)."""
        n = len(piece)
        ok = [False] * (n + 1)
        ok[0] = True
        for i in range(n):
            if not ok[i]:
                continue
            for j in range(i + 2, n + 1):
                if j - i < n and self.known(piece[i:j]):
                    ok[j] = True
        return ok[n]

    def _fused(self, doc: str, text: str, start: int, end: int) -> None:
        """A known form (or its folded key) at either end of an unknown katakana part."""
        piece = text[start:end]
        n = len(piece)
        for k in range(3, n - 2):  # hidden form ≥ 3 kana, remainder ≥ 3 kana
            for hs, he in ((start + n - k, end), (start, start + k)):
                hidden = text[hs:he]
                if self.known(hidden) or self.kana_key_known(kana.fold_key(hidden)):
                    a = self._add(doc, text, hs, he, "split", surface=hidden + "\x00" + piece)
                    a.run = piece

    def _latin_run(self, doc: str, text: str, start: int, end: int) -> None:
        run = text[start:end]
        words = [(m.start() + start, m.end() + start)
                 for m in re.finditer(r"[A-Za-z'’\-]+", run)]
        any_known = False
        for ws, we in words:
            w = text[ws:we]
            if len(w) < 3 or w.lower() in _LATIN_STOP:
                continue
            if self.known(w):
                any_known = True
                continue
            self._add(doc, text, ws, we, "latin")
        if len(words) > 1 and not self.known(run):
            a = self._add(doc, text, start, end, "latin")
            a.parts_known = a.parts_known or any_known

    def _kanji_run(self, doc: str, text: str, inside: Sequence[Token]) -> None:
        """``inside``: the tokens within one kanji run."""
        for i in range(len(inside)):
            for j in range(i + 2, min(len(inside), i + 3) + 1):
                seq = inside[i:j]
                s, e = seq[0].start, seq[-1].end
                if e - s > 4 or self.known(text[s:e]):
                    continue
                # MT ateji are single kanji read for their sound (奈 + 藤); a sequence with a
                # longer word in it (国防 + 省) is word formation, and reading collisions
                # there are homophones (国防省/国防相), not variants.
                if any(t.end - t.start > 1 for t in seq):
                    continue
                readings = kanji_readings(seq)
                if any(self.kana_key_known(kana.fold_key(r)) for r in readings):
                    a = self._add(doc, text, s, e, "kanji")
                    a.readings = readings

    def candidates(self) -> list[Candidate]:
        out = []
        for (surface, kind), a in self.acc.items():
            s = surface.split("\x00")[0]
            out.append(Candidate(s, kind, a.count, tuple(a.contexts), a.readings, a.normalized,
                                 a.common, a.run, a.parts_known))
        out.sort(key=lambda c: (-c.count, c.surface, c.kind))
        return out


def _flat(s: str) -> str:
    return re.sub(r"\s+", " ", s)


# --------------------------------------------------------------------------- the glossary index


@dataclass(frozen=True, slots=True)
class IndexedForm:
    entry: int  # index into GlossaryIndex.entries
    form: str  # as written in the glossary
    phon: str
    key: str
    source: str  # "ja", "en" or "reading"
    reading: str = ""  # the katakana reading, for source "reading"


def _bigrams(p: str) -> set[str]:
    s = f"^{p}$"
    return {s[i:i + 2] for i in range(len(s) - 1)}


class _SubIndex:
    """Forms of one script, blocked by phoneme bigrams and by folded key."""

    def __init__(self, forms: list[IndexedForm]) -> None:
        self.forms = forms
        self.phons = [f.phon for f in forms]
        post: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[str, list[int]] = defaultdict(list)
        for i, f in enumerate(forms):
            for g in _bigrams(f.phon):
                post[g].append(i)
            self.by_key[f.key].append(i)
        self.post = {g: np.asarray(v, dtype=np.int32) for g, v in post.items()}

    def block(self, phon: str, key: str, top_k: int, workers: int = 1) -> list[int]:
        """Forms worth aligning exactly: key collisions, then the best bigram overlaps."""
        hits = list(self.by_key.get(key, ()))
        grams = [self.post[g] for g in _bigrams(phon) if g in self.post]
        if grams:
            ids, counts = np.unique(np.concatenate(grams), return_counts=True)
            need = max(1, math.ceil(0.4 * (len(phon) + 1)))
            keep = ids[counts >= need]
            if len(keep) > 0:
                if len(keep) > 4 * top_k:  # too many survivors: keep the best overlaps
                    order = np.argsort(-counts[counts >= need], kind="stable")[: 4 * top_k]
                    keep = keep[order]
                choices = [self.phons[i] for i in keep]
                best = process.extract(phon, choices, scorer=fuzz.ratio, limit=top_k,
                                       score_cutoff=50)
                # exact alignment is pure Python: only for forms near the best ratio
                top = best[0][1] if best else 0.0
                hits.extend(int(keep[i]) for _, sc, i in best if sc >= top - 12)
        return list(dict.fromkeys(hits))


@dataclass(frozen=True, slots=True)
class Link:
    entry: Entry
    form: str
    score: float
    hard: int
    evidence: tuple[str, ...]


class GlossaryIndex:
    """Every form of every entry, indexed for fast approximate lookup."""

    def __init__(self, entries: Sequence[Entry], readings: bool = True) -> None:
        self.entries = tuple(entries)
        self.exact: dict[str, int] = {}
        # forms that already match inside a longer katakana run: no split to suggest
        self.infix = {v.form for e in self.entries for v in e.variants if v.rule.infix}
        kana_forms: list[IndexedForm] = []
        latin_forms: list[IndexedForm] = []
        for i, e in enumerate(self.entries):
            for form in e.forms():
                self.exact.setdefault(form, i)
            ja_forms = set(e.forms(Lang.JA))
            for form in e.forms():
                src = "ja" if form in ja_forms else "en"
                if kana.is_katakana(form):
                    kana_forms.append(IndexedForm(i, form, kana.phonetic(form),
                                                  kana.fold_key(form), src))
                elif kana.is_latin(form):
                    latin_forms.append(IndexedForm(i, form, kana.latin_phonetic(form),
                                                   kana.latin_key(form), src))
                    if readings and src == "ja":
                        self._add_reading(i, form, kana_forms)
                elif readings:
                    self._add_reading(i, form, kana_forms)
        self.kana = _SubIndex([f for f in kana_forms if f.phon])
        self.latin = _SubIndex([f for f in latin_forms if f.phon])

    @staticmethod
    def _add_reading(i: int, form: str, out: list[IndexedForm]) -> None:
        r = reading_of(form)
        if r and len(kana.fold_key(r)) >= 2:
            out.append(IndexedForm(i, form, kana.phonetic(r), kana.fold_key(r), "reading", r))

    @classmethod
    def of(cls, glossary: Any) -> GlossaryIndex:
        return cls(glossary.entries)

    def is_known(self, form: str) -> bool:
        return form in self.exact

    def kana_key_known(self, key: str) -> bool:
        return len(key) >= 2 and key in self.kana.by_key

    # ----------------------------------------------------------------- scoring

    def score_pairs(self, cand: Candidate, opts: ReportOptions) -> list[Link]:
        """Every plausible (entry, score) for a candidate, best first, one per entry."""
        links: list[Link] = []
        if cand.kind == "latin":
            phon, key = kana.latin_phonetic(cand.surface), kana.latin_key(cand.surface)
            links = self._score(self.latin, cand.surface, phon, key, opts, "")
        elif cand.kind in ("katakana", "split"):
            phon, key = kana.phonetic(cand.surface), kana.fold_key(cand.surface)
            links = self._score(self.kana, cand.surface, phon, key, opts, "")
        else:  # kanji / sudachi: readings must collide on the folded key
            for r in cand.readings:
                key = kana.fold_key(r)
                for i in self.kana.by_key.get(key, ()) if len(key) >= 2 else ():
                    f = self.kana.forms[i]
                    al = kana.align(kana.phonetic(r), f.phon)
                    ev = (f"reading {r} (key {key}) = {f.form}"
                          + (f" read {_reading_label(f)}" if f.source == "reading" else ""),
                          _edits(al))
                    links.append(Link(self.entries[f.entry], f.form, al.similarity, al.hard, ev))
        if cand.normalized and cand.normalized != cand.surface:
            j = self.exact.get(cand.normalized)
            if j is not None:
                links.append(Link(self.entries[j], cand.normalized, 1.0, 0,
                                  (f"Sudachi normalized_form {cand.normalized}",)))
        best: dict[str, Link] = {}
        for lk in sorted(links, key=lambda x: (x.hard, -x.score)):
            best.setdefault(lk.entry.id, lk)
        return sorted(best.values(), key=lambda x: (x.hard > 0, -x.score, x.entry.id))

    def _score(self, sub: _SubIndex, surface: str, phon: str, key: str,
               opts: ReportOptions, label: str) -> list[Link]:
        if not phon:
            return []
        out = []
        for i in sub.block(phon, key, opts.top_k):
            f = sub.forms[i]
            al = kana.align(phon, f.phon, edge_vowels=not kana.is_latin(surface))
            ev = []
            if key == f.key:
                ev.append(f"folded key {key} = {f.form}")
            if f.source == "reading":
                ev.append(f"{f.form} read {_reading_label(f)}")
            ev.append(_edits(al))
            score = al.similarity
            out.append(Link(self.entries[f.entry], f.form, score, al.hard, tuple(ev)))
        return out

    def link(self, cand: Candidate, opts: ReportOptions) -> Suggestion | None:
        """The suggestion for one candidate, or None. Rejected pairs are skipped."""
        if self.is_known(cand.surface) and (cand.kind != "split" or cand.surface in self.infix):
            return None
        links = [lk for lk in self.score_pairs(cand, opts) if cand.surface not in lk.entry.rejects]
        ok = [lk for lk in links if lk.hard == 0 and lk.score >= _threshold(cand, lk, opts)]
        if not ok:
            return None
        top = ok[0]
        if cand.kind in ("kanji", "sudachi") and top.score < 0.999:
            return None
        others = [lk for lk in links if lk.entry.id != top.entry.id]
        ev = list(top.evidence)
        decision = "auto" if top.score >= opts.auto_score else "review"
        if others and top.score - others[0].score < opts.margin:
            ev.append(f"margin: also close to {others[0].entry.id} ({others[0].score:.2f})")
            decision = "review"
        if len(_plen(cand)) < 5 and decision == "auto" and not _normalized_hit(top):
            decision = "review"  # short forms: too little evidence to act without a person
        if cand.kind in ("kanji", "sudachi", "split") or cand.common or cand.parts_known:
            decision = "review"
        if cand.kind == "split":
            ev.insert(0, f"fused: {cand.surface} inside {cand.run}")
        lang = "en" if cand.kind == "latin" and top.form in top.entry.forms(Lang.EN) else "ja"
        return Suggestion(cand.surface, cand.count, top.entry.id, top.entry.canonical(Lang(lang)),
                          top.entry.en, top.score, decision, tuple(e for e in ev if e),
                          cand.contexts, "split" if cand.kind == "split" else "variant",
                          cand.run, lang)


def _consonant_sub(edit: str) -> bool:
    a, _, b = edit.partition("→")
    return bool(b) and a not in kana.VOWELS and b not in kana.VOWELS and ":" not in (a, b)


def _normalized_hit(lk: Link) -> bool:
    return any(e.startswith("Sudachi") for e in lk.evidence)


def _plen(c: Candidate) -> str:
    return kana.latin_phonetic(c.surface) if c.kind == "latin" else kana.phonetic(c.surface)


def _reading_label(f: IndexedForm) -> str:
    return f.reading


def _edits(al: kana.Alignment) -> str:
    return "edits: " + (" ".join(al.edits) if al.edits else "none") + f" (cost {al.cost:g})"


def _threshold(cand: Candidate, lk: Link, opts: ReportOptions) -> float:
    """Length-aware: short names need a higher similarity (one edit is a bigger share)."""
    n = len(_plen(cand))
    if _normalized_hit(lk):
        return 0.0
    if n <= 5 and any(_consonant_sub(e) for e in lk.evidence[-1].split()):
        return 2.0  # パリ/バリ: in a short name even a related consonant is another name
    if n <= 4:
        return max(opts.min_score, 0.9)
    if n <= 6:
        return max(opts.min_score, 0.82)
    return opts.min_score


# --------------------------------------------------------------------------- clustering


class _UF:
    def __init__(self, n: int) -> None:
        self.p = list(range(n))

    def find(self, i: int) -> int:
        while self.p[i] != i:
            self.p[i] = self.p[self.p[i]]
            i = self.p[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.p[self.find(a)] = self.find(b)


def cluster_unknowns(cands: Sequence[Candidate], opts: ReportOptions = DEFAULT_OPTIONS,
                     ) -> list[Cluster]:
    """Key collision, then nearest neighbour (rapidfuzz cdist blocking + exact alignment)."""
    out: list[Cluster] = []
    for latin in (False, True):
        group = [c for c in cands if (c.kind == "latin") == latin]
        out.extend(_cluster_script(group, latin, opts))
    out.sort(key=lambda c: (-sum(n for _, n in c.members), c.members[0][0]))
    return out


def _cluster_script(cands: Sequence[Candidate], latin: bool, opts: ReportOptions,
                    ) -> list[Cluster]:
    keyf = kana.latin_key if latin else kana.fold_key
    phonf = kana.latin_phonetic if latin else kana.phonetic
    by_key: dict[str, list[Candidate]] = defaultdict(list)
    for c in cands:
        k = keyf(c.surface)
        if len(k) >= 2:
            by_key[k].append(c)
    keys = sorted(by_key)
    phons = [phonf(by_key[k][0].surface) for k in keys]
    uf = _UF(len(keys))
    edge: dict[int, float] = {}
    chunk = 512
    for lo in range(0, len(keys), chunk):
        scores = process.cdist(phons[lo:lo + chunk], phons, scorer=fuzz.ratio, score_cutoff=70,
                               dtype=np.uint8, workers=opts.workers)
        for r, j in zip(*np.nonzero(scores), strict=True):
            i = lo + int(r)
            j = int(j)
            if j <= i:
                continue
            al = kana.align(phons[i], phons[j])
            if al.hard == 0 and al.similarity >= opts.cluster_score and min(
                    len(phons[i]), len(phons[j])) >= 4:
                a, b = uf.find(i), uf.find(j)
                uf.union(i, j)
                edge[uf.find(i)] = min(edge.get(a, 1.0), edge.get(b, 1.0), al.similarity)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        groups[uf.find(i)].append(i)
    out = []
    for root, idx in groups.items():
        members: dict[str, int] = {}
        for i in idx:
            for c in by_key[keys[i]]:
                members[c.surface] = members.get(c.surface, 0) + c.count
        if len(members) < 2:
            continue
        ms = tuple(sorted(members.items(), key=lambda x: (-x[1], x[0])))
        ev = tuple(f"key {keys[i]}" for i in idx)
        out.append(Cluster(ms, edge.get(root, 1.0), ev))
    return out


# --------------------------------------------------------------------------- the whole stage


@dataclass
class ReportBuilder:
    """Feed documents in, get a Report out (memory grows with distinct candidates only)."""

    index: GlossaryIndex
    options: ReportOptions = DEFAULT_OPTIONS
    _ex: Extractor = field(init=False)

    def __post_init__(self) -> None:
        self._ex = Extractor(self.index.is_known, self.options, self.index.kana_key_known)

    def add(self, doc: str, text: str) -> None:
        self._ex.add_document(doc, text)

    def build(self) -> Report:
        return build_report_from_candidates(self.index, self._ex.candidates(), self.options,
                                            self._ex.documents)


def build_report_from_candidates(index: GlossaryIndex, cands: Sequence[Candidate],
                                 opts: ReportOptions = DEFAULT_OPTIONS, documents: int = 0,
                                 ) -> Report:
    sugg: list[Suggestion] = []
    linked: set[str] = set()
    unknown: list[Candidate] = []
    for c in cands:
        s = index.link(c, opts)
        if s is not None and s.score >= opts.min_score:
            sugg.append(s)
            linked.add(c.surface)
        elif c.kind in ("katakana", "latin") and not c.common and not c.parts_known:
            unknown.append(c)
    # a ・-joined run whose part got linked is explained by that part, not a new name
    unknown = [c for c in unknown if not any(p in linked for p in re.split(r"[・=＝ ]", c.surface))]
    sugg.sort(key=lambda s: (s.decision != "auto", -s.score, -s.count, s.surface))
    return Report(tuple(sugg), tuple(cluster_unknowns(unknown, opts)), documents, len(cands))


def build_report(docs: Iterable[tuple[str, str]], entries: Sequence[Entry],
                 opts: ReportOptions = DEFAULT_OPTIONS) -> Report:
    """Report over ``(doc_id, cleaned_text)`` pairs against glossary ``entries``."""
    b = ReportBuilder(GlossaryIndex(entries), opts)
    for doc, text in docs:
        b.add(doc, text)
    return b.build()


# --------------------------------------------------------------------------- reading inputs


def iter_texts(inputs: Sequence[str | Path], include: Sequence[str] = (),
               exclude: Sequence[str] = (), text_field: str | None = None,
               problems: list[Problem] | None = None) -> Iterator[tuple[str, str]]:
    """``(doc_id, cleaned text)`` for every input document, read as ``normalise`` reads it;
    what cannot be read (a skipped file, a bad JSONL line) goes to ``problems``."""
    from glossnorm.clean import clean_text
    from glossnorm.ingest import IngestOptions, iter_inputs

    kw: dict[str, Any] = {"include": tuple(include), "exclude": tuple(exclude)}
    if text_field:
        kw["text_field"] = text_field
    for item in iter_inputs([str(i) for i in inputs], IngestOptions(**kw)):
        if isinstance(item, Document):
            yield item.id, clean_text(item.text).text
        elif problems is not None:
            problems.append(item)
