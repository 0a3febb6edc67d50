"""Katakana-aware keys and distances for finding unknown spellings of known names.

OpenRefine's fingerprint and phonetic keys only understand Latin letters; machine
translation drifts katakana in a handful of regular ways (ヴ/バ, long vowels, small kana,
ッ, ・, ティ/チ …) and, much more rarely, in its consonants. So two tools:

* ``fold_key``: an aggressive key under which the regular drifts collide
  (ウラジミール, ウラジーミル and ヴラジーミル all fold to ウラジミル). Used for blocking and as
  strong evidence, never as proof: the distance below decides.
* ``phonetic`` + ``distance``: a romanised phoneme string (one character per phoneme) and
  a weighted edit distance on it where vowel length and ッ are cheap, a vowel change is
  moderate, a related consonant (b/v, k/g, r/l, ch/j …) is moderate and any other consonant
  change is expensive. The expensive edits are counted separately (``Alignment.hard``):
  スロバキア/スロベニア and オーストリア/オーストラリア differ by one hard edit each.

Latin strings get a matching light phonetic form (``latin_phonetic``) so ``Zelenskiy`` and
``Zelensky`` compare the same way.

Steps of ``fold_key``, in order: NFKC; hiragana → katakana; drop ・ and spaces; ヴ-row → バ-row;
ティ/ディ/トゥ/ドゥ → チ/ジ/ト/ド; ヂ/ヅ/ヰ/ヱ/ヲ → ジ/ズ/イ/エ/オ; small kana → full size;
drop ッ and ー; drop a vowel kana that only lengthens the previous mora (ナトウ → ナト).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --------------------------------------------------------------------------- character classes

_KATA_RE = re.compile(r"[\u30a1-\u30fa\u30fc\u30fb]+\Z")
_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z .'\-]*\Z")
_DOTS = "・･=＝ 　"


def to_katakana(text: str) -> str:
    """NFKC, then hiragana → katakana (ゔ and the small forms included)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def is_katakana(text: str) -> bool:
    """All katakana (with ー and ・)."""
    return bool(text) and _KATA_RE.match(text) is not None and text.strip("・ー") != ""


def is_latin(text: str) -> bool:
    return bool(text) and _LATIN_RE.match(text) is not None


# Multi-kana folds applied before small kana become full size (order matters: longest first).
_FOLD_PAIRS: tuple[tuple[str, str], ...] = (
    ("ヴァ", "バ"), ("ヴィ", "ビ"), ("ヴェ", "ベ"), ("ヴォ", "ボ"), ("ヴュ", "ビュ"), ("ヴ", "ブ"),
    ("ティ", "チ"), ("ディ", "ジ"), ("トゥ", "ト"), ("ドゥ", "ド"), ("テュ", "チュ"), ("デュ", "ジュ"),  # noqa: E501
    ("ヂ", "ジ"), ("ヅ", "ズ"), ("ヰ", "イ"), ("ヱ", "エ"), ("ヲ", "オ"), ("ヷ", "バ"), ("ヺ", "ボ"),  # noqa: E501
    ("クヮ", "カ"), ("グヮ", "ガ"),
)
_SMALL = str.maketrans("ァィゥェォャュョヮヵヶ", "アイウエオヤユヨワカケ")
_FOLD_RE = re.compile("|".join(re.escape(a) for a, _ in _FOLD_PAIRS))
_FOLD_MAP = dict(_FOLD_PAIRS)


def _vowel_of(kana: str) -> str:
    """The vowel of a full-size katakana mora ('' if none, e.g. ン)."""
    r = _ROMA.get(kana, "")
    return r[-1] if r and r[-1] in "aiueo" else ""


_VOWEL_KANA = {"ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o"}


@lru_cache(maxsize=65536)
def fold_key(text: str) -> str:
    """Katakana folding key (see the module docstring for the steps). Non-kana pass through."""
    s = to_katakana(text)
    s = "".join(c for c in s if c not in _DOTS)
    s = _FOLD_RE.sub(lambda m: _FOLD_MAP[m.group(0)], s)
    s = s.translate(_SMALL)
    s = s.replace("ッ", "").replace("ー", "")
    out: list[str] = []
    for c in s:
        v = _VOWEL_KANA.get(c)
        if v and out:
            prev = _vowel_of(out[-1])
            # a vowel that only lengthens the previous mora: ナア, ナトウ (o+u), not エイ
            if prev == v or (prev == "o" and v == "u"):
                continue
        out.append(c)
    return "".join(out)


