"""clean_text: golden cases per phenomenon, idempotency, the seeds."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm import clean
from glossnorm.clean import (
    STEP_NAMES,
    clean_text,
    collapse_doubled,
    fix_long_vowels,
    fix_newlines,
    fix_whitespace,
    full_nfkc,
    nfkc,
    remove_invisible,
    repair_brackets,
    unbalanced_brackets,
    unify_width,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
GOLDEN = json.loads((FIXTURES / "clean_golden.json").read_text(encoding="utf-8"))
SEEDS = Path("/work/shared/seeds")

NAUGHTY = [
    "",
    " ",
    "\n",
    "\r\n\r\n",
    "\u200b",
    "\ufeff",
    "\x00",
    "\u3000\u3000",
    "゛",
    "ﾞ",
    "か\u3099",
    "か \u3099",
    "①\u3099",
    "\u0301",
    "a\u0301",
    "ｶﾞ",
    "ｰ",
    "ー―",
    "カ ―",
    "カ―",
    "ア ～ イ",
    "(",
    ")",
    "「",
    "」",
    "NATO)",
    "機構NATO)",
    "NATO機構)",
    "(NATO・NATO)",
    "N・N・N",
    "NATO・NATO・",
    "㌔―",
    "ｶ−",
    "\U0001f600\ufe0f",
    "👨\u200d👩",
    "\U000e0100",
    "´",
    "￣",
    "Ω",
    "ǅ",
    "ﬁ",
    "null",
    "undefined",
    "<script>alert(1)</script>",
    "'; DROP TABLE x;--",
    "\u202eabc",
    "٠١٢",
    "𠮷野家",
    "\U0002f800",
    "\x85",
    "a\x0bb",
    "  \t  ",
    "…\u3099",
]


@pytest.mark.parametrize("case", GOLDEN, ids=[c["phenomenon"] for c in GOLDEN])
def test_golden(case: dict[str, str]) -> None:
    assert clean_text(case["input"]).text == case["expected"]


@pytest.mark.parametrize("case", GOLDEN, ids=[c["phenomenon"] for c in GOLDEN])
def test_golden_is_fixed_point(case: dict[str, str]) -> None:
    assert clean_text(case["expected"]).text == case["expected"]


def test_steps_run_in_documented_order() -> None:
    result = clean_text("ＮＡＴＯ・ＮＡＴＯ")
    assert tuple(name for name, _ in result.steps) == STEP_NAMES
    counts = dict(result.steps)
    assert counts["nfkc"] == 8 and counts["doubled"] == 1 and counts["brackets"] == 0


def test_step_functions_report_counts() -> None:
    assert fix_newlines("a\r\nb\rc") == ("a\nb\nc", 2)
    assert remove_invisible("a\u200b\u200bb") == ("ab", 2)
    assert unify_width("～∥－") == ("〜‖−", 3)
    assert nfkc("１２") == ("12", 2)
    assert nfkc("①") == ("①", 0)
    assert fix_whitespace("ア イ  B") == ("アイ B", 2)
    assert fix_long_vowels("カ―キ〜") == ("カーキー", 2)


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("ブリンカ―ン長官", "ブリンカーン長官"),  # a look-alike inside a name
        ("センタ―が", "センターが"),  # and at its end
        ("キュ―バ", "キューバ"),  # after a small kana
        ("プーチン――その野望", "プーチン――その野望"),  # the Japanese dash
        ("プーチン―その野望", "プーチン―その野望"),  # no ー after ン (CP932's em dash)
        ("ロシア――ウクライナ", "ロシア――ウクライナ"),
        ("ロシア ― ウクライナ国境", "ロシア ― ウクライナ国境"),  # spaced: a dash
        ("ロシア 〜 ウクライナ", "ロシア 〜 ウクライナ"),
        ("ロシア 外務省", "ロシア外務省"),  # (other spaces between Japanese still go)
    ],
)
def test_dashes_after_katakana_are_left_alone(text: str, out: str) -> None:
    assert clean_text(text).text == out
    assert clean_text(out).text == out
    assert collapse_doubled("(NATO・NATO)") == ("(NATO)", 1)


def test_bracket_notes_name_the_line() -> None:
    result = clean_text("一行目\nウクライナ北大西洋条約機構NATO)加盟\n共和国」ルガンスク")
    assert dict(result.steps)["brackets"] == 1
    assert result.notes[0].startswith("repaired bracket at line 2: ")
    assert result.notes[0].endswith("北大西洋条約機構NATO) -> イナ北大西洋条約機構(NATO)")
    assert result.notes[1] == "unbalanced bracket at line 3: 共和国」ルガンスク"


def test_unbalanced_brackets_per_line_and_type() -> None:
    assert unbalanced_brackets("(a)「b」") == []
    assert unbalanced_brackets("(a\n)") == [(0, 1), (3, 2)]
    assert unbalanced_brackets("(a))((b)") == [(3, 1), (4, 1)]
    assert unbalanced_brackets("(「)」") == []  # types are balanced independently


def test_bracket_notes_are_capped() -> None:
    _, _, notes = repair_brackets("(" * 500)
    assert len(notes) == 51 and notes[-1] == "... and 450 more unbalanced brackets"


def test_line_count_is_preserved() -> None:
    text = "一\r\n\r\n 二 \u2028三\n\n"
    assert clean_text(text).text == "一\n\n二\n三\n\n"


@pytest.mark.parametrize("text", NAUGHTY)
def test_naughty_strings_are_idempotent(text: str) -> None:
    once = clean_text(text).text
    assert clean_text(once).text == once


_JA_ALPHABET = st.sampled_from(
    [
        *"あいうかがきアイウカガキーｰｶｷﾞﾟ―−‐～〜~-—・、。「」()（）［］NATOnato 　\t\n\r",
        "\u200b",
        "\ufeff",
        "\u3099",
        "\u309a",
        "゛",
        "①",
        "…",
        "㌔",
        "ＮＡＴＯ",
        "NATO・NATO",
        "機構NATO)",
        "NATO機構)",
        "\x85",
        "\u2028",
        "´",
        "１２",
        "北大西洋条約機構",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_JA_ALPHABET, max_size=40).map("".join))
def test_idempotent_japanese_ish(text: str) -> None:
    once = clean_text(text).text
    assert clean_text(once).text == once


def _in_pieces(text: str, piece_chars: int) -> clean.CleanResult:
    pieces = list(clean.clean_stream(clean.lf_pieces(text, piece_chars)))
    assert all(r is None for _, r in pieces[:-1]) and pieces[-1][1] is not None
    assert all(p.endswith("\n") for p, _ in pieces[:-1])
    return clean.CleanResult("".join(p for p, _ in pieces), pieces[-1][1].steps,
                             pieces[-1][1].notes)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(_JA_ALPHABET | st.sampled_from([" ", "\n ", " \n", "「\n", "(((", "\r\n"]),
             max_size=60).map("".join),
    st.integers(min_value=1, max_value=30),
)
def test_cleaning_in_pieces_is_cleaning_whole(text: str, piece_chars: int) -> None:
    # Long documents are cleaned a piece at a time (pipeline): the same text, the same
    # counts, the same notes with the same line numbers, in the same order.
    assert _in_pieces(text, piece_chars) == clean_text(text)


def test_cleaning_in_pieces_keeps_the_note_cap_and_the_line_numbers() -> None:
    text = "前文\n" + "機構NATO)\n" * 3 + "(「\n" * 40 + " 本文 "
    whole = clean_text(text)
    assert whole.notes[:3] == tuple(
        f"repaired bracket at line {n}: 機構NATO) -> 機構(NATO)" for n in (2, 3, 4)
    )
    assert whole.notes[-1] == "... and 30 more unbalanced brackets"
    assert dict(whole.steps)["whitespace"] == 2  # a space stripped at each end of the text
    for piece_chars in (1, 7, 100):
        assert _in_pieces(text, piece_chars) == whole


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_idempotent_any_unicode(text: str) -> None:
    once = clean_text(text).text
    assert clean_text(once).text == once


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not available")
def test_seeds_clean_sensibly() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        result = clean_text(raw)
        assert clean_text(result.text).text == result.text
        assert result.text.count("\n") == raw.count("\n")  # nothing merged or dropped
        assert "・NATO)" not in result.text and "構NATO)" not in result.text
        assert all(line == line.strip() for line in result.text.split("\n"))


def test_shipped_nfkc_tables_are_what_this_unicode_version_computes() -> None:
    data = json.loads(clean._TABLES_PATH.read_text("utf-8"))
    if data["unidata_version"] != unicodedata.unidata_version:
        pytest.skip("tables shipped for another Unicode version: computed at import instead")
    shipped = dict(clean._TABLES)
    clean._TABLES.clear()  # compute from scratch
    try:
        assert clean._space_makers() == shipped["space_makers"]
        assert clean._nfkc_unstable_bmp() == shipped["unstable_bmp"]
    finally:
        clean._TABLES.update(shipped)


# Characters where cutting a text for NFKC goes wrong: conjoining jamo (composed by
# algorithm), marks outside the combining blocks, starters that compose backwards (Oriya,
# Tamil vowel signs), a horn that composes with o but not with a, half-width kana with
# their voicing marks, protected characters, astral compatibility forms.
_NFKC_TRICKY = (
    "\u1100\u1112\u1161\u1175\u11a8\u11c2\uac00"
    "\u0300\u0301\u031b\u0327\u0345\u0591\u05b0\u0e38\u3099\u309a\u034f"
    "\u0b47\u0b3e\u0bc6\u0bbe\u0cc6\u0cd5\u0dd9\u0dca"
    "ao\u03b1\u03c9\u0391\u1f00カｶﾞﾟ\uff8a"
    "①…‥゛゜\u00a8\u00b4ＮＡ１\u3000 \n"
    "\U0001d15e\U0001d165\U0001d16e\U0002f800\U0001f130\U000110a5\U00011099\U000110ba"
)
_NFKC_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(_NFKC_TRICKY + "x日本"), max_size=24),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=24),
)


@settings(max_examples=1500, deadline=None)
@given(_NFKC_TEXT)
def test_full_nfkc_is_unicode_nfkc(text: str) -> None:
    assert full_nfkc(text) == unicodedata.normalize("NFKC", text)


@settings(max_examples=1500, deadline=None)
@given(_NFKC_TEXT)
def test_nfkc_is_unicode_nfkc_between_protected_characters(text: str) -> None:
    pieces = re.split(f"([{clean._PROTECTED_CLASS}])", text)  # piece, protected, piece, ...
    expected = "".join(
        p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(pieces)
    )
    out, count = nfkc(text)
    assert out == expected
    assert (count > 0) == (out != text)


def test_nfkc_caches_only_short_runs() -> None:
    # A line of full-width text is one run: caching 100,000 of them would hold megabytes.
    lines = [("Ａ" * (60 + i % 10)) + f"x{i}" for i in range(200)]
    text = "\n".join(lines)
    clean._NFKC_CACHE.clear()
    clean._FULL_CACHE.clear()
    assert nfkc(text)[0] == full_nfkc(text) == unicodedata.normalize("NFKC", text)
    cached = [*clean._NFKC_CACHE, *clean._FULL_CACHE]
    assert cached and max(map(len, cached)) <= clean._CACHE_UNIT


def test_nfkc_composes_what_composes_with_its_neighbour() -> None:
    # The runs used to start only at characters that compose with "a", so conjoining
    # jamo and the horn (o + U+031B) stayed apart.
    assert nfkc("\u1100\u1161\u11a8") == ("\uac01", 1)
    assert nfkc("o\u031b") == ("\u01a1", 1)
    assert nfkc("a\u0591\u0301") == ("\u00e1\u0591", 1)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="()「」[]【】a\nx“”", max_size=30))
def test_bracket_blanking_agrees_with_a_stack(text: str) -> None:
    pairs = {"(": ")", "[": "]", "「": "」", "【": "】", "“": "”"}
    bad = []
    for o, c in pairs.items():
        for lineno, line in enumerate(text.split("\n"), 1):
            base = sum(len(x) + 1 for x in text.split("\n")[: lineno - 1])
            stack: list[int] = []
            for i, ch in enumerate(line):
                if ch == o:
                    stack.append(base + i)
                elif ch == c:
                    if stack:
                        stack.pop()
                    else:
                        bad.append((base + i, lineno))
            bad.extend((s, lineno) for s in stack)
    assert unbalanced_brackets(text) == sorted(bad)


_DOUBLED_PIECES = ["NATO", "G7", "a1", "A", "7", "B&B", "U.S", "ボラ", "・", "・", " ", "(", ")"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_DOUBLED_PIECES), max_size=8).map("".join))
def test_doubled_hint_never_skips_a_doubled_term(text: str) -> None:
    # The hint search is a shortcut: it may only skip texts the full pattern leaves alone.
    assert collapse_doubled(text) == clean._DOUBLED_RE.subn(r"\1", text)
