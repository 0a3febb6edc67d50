"""Character-level cleaning of a document, in one documented order.

Machine-translated and scraped Japanese news mixes full- and half-width forms, look-alike
characters for the long-vowel mark, stray zero-width characters and MT artefacts such as
``NATO・NATO``. Glossary matching and deduplication only work on one spelling of each
character, so every document goes through these steps, in this order (``STEP_NAMES``):

1. ``newlines``   CR, CRLF, VT, FF, NEL, U+2028/2029 -> LF. Every line break Python's
                  ``str.splitlines`` knows becomes one LF, so line numbers are preserved.
2. ``invisible``  remove zero-width characters (ZWSP, ZWJ, ZWNJ, word joiner, BOM), soft
                  hyphens, bidi controls, variation selectors and C0/C1 controls except
                  TAB and LF. They are invisible, so they only break matching.
3. ``width``      the characters on which Shift_JIS and CP932 decoders disagree become one
                  form: ～ (U+FF5E) -> 〜 (U+301C), ∥ -> ‖, － (U+FF0D) -> − (U+2212). This
                  runs before NFKC so the wave dash is not turned into an ASCII tilde, and
                  so that the same article in either encoding cleans to the same text.
4. ``nfkc``       Unicode NFKC. In Japanese news it turns full-width ASCII into ASCII
                  (ＮＡＴＯ -> NATO, １２ -> 12, （） -> ()), half-width katakana into full width
                  (ﾌﾞﾘﾝｹﾝ -> ブリンケン, ｰ -> ー), the ideographic space into a space, squared
                  and parenthesised forms into letters (㈱ -> (株), ㌔ -> キロ), and CJK
                  compatibility ideographs into their unified form. Protected (left as is):
                  circled and enclosed numbers and letters (①, ㊤: NFKC would glue a list
                  marker to the number after it, ①3月 -> 13月), the ellipsis … and ‥ (NFKC
                  makes ``...``), and the spacing marks that NFKC would turn into a space plus
                  a combining mark (゛ ゜ ￣ ´ ¨ ...).
5. ``whitespace`` any run of horizontal whitespace -> one space; spaces at the start and
                  end of a line removed; a space between two Japanese characters removed
                  (``ロシア 外務省`` -> ``ロシア外務省``); spaces next to Latin letters or digits
                  kept (``Vladimir Putin``, ``NHKニュース (@nhk_news)``), and next to a dash
                  or long-vowel look-alike (``ロシア ― ウクライナ``).
6. ``long_vowel`` a long-vowel look-alike directly after a katakana letter becomes ー
                  (ブリンカ―ン, サーバ〜 -> サーバー). Look-alikes: ‐ − ― ─ ━ 〜 (and the
                  full-width forms mapped onto them above). ASCII ``-``, the en dash and the
                  em dash are never touched: they are separators in headlines and tweet
                  attributions (``警告-ウクライナ``, ``— NHKニュース``). Nor is a look-alike
                  after ン or ッ (no word has ー there: プーチン―その野望), one beside another
                  dash (――, the Japanese dash), or one with a space before it (ロシア ―
                  ウクライナ; ``whitespace`` keeps spaces next to look-alikes). Runs after
                  ``whitespace`` and ``nfkc`` so both can only feed it, never undo it.
7. ``doubled``    a Latin term doubled around a middle dot collapses: ``NATO・NATO`` -> ``NATO``
                  (also ``(NATO・NATO)`` -> ``(NATO)``). Japanese terms are left alone:
                  ボラ・ボラ-style names are real.
8. ``brackets``   unbalanced brackets are reported in ``notes``, one per bracket, and are
                  repaired only where the repair is certain: a Latin acronym directly after
                  kanji and directly before an unmatched ``)`` gets its ``(`` back
                  (``北大西洋条約機構NATO)`` -> ``北大西洋条約機構(NATO)``), and a kanji name
                  directly after an acronym and before an unmatched ``)`` likewise
                  (``NATO北大西洋条約機構)`` -> ``NATO(北大西洋条約機構)``).

Not done here: trailing URLs are kept (a tweet's ``https://t.co/...`` is part of the line
as published; the boilerplate rules drop lines that are *only* links), and lines are
never dropped or merged, so ``clean_text`` keeps the number of lines.

``clean_text`` is idempotent: cleaning its output again changes nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

STEP_NAMES: tuple[str, ...] = (
    "newlines",
    "invisible",
    "width",
    "nfkc",
    "whitespace",
    "long_vowel",
    "doubled",
    "brackets",
)


@dataclass(frozen=True)
class CleanResult:
    text: str
    steps: tuple[tuple[str, int], ...]  # (step name, number of changes) in run order
    notes: tuple[str, ...] = ()


# -- 1. newlines -------------------------------------------------------------------------

_NEWLINE_CHARS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_NEWLINE_RE = re.compile(f"[{_NEWLINE_CHARS}]")


def fix_newlines(text: str) -> tuple[str, int]:
    """Every line break ``str.splitlines`` recognises becomes a single LF."""
    crlf = text.count("\r\n")
    if crlf:
        text = text.replace("\r\n", "\n")
    text, n = _NEWLINE_RE.subn("\n", text)
    return text, crlf + n


# -- 2. invisible ------------------------------------------------------------------------

_INVISIBLE_RE = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but TAB, LF) and C1 controls
    "\u00ad\u061c\u180e"  # soft hyphen, Arabic letter mark, Mongolian vowel separator
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f"  # zero-width, bidi, word joiner, invisibles
    "\ufe00-\ufe0f\ufeff\ufff9-\ufffb"  # variation selectors, BOM, annotation marks
    "\U000e0000-\U000e01ef"  # tags, ideographic variation selectors (one range: fast)
    "]"
)


def remove_invisible(text: str) -> tuple[str, int]:
    """Remove zero-width, bidi, variation-selector and control characters (not TAB/LF)."""
    return _INVISIBLE_RE.subn("", text)


# -- 3. width ----------------------------------------------------------------------------

_WIDTH_MAP = {"\uff5e": "\u301c", "\u2225": "\u2016", "\uff0d": "\u2212"}
_WIDTH_RE = re.compile("[" + "".join(_WIDTH_MAP) + "]")


def unify_width(text: str) -> tuple[str, int]:
    """Map the CP932-only twins onto their JIS X 0208 forms (～ -> 〜, ∥ -> ‖, － -> −)."""
    return _WIDTH_RE.subn(lambda m: _WIDTH_MAP[m.group()], text)


# -- 4. nfkc -----------------------------------------------------------------------------

# The two character tables below take a scan of all code points (~0.2 s, at every start).
# They are shipped precomputed for the Unicode version they were computed with; under any
# other version they are computed again. A test checks the shipped ones.
_TABLES_PATH = Path(__file__).parent / "data" / "nfkc_tables.json"


def _load_tables() -> dict[str, str]:
    try:
        data = json.loads(_TABLES_PATH.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("unidata_version") != unicodedata.unidata_version:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}


_TABLES = _load_tables()


def _space_makers() -> str:
    # Characters whose NFKC form is a space plus a combining mark (゛ -> " ゙"). Computed
    # rather than listed so that a new Unicode version cannot slip one past the protection.
    cached = _TABLES.get("space_makers")
    if cached is not None:
        return cached
    out = []
    for cp in range(0x00A0, 0x10000):
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch)
        if len(norm) > 1 and norm[0] == " ":
            out.append(ch)
    return "".join(out)


_PROTECTED_RANGES = (
    (0x2025, 0x2026),  # ‥ …
    (0x2460, 0x24FF),  # circled / parenthesised numbers and letters
    (0x2776, 0x2793),
    (0x3244, 0x325F),  # circled ideographs, numbers, katakana
    (0x3280, 0x32BF),
    (0x32D0, 0x32FE),
)
_PROTECTED_CHARS = frozenset(
    [chr(c) for lo, hi in _PROTECTED_RANGES for c in range(lo, hi + 1)] + list(_space_makers())
)
_PROTECTED_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _PROTECTED_RANGES) + re.escape(
    _space_makers()
)
_PROTECTED_RE = re.compile(f"[{_PROTECTED_CLASS}]+")


def _composes_backward() -> str:
    """Code points that may compose with what precedes them (NFKC_Quick_Check = Maybe):
    second halves of canonical pairs (combining marks, but also starters such as Indic
    vowel signs), and the Hangul vowel and trailing jamo, which compose by algorithm (so
    no decomposition lists them)."""
    out = {chr(c) for c in range(0x1161, 0x1176)} | {chr(c) for c in range(0x11A8, 0x11C3)}
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and d[0] != "<" and len(parts := d.split()) == 2:
            out.add(chr(int(parts[1], 16)))
    return "".join(sorted(out))


def _nfkc_unstable_bmp() -> str:
    """The BMP code points before which NFKC may not cut a text: those it changes,
    combining marks (reordered, composed) and those that compose with what precedes them.
    Every other code point is a stable starter (UAX #15): NFKC of a text is NFKC of its
    pieces cut before each stable starter."""
    cached = _TABLES.get("unstable_bmp")
    if cached is not None:
        return cached
    backward = frozenset(_composes_backward())
    out = []
    for cp in range(0x10000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or _PROTECTED_RE.fullmatch(ch):
            continue
        if unicodedata.normalize("NFKC", ch) != ch or unicodedata.combining(ch) or ch in backward:
            out.append(ch)
    return "".join(out)


# Candidates: the unstable BMP characters plus every astral one (checked exactly when
# met). A class of BMP characters and one range compiles to a bitmap: scanning Japanese
# text for it runs at >100 MB/s, where the exact class of ranges ran at 7 MB/s.
_UNSTABLE = re.escape(_nfkc_unstable_bmp()) + "\U00010000-\U0010ffff"
_UNSTABLE_SPLIT_RE = re.compile(f"([{_UNSTABLE}]+)")
# The same with the protected characters, for a plain NFKC (``full_nfkc``).
_ANY_UNSTABLE_SPLIT_RE = re.compile(f"([{_UNSTABLE}{_PROTECTED_CLASS}]+)")


_NFKC_CACHE: dict[str, tuple[str, int]] = {}
# Runs cached: at most this many, of at most this many characters (a line of full-width
# text is one run; it rarely repeats, and 100,000 of them would hold megabytes).
_CACHE_ENTRIES, _CACHE_UNIT = 100_000, 64


def _nfkc_unit(unit: str, run: str) -> tuple[str, int]:
    """NFKC of one run (with the character before it) and how many code points changed;
    cached, since news text repeats the same few runs (full-width brackets and digits)."""
    out = unicodedata.normalize("NFKC", unit)
    n = 0 if out == unit else (sum(unicodedata.normalize("NFKC", c) != c for c in run) or 1)
    if len(unit) <= _CACHE_UNIT:
        if len(_NFKC_CACHE) >= _CACHE_ENTRIES:
            _NFKC_CACHE.clear()
        _NFKC_CACHE[unit] = (out, n)
    return out, n


def nfkc(text: str) -> tuple[str, int]:
    """NFKC, except for the protected characters; counts the code points NFKC rewrote.

    Only the runs that NFKC may change are normalised, each with the stable character
    before it (a combining mark composes with it): the same result as NFKC of each piece
    between protected characters, at scanning speed when there is nothing to do.
    """
    parts = _UNSTABLE_SPLIT_RE.split(text)  # stable, run, stable, run, ..., stable
    if len(parts) == 1:
        return text, 0
    count = 0
    cache = _NFKC_CACHE
    for i in range(1, len(parts), 2):
        run = parts[i]
        before = parts[i - 1]
        prev = before[-1:]
        joined = prev != "" and prev != "\n" and prev not in _PROTECTED_CHARS
        unit = prev + run if joined else run
        done = cache.get(unit)
        if done is None:
            done = _nfkc_unit(unit, run)
        out, n = done
        if n:
            count += n
            if joined:
                parts[i - 1] = before[:-1]
            parts[i] = out
    return ("".join(parts), count) if count else (text, 0)


_FULL_CACHE: dict[str, str] = {}


def full_nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, protected characters included. Dedup folds
    every segment, and cleaned text is mostly NFKC already (CPython's check is 7x faster
    than the split below), or differs in a few protected characters (… ⓒ): only runs
    around those are normalised, as in ``nfkc`` (normalising a whole segment is slow)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    parts = _ANY_UNSTABLE_SPLIT_RE.split(text)  # stable, run, ..., stable (a run exists)
    cache = _FULL_CACHE
    if len(cache) >= _CACHE_ENTRIES:
        cache.clear()
    for i in range(1, len(parts), 2):
        before = parts[i - 1]
        unit = before[-1:] + parts[i]
        out = cache.get(unit)
        if out is None:
            out = unicodedata.normalize("NFKC", unit)
            if len(unit) <= _CACHE_UNIT:
                cache[unit] = out
        if out != unit:
            parts[i - 1] = before[:-1]
            parts[i] = out
    return "".join(parts)


_LOOK_ALIKES = "\u2010\u2212\u2015\u2500\u2501\u301c"
# No Japanese word has ー after ン or ッ: a dash there ends a name (プーチン―その).
_LONG_VOWEL_BASE = "\u30a1-\u30c2\u30c4-\u30f2\u30f4-\u30fa\u31f0-\u31ff"
# A run of dashes is a dash (――, the Japanese em dash, which CP932 decodes to ―).
_DASHES = _LOOK_ALIKES + "\u2012-\u2014\u2e3a\u2e3b-"


# -- 5. whitespace -----------------------------------------------------------------------

# "Japanese" for the space rule: kana, CJK punctuation and ideographs. Not the long-vowel
# look-alikes: with spaces around them they are dashes (ロシア ― ウクライナ), and a space
# kept beside one also keeps ``long_vowel`` from reading it as ー, now and on a second run.
# Combining kana marks are excluded: joining them to a kana would make NFKC compose them
# on the next run.
_JA = (
    "\u2025\u2026"
    "\u3000-\u301b\u301d-\u303f\u3041-\u3098\u309b-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
    "\U00020000-\U0003134f"
)
# any horizontal whitespace run other than exactly one plain space
_BLANK_CHARS = "\t\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_BLANKS_RE = re.compile(f"[{_BLANK_CHARS}]+")
# Literal-first patterns: the regex engine then skips ahead to the next space at C speed.
_SPACES_RE = re.compile("  +")
_TRAILING_RE = re.compile("  *\n")
_LEADING_RE = re.compile("\n +")
# (A look-alike that ``long_vowel`` will turn into ー counts as Japanese before a space.)
_JA_SPACE_RE = re.compile(
    f" (?:(?<=[{_JA}] )|(?<=[{_LONG_VOWEL_BASE}][{_LOOK_ALIKES}] ))(?=[{_JA}])"
)


def fix_whitespace(text: str) -> tuple[str, int]:
    """Collapse horizontal whitespace, strip line ends, drop spaces between Japanese."""
    count = 0
    # One str.find per character is 2-3x faster than the class scan, and after NFKC
    # (which maps all of them but TAB and U+1680 to a space) there is usually none.
    if any(c in text for c in _BLANK_CHARS):
        text, count = _BLANKS_RE.subn(" ", text)
    if " " not in text:
        return text, count
    for pattern, repl in ((_SPACES_RE, " "), (_TRAILING_RE, "\n"), (_LEADING_RE, "\n")):
        text, n = pattern.subn(repl, text)
        count += n
    if text[:1] == " " or text[-1:] == " ":  # (one change at each end: see clean_stream)
        count += (text[:1] == " ") + (text[-1:] == " ")
        text = text.strip(" ")
    text, n = _JA_SPACE_RE.subn("", text)
    return text, count + n


# -- 6. long_vowel -----------------------------------------------------------------------

_LONG_VOWEL_RE = re.compile(
    f"[{_LOOK_ALIKES}](?<=[{_LONG_VOWEL_BASE}].)(?![{_DASHES}])"
)


def fix_long_vowels(text: str) -> tuple[str, int]:
    """A look-alike of ー directly after a katakana letter becomes ー (see the module
    docstring for the dashes it leaves alone)."""
    return _LONG_VOWEL_RE.subn("ー", text)


# -- 7. doubled --------------------------------------------------------------------------

_DOUBLED_RE = re.compile(  # class first, then the look-behind: fast scan
    r"([A-Za-z](?<![A-Za-z0-9&.\-][A-Za-z])[A-Za-z0-9&.\-]*[A-Za-z0-9])(?:・\1)+(?![A-Za-z0-9])"
)


# What every doubled term contains: a letter or digit, ・, a letter. Japanese text is full
# of ・ between katakana names; this literal-first search skips it at C speed, where the
# full pattern tries a match at every Latin letter (benchmark corpus: 0.5 vs 6.5 ms/MB).
_DOUBLED_HINT_RE = re.compile("・(?<=[A-Za-z0-9]・)[A-Za-z]")


def collapse_doubled(text: str) -> tuple[str, int]:
    """``NATO・NATO`` -> ``NATO``: an MT artefact where a gloss repeats the term."""
    if _DOUBLED_HINT_RE.search(text) is None:
        return text, 0
    return _DOUBLED_RE.subn(r"\1", text)


# -- 8. brackets -------------------------------------------------------------------------

_PAIRS = {"(": ")", "[": "]", "{": "}", "「": "」", "『": "』", "【": "】", "〔": "〕",
          "〈": "〉", "《": "》", "“": "”"}  # fmt: skip

_ANY_BRACKET_RE = re.compile("[" + re.escape("".join(_PAIRS) + "".join(_PAIRS.values())) + "]")
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々"
_ACRONYM = "[A-Z][A-Z0-9&]{1,9}"
# Both are tried on the text that ends at an unmatched ")".
# kanji + ACRONYM + ")": the "(" belongs in front of the acronym
_REPAIR_ACRONYM_RE = re.compile(f"(?<=[{_KANJI}]){_ACRONYM}\\)\\Z")
# ACRONYM + kanji name + ")": the "(" belongs in front of the kanji
_REPAIR_NAME_RE = re.compile(f"(?<![A-Za-z0-9]){_ACRONYM}([{_KANJI}]{{2,}})\\)\\Z")
MAX_BRACKET_NOTES = 50


# An innermost pair on one line. Deleting such pairs until none is left leaves, on each
# line, exactly the brackets of the type that the stack walk below reports: a fast test
# for the common, balanced case (a plain deletion runs in C; a group reference would not),
# which also tells which lines to walk (deletions keep every newline).
_INNER_PAIR_RES = {
    o: re.compile(f"{re.escape(o)}[^{re.escape(o + c)}\\n]*{re.escape(c)}")
    for o, c in _PAIRS.items()
}
_PAIR_CHAR_RES = {o: re.compile(f"[{re.escape(o + c)}]") for o, c in _PAIRS.items()}
_LF_RE = re.compile("\n")


def _leftover(text: str, o: str, c: str) -> str:
    """``text`` with every matched pair of the type deleted, innermost first."""
    rx = _INNER_PAIR_RES[o]
    rest, n = rx.subn("", text)
    while n and o in rest and c in rest:  # (a pair needs both: usually none is left)
        rest, n = rx.subn("", rest)
    return rest


def unbalanced_brackets(text: str) -> list[tuple[int, int]]:
    """(offset, 1-based line) of brackets without a partner on the same line.

    Each pair type is balanced on its own, so ``(「)」`` reports nothing: MT output mixes
    types far more often than it truly interleaves them.
    """
    bad: list[tuple[int, int]] = []
    starts: list[int] = []  # offset of each line, once a walk needs them
    for o, c in _PAIRS.items():
        if o not in text and c not in text:
            continue
        rest = _leftover(text, o, c)
        if o not in rest and c not in rest:
            continue
        if not starts:
            starts = [0, *(m.end() for m in _LF_RE.finditer(text))]
        # Only the lines where a bracket is left over are walked (usually one of many).
        for i, left in enumerate(rest.split("\n")):
            if o not in left and c not in left:
                continue
            start = starts[i]
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
            stack: list[int] = []
            for m in _PAIR_CHAR_RES[o].finditer(text, start, end):
                if m.group() == o:
                    stack.append(m.start())
                elif stack:
                    stack.pop()
                else:
                    bad.append((m.start(), i + 1))
            bad.extend((s, i + 1) for s in stack)
    return sorted(bad)


def _excerpt(text: str, offset: int, before: int = 12, after: int = 6) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    return text[max(start, offset - before) : min(end, offset + 1 + after)]


@dataclass
class _Brackets:
    """What the bracket step has found so far in a text, or in the pieces of one
    (``clean_stream``): a running tally, hence not frozen."""

    repairs: list[str] = field(default_factory=list)  # a note per repair, in order
    unbalanced: list[str] = field(default_factory=list)  # the first MAX_BRACKET_NOTES
    more: int = 0  # unbalanced brackets beyond those

    def notes(self) -> list[str]:
        tail = [f"... and {self.more} more unbalanced brackets"] if self.more else []
        return [*self.repairs, *self.unbalanced, *tail]


def repair_brackets(text: str) -> tuple[str, int, list[str]]:
    """Repair the certain cases of an unmatched ``)``; report every unbalanced bracket."""
    found = _Brackets()
    text, n = _fix_brackets(text, found, 0)
    return text, n, found.notes()


def _fix_brackets(text: str, found: _Brackets, line_base: int) -> tuple[str, int]:
    """``repair_brackets``, adding to ``found``; line numbers are ``line_base`` + the line
    in ``text``. Returns the text and the number of repairs."""
    if _ANY_BRACKET_RE.search(text) is None:
        return text, 0
    bad = unbalanced_brackets(text)
    if not bad:
        return text, 0
    notes = found.repairs
    bad_close = {off: line for off, line in bad if text[off] == ")"}
    inserts: dict[int, int] = {}  # offset where "(" goes -> offset of its ")"
    for close in bad_close:
        base = max(0, close - 40)
        window = text[base : close + 1]
        if m := _REPAIR_ACRONYM_RE.search(window):
            inserts[base + m.start()] = close
        elif m := _REPAIR_NAME_RE.search(window):
            inserts[base + m.start(1)] = close
    if inserts:
        pieces: list[str] = []
        last = 0
        for pos, close in sorted(inserts.items()):
            left = text[max(text.rfind("\n", 0, pos) + 1, pos - 10) : pos]
            before = left + text[pos : close + 1]
            after = left + "(" + text[pos : close + 1]
            line = bad_close[close] + line_base
            notes.append(f"repaired bracket at line {line}: {before} -> {after}")
            pieces.append(text[last:pos])
            pieces.append("(")
            last = pos
        pieces.append(text[last:])
        text = "".join(pieces)
        bad = unbalanced_brackets(text)
    room = MAX_BRACKET_NOTES - len(found.unbalanced)
    for off, line in bad[:room]:
        found.unbalanced.append(
            f"unbalanced bracket at line {line + line_base}: {_excerpt(text, off)}"
        )
    found.more += max(0, len(bad) - room)
    return text, len(inserts)


# -- the pipeline ------------------------------------------------------------------------

_SIMPLE_STEPS: tuple[tuple[str, Callable[[str], tuple[str, int]]], ...] = (
    ("newlines", fix_newlines),
    ("invisible", remove_invisible),
    ("width", unify_width),
    ("nfkc", nfkc),
    ("whitespace", fix_whitespace),
    ("long_vowel", fix_long_vowels),
    ("doubled", collapse_doubled),
)


# One scan tells whether any of the first three steps has work: usually none has.
_PREP_TRIGGER_RE = re.compile(
    "[" + _NEWLINE_CHARS + _INVISIBLE_RE.pattern[1:-1] + "".join(_WIDTH_MAP) + "]"
)
_PREP_STEPS = frozenset({"newlines", "invisible", "width"})


def clean_text(text: str) -> CleanResult:
    """Run every cleaning step in ``STEP_NAMES`` order; see the module docstring."""
    found = _Brackets()
    text, counts = _clean(text, found, 0)
    steps = tuple(zip(STEP_NAMES, counts, strict=True))
    return CleanResult(text=text, steps=steps, notes=tuple(found.notes()))


def _clean(text: str, found: _Brackets, line_base: int) -> tuple[str, list[int]]:
    """The steps on ``text``: the cleaned text and each step's count (bracket notes go to
    ``found``, numbered from ``line_base``)."""
    counts: list[int] = []
    skip_prep = _PREP_TRIGGER_RE.search(text) is None
    for name, fn in _SIMPLE_STEPS:
        if skip_prep and name in _PREP_STEPS:
            counts.append(0)
            continue
        text, n = fn(text)
        counts.append(n)
    text, n = _fix_brackets(text, found, line_base)
    counts.append(n)
    return text, counts


def lf_pieces(text: str, piece_chars: int) -> Iterator[str]:
    """``text`` cut after the first LF from each ``piece_chars`` characters on."""
    start = 0
    while True:
        cut = text.find("\n", start + max(piece_chars, 1) - 1) + 1 or len(text)
        yield text[start:cut]
        start = cut
        if start >= len(text):
            return


def clean_stream(pieces: Iterable[str]) -> Iterator[tuple[str, CleanResult | None]]:
    """``clean_text`` of a long document a piece at a time, so that the first pieces can be
    used while the rest is read or cleaned. ``pieces`` join to the text, and each but the
    last ends with a LF. The cleaned pieces join to ``clean_text(text).text``; the last
    comes with that result's steps and notes (its text left empty), the others with None.

    Every step works within a line, but for the ends of the text; so a piece after the
    first is cleaned behind a LF, which it then drops: its first line is met as a line
    after another, never as the start of the text. The one count that joined the two
    ends of the text, spaces stripped there, counts each end apart (``fix_whitespace``).
    """
    found = _Brackets()
    totals = [0] * len(STEP_NAMES)
    lines = 0
    first = True
    rest = iter(pieces)
    piece: str | None = next(rest, "")
    while piece is not None:
        after = next(rest, None)  # (one piece ahead: the last one brings the totals)
        if first:
            out, counts = _clean(piece, found, 0)
        else:
            out, counts = _clean("\n" + piece, found, lines - 1)
            assert out[:1] == "\n", "cleaning keeps every line"
            out = out[1:]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines += out.count("\n")  # (lines as cleaned: CR, NEL, U+2028 ... end lines too)
        if after is None:
            steps = tuple(zip(STEP_NAMES, totals, strict=True))
            yield out, CleanResult(text="", steps=steps, notes=tuple(found.notes()))
            return
        yield out, None
        piece, first = after, False