@lru_cache(maxsize=65536)
def latin_key(text: str) -> str:
    """Fingerprint-style key for a Latin name: accents, case, doubled letters, y/i, w/v."""
    return _latin_simplify(text, drop_vowels=False)


# --------------------------------------------------------------------------- romanisation

# Phoneme alphabet, one character each: vowels a i u e o; ':' long vowel; 'q' ッ; 'N' ン;
# consonants k g s z t d n h b p m y r w f v j, 'c' = ch, 'x' = sh, 'T' = ts, 'l' (Latin).
_ROWS = {
    "": "アイウエオ", "k": "カキクケコ", "g": "ガギグゲゴ", "s": "サシスセソ", "z": "ザジズゼゾ",
    "t": "タチツテト", "d": "ダヂヅデド", "n": "ナニヌネノ", "h": "ハヒフヘホ", "b": "バビブベボ",
    "p": "パピプペポ", "m": "マミムメモ", "r": "ラリルレロ", "w": "ワヰ\0ヱヲ",
}
_ROMA: dict[str, str] = {}
for _c, _row in _ROWS.items():
    for _v, _k in zip("aiueo", _row, strict=True):
        if _k != "\0":
            _ROMA[_k] = _c + _v
_ROMA.update({
    "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "シ": "xi", "チ": "ci", "ツ": "Tu", "フ": "fu",
    "ジ": "ji", "ヂ": "ji", "ヅ": "zu", "ヰ": "i", "ヱ": "e", "ヲ": "o", "ン": "N", "ッ": "q",
    "ー": ":", "ヴ": "vu", "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o", "ャ": "ya",
    "ュ": "yu", "ョ": "yo", "ヮ": "wa", "ヵ": "ka", "ヶ": "ke",
})
_DIGRAPH: dict[str, str] = {
    "ティ": "ti", "ディ": "di", "トゥ": "tu", "ドゥ": "du", "テュ": "tyu", "デュ": "dyu",
    "ファ": "fa", "フィ": "fi", "フェ": "fe", "フォ": "fo", "フュ": "fyu", "ウィ": "wi",
    "ウェ": "we", "ウォ": "wo", "ツァ": "Ta", "ツィ": "Ti", "ツェ": "Te", "ツォ": "To",
    "クァ": "kwa", "グァ": "gwa", "イェ": "ye", "スィ": "si", "ズィ": "zi", "ヴァ": "va",
    "ヴィ": "vi", "ヴェ": "ve", "ヴォ": "vo", "ヴュ": "vyu", "シェ": "xe", "ジェ": "je",
    "チェ": "ce", "キェ": "kye",
}
for _k in "キギニヒビピミリ":
    for _s, _v in (("ャ", "ya"), ("ュ", "yu"), ("ョ", "yo")):
        _DIGRAPH[_k + _s] = _ROMA[_k][0] + _v
for _k, _c in (("シ", "x"), ("ジ", "j"), ("チ", "c")):
    for _s, _v in (("ャ", "a"), ("ュ", "u"), ("ョ", "o")):
        _DIGRAPH[_k + _s] = _c + _v
_DIGRAPH_RE = re.compile("|".join(sorted(map(re.escape, _DIGRAPH), key=len, reverse=True)))
_LONG_RE = re.compile(r"([aiueo])\1|(o)u")  # ナア → na:, トウ → to:


@lru_cache(maxsize=65536)
def phonetic(text: str) -> str:
    """Romanised phoneme string of a katakana (or hiragana) string; other characters drop out.

    ``phonetic("ブリンカーン") == "buriNka:N"``, ``phonetic("ナトウ") == "nato:"``.
    """
    s = to_katakana(text)
    out: list[str] = []
    i = 0
    while i < len(s):
        m = _DIGRAPH_RE.match(s, i)
        if m:
            out.append(_DIGRAPH[m.group(0)])
            i = m.end()
            continue
        out.append(_ROMA.get(s[i], ""))
        i += 1
    roma = "".join(out)
    roma = re.sub(r":+", ":", _LONG_RE.sub(lambda m: (m.group(1) or m.group(2)) + ":", roma))
    # A final Ukrainian/Belarusian в is written ウ or フ (ハルキウ/ハルキフ, キーウ/キーフ):
    # the same sound, so the same phonemes.
    return _FINAL_V_RE.sub("u", roma)


_FINAL_V_RE = re.compile(r"(?<=[aiueo:])fu\Z")


def romanise(text: str) -> str:
    """Readable Hepburn-ish romanisation (for evidence and the report, not for scoring)."""
    p = phonetic(text)
    return (p.replace("x", "sh").replace("c", "ch").replace("T", "ts").replace("N", "n")
            .replace("q", "'").replace(":", "\u0304"))


_LATIN_SUBS: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("ck", "k"), ("kh", "h"), ("sch", "x"), ("sh", "x"), ("zh", "j"),
    ("ch", "\x01"), ("ts", "T"), ("tz", "T"), ("q", "k"), ("x", "ks"), ("w", "v"),
)


def _latin_simplify(text: str, drop_vowels: bool) -> str:
    s = unicodedata.normalize("NFKD", text.lower())
    s = "".join(c for c in s if "a" <= c <= "z")
    for a, b in _LATIN_SUBS:
        s = s.replace(a, b)
    s = re.sub(r"c(?=[eiy])", "s", s).replace("c", "k").replace("\x01", "c").replace("y", "i")
    s = re.sub(r"(.)\1+", r"\1", s)
    if drop_vowels:
        s = s[:1] + re.sub(r"[aeiou]", "", s[1:])
    return s


@lru_cache(maxsize=65536)
def latin_phonetic(text: str) -> str:
    """Light phonetic form of a Latin name, in the same alphabet as ``phonetic``."""
    return _latin_simplify(text, drop_vowels=False)


# --------------------------------------------------------------------------- weighted distance

VOWELS = frozenset("aiueo")
_CHEAP_INDEL = {":": 0.25, "q": 0.25}
_SOFT_INDEL = {"y": 0.6, "w": 0.6, "v": 0.6, "h": 0.8}  # ヴ/ウ, ウィ/イ
VOWEL_INDEL = 0.6
VOWEL_SUB = 0.6
RELATED_SUB = 0.4
HARD = 1.2  # any edit at or above this cost is a "hard" (consonant) edit
_RELATED = [
    "bv", "rl", "kg", "sz", "td", "pb", "hf", "fp", "cj", "xj", "Ts", "Tz", "cT", "cx", "xs",
    "zj", "dj", "tc", "Nn", "Nm", "hb", "wv", "bw", "yj", "dr",
]
_RELATED_SET = {frozenset(p) for p in _RELATED}
_BV = frozenset("bv")


def sub_cost(a: str, b: str) -> float:
    """Cost of substituting phoneme ``a`` by ``b`` (symmetric)."""
    if a == b:
        return 0.0
    av, bv = a in VOWELS, b in VOWELS
    if av and bv:
        return VOWEL_SUB
    if (a == ":" and bv) or (b == ":" and av):
        return 0.3
    if frozenset((a, b)) == _BV:
        return 0.1  # ヴ-row and バ-row are one sound in Japanese
    if frozenset((a, b)) in _RELATED_SET:
        return RELATED_SUB
    return 1.5


def indel_cost(a: str) -> float:
    """Cost of inserting or deleting phoneme ``a``."""
    if a in _CHEAP_INDEL:
        return _CHEAP_INDEL[a]
    if a in VOWELS:
        return VOWEL_INDEL
    return _SOFT_INDEL.get(a, 1.3)


@dataclass(frozen=True, slots=True)
class Alignment:
    """Result of ``align``: total cost, hard-edit count and the edits (for evidence)."""

    cost: float
    hard: int
    edits: tuple[str, ...]
    length: int  # the longer phoneme string

    @property
    def similarity(self) -> float:
        return 1.0 - self.cost / self.length if self.length else 1.0


def distance(a: str, b: str) -> float:
    """Weighted edit distance between two phoneme strings (see ``sub_cost``/``indel_cost``)."""
    return align(a, b).cost


@lru_cache(maxsize=65536)
def _final_vowel_edit(a: str, b: str) -> int:
    if not a or not b or a[-1] == b[-1]:
        return 0
    x, y = a[-1], b[-1]
    if x in VOWELS and y in VOWELS:
        # Epenthetic vowels after a final consonant: u/o (ルンゲスク/ルンゲスコ), and u/i
        # after r for a soft final l (マリウポル/マリウポリ).
        pair = {x, y}
        soft_l = pair == {"u", "i"} and a[-2:-1] == b[-2:-1] == "r"
        return 0 if pair == {"u", "o"} or soft_l else 1
    if (x in VOWELS) != (y in VOWELS) and ":" not in (x, y):
        # one ends in a vowel the other lacks: a vowel was added or dropped at the end
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        return int(longer[-1] in VOWELS and longer[:-1].endswith(shorter[-1]))
    return 0


def align(a: str, b: str, edge_vowels: bool = True) -> Alignment:
    """Minimum-cost alignment of two phoneme strings, with the edits that realise it.

    ``edge_vowels``: a different initial or final vowel is a hard edit. True for katakana;
    Latin spellings of one name often differ there (Geneve/Geneva, Praha/Prague)."""
    n, m = len(a), len(b)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = d[i - 1][0] + indel_cost(a[i - 1])
    for j in range(1, m + 1):
        d[0][j] = d[0][j - 1] + indel_cost(b[j - 1])
    for i in range(1, n + 1):
        ai = a[i - 1]
        row, prev = d[i], d[i - 1]
        for j in range(1, m + 1):
            bj = b[j - 1]
            row[j] = min(
                prev[j - 1] + sub_cost(ai, bj),
                prev[j] + indel_cost(ai),
                row[j - 1] + indel_cost(bj),
            )
    edits: list[str] = []
    hard = 0
    i, j = n, m
    eps = 1e-9
    # A different final vowel, or a final vowel added or dropped, makes another word more
    # often than another spelling (ジョージ/ジョージア, ドミニカ/ドミニク), so it counts as hard
    # (except the epenthetic u/o).
    if edge_vowels:
        # Likewise a different initial vowel (イ・スジン is not オースティン).
        start = a[:1] != b[:1] and a[:1] in VOWELS and b[:1] in VOWELS and bool(a and b)
        hard += _final_vowel_edit(a, b) + int(start)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and abs(d[i][j] - d[i - 1][j - 1] - sub_cost(a[i - 1], b[j - 1])) < eps:
            c = sub_cost(a[i - 1], b[j - 1])
            if c:
                edits.append(f"{a[i - 1]}→{b[j - 1]}")
            i, j = i - 1, j - 1
        elif i > 0 and abs(d[i][j] - d[i - 1][j] - indel_cost(a[i - 1])) < eps:
            c = indel_cost(a[i - 1])
            edits.append(f"-{a[i - 1]}")
            i -= 1
        else:
            c = indel_cost(b[j - 1])
            edits.append(f"+{b[j - 1]}")
            j -= 1
        if c >= HARD:
            hard += 1
    edits.reverse()
    return Alignment(round(d[n][m], 6), hard, tuple(edits), max(n, m))


# --------------------------------------------------------------------------- kanji readings

# On-readings of kanji that Korean/Chinese MT uses phonetically (ateji) and that Sudachi
# only knows by a kun-reading (藤 → フジ). Small on purpose: candidates built from it are
# only ever linked on an exact folded-reading collision, and only for review.
ATEJI: dict[str, tuple[str, ...]] = {
    "奈": ("ナ",), "藤": ("トウ",), "亜": ("ア",), "阿": ("ア",), "伊": ("イ",), "宇": ("ウ",),
    "英": ("エイ",), "欧": ("オウ",), "加": ("カ",), "可": ("カ",), "基": ("キ",), "久": ("ク",),
    "古": ("コ",), "佐": ("サ",), "斯": ("ス",), "世": ("セ",), "蘇": ("ソ",), "多": ("タ",),
    "太": ("タ",), "知": ("チ",), "都": ("ト",), "杜": ("ト",), "土": ("ド",), "那": ("ナ",),
    "尼": ("ニ",), "野": ("ノ",), "波": ("ハ",), "巴": ("ハ",), "比": ("ヒ",), "布": ("フ",),
    "普": ("フ",), "部": ("ブ",), "米": ("ベイ",), "保": ("ホ",), "馬": ("マ",), "摩": ("マ",),
    "美": ("ミ",), "牟": ("ム",), "毛": ("モ",), "耶": ("ヤ",), "羅": ("ラ",), "利": ("リ",),
    "里": ("リ",), "留": ("ル",), "礼": ("レイ",), "露": ("ロ",), "和": ("ワ",), "東": ("トウ",),
    "徳": ("トク",), "登": ("ト",), "頓": ("トン",), "蘭": ("ラン",), "仏": ("フツ",),
    "独": ("ドク",), "印": ("イン",), "豪": ("ゴウ",), "西": ("セイ",), "葡": ("ポ",),
}
