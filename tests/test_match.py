"""Golden cases and invariants for finding and applying glossary mentions."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm.glossary import Glossary, load_glossary
from glossnorm.match import Matcher, clause_around, sudachi_boundaries
from glossnorm.model import Entry, EntryType
from glossnorm.normalise import (
    Edit,
    apply_edits,
    match_items,
    normalise_text,
    render_inline,
    replacements,
)
from glossnorm.record import SegmentRenderer, render_segment

HERE = Path(__file__).parent
GOLDEN = [
    json.loads(x) for x in (HERE / "data" / "golden_normalise.jsonl").read_text().splitlines() if x
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_glossary(HERE / "fixtures" / "mini.gloss"))


@pytest.mark.parametrize("case", GOLDEN, ids=[c["tag"] for c in GOLDEN])
def test_golden(matcher: Matcher, case: dict[str, object]) -> None:
    r = normalise_text(matcher, str(case["in"]), bool(case.get("headline", False)))
    assert r.text == case["out"]


def test_changes_record_span_source_and_entry(matcher: Matcher) -> None:
    r = normalise_text(matcher, "ジョーバイデン氏とブリンカーン氏")
    assert [(c.source, c.target, c.entry) for c in r.changes] == [
        ("ジョーバイデン", "ジョー・バイデン", "biden-joe"),
        ("ブリンカーン", "ブリンケン", "blinken"),
    ]
    for c in r.changes:
        assert r.text[c.start : c.end] == c.target


def test_every_mention_is_glossed(matcher: Matcher) -> None:
    r = normalise_text(matcher, "ブリンカーン長官とラブロフ外相、NATOと北大西洋条約機構")
    assert [(r.text[g.start : g.end], g.en) for g in r.glosses] == [
        ("ブリンケン", "Blinken"),
        ("ラブロフ", "Lavrov"),
        ("NATO", "NATO"),
        ("北大西洋条約機構", "NATO"),
    ]


def test_inline_gloss_uses_other_language(matcher: Matcher) -> None:
    r = normalise_text(matcher, "Kiev とキエフ")
    assert render_inline(r.text, r.glosses) == "Kyiv(キーウ) とキーウ(Kyiv)"


def test_token_rule_uses_injected_boundaries() -> None:
    gl = load_glossary(HERE / "fixtures" / "mini.gloss")
    never = Matcher(gl, boundaries=lambda text: frozenset())
    assert normalise_text(never, "奈藤・ロシア").text == "奈藤・ロシア"


@pytest.mark.parametrize(
    ("text", "start", "end", "clause"),
    [
        ("美国務長官", 0, 1, "美国務長官"),
        ("速報、美国務長官が来日。会見へ", 3, 4, "、美国務長官が来日。"),
        ("「美、ロ」首脳", 1, 2, "「美、"),
        ("NATO(美)", 5, 6, "(美)"),
    ],
)
def test_clause_around(text: str, start: int, end: int, clause: str) -> None:
    a, b = clause_around(text, start, end)
    assert text[a:b] == clause


def test_token_rule_checks_clause_boundaries_only() -> None:
    # The injected tokeniser sees the clause, and its offsets are the clause's own.
    gl = load_glossary(HERE / "fixtures" / "mini.gloss")
    seen: list[str] = []

    def bounds(text: str) -> frozenset[int]:
        seen.append(text)
        return frozenset(range(len(text) + 1))

    m = Matcher(gl, boundaries=bounds)
    assert normalise_text(m, "速報。奈藤・ロシア会談、開幕").text == "速報。NATO・ロシア会談、開幕"
    assert seen == ["。奈藤・ロシア会談、"]


def test_sudachi_boundaries_inside_a_clause_are_the_lines() -> None:
    # Why checking a clause is enough: Sudachi draws the same boundaries inside a clause
    # as inside its whole line (the shipped corpus's lines here).
    lines = [
        line
        for path in sorted((HERE.parent / "corpus").rglob("*.txt"))
        for line in path.read_bytes().decode("utf-8", "replace").splitlines()
        if line.strip() and len(line.encode()) < 16_000
    ]
    clauses = 0
    for line in lines:
        whole = sudachi_boundaries(line)
        for i in range(len(line)):
            a, b = clause_around(line, i, i)
            if a != i - 1 and (i or a):
                continue  # (each clause once: from its opening stop, or from 0)
            inside = {a + x for x in sudachi_boundaries(line[a:b])} - {a, b}
            assert inside == {x for x in whole if a < x < b}, line[a:b]
            clauses += 1
    assert clauses > 300


def test_apply_edits_rejects_overlaps() -> None:
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


# --------------------------------------------------------------------------- properties

PIECES = [
    "ブリンカーン",
    "ブリンケン",
    "ジョーバイデン",
    "ラ",
    "ナト",
    "ナトー",
    "奈藤",
    "美",
    "・",
    "米",
    "ロシア",
    "ルーマニア",
    "ブルガリア",
    "キエフ",
    "Kiev",
    "NATO",
    " ",
    "、",
    "。",
    "長官",
    "軍",
    "ーン",
    "ア",
    "リウム",
    "(",
    ")",
    "Blinken",
    "x",
    "ルンゲスク",
    "オアナ・",
    "ナート",
    "広報",
]
texts = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, st.booleans())
def test_normalising_twice_changes_nothing(text: str, headline: bool) -> None:
    m = _MATCHER
    once = normalise_text(m, text, headline)
    twice = normalise_text(m, once.text, headline)
    assert twice.text == once.text
    assert twice.changes == ()


@settings(max_examples=300, deadline=None)
@given(texts, st.booleans())
def test_span_invariants_and_replay(text: str, headline: bool) -> None:
    r = normalise_text(_MATCHER, text, headline)
    last = 0
    for g in r.glosses:
        assert last <= g.start < g.end <= len(r.text)
        last = g.end
    last = 0
    for c in r.changes:
        assert last <= c.start <= c.end <= len(r.text)
        assert r.text[c.start : c.end] == c.target
        last = c.end
    # Undoing every change in the output gives the source back.
    undo = [Edit(c.start, c.end, c.source) for c in r.changes]
    assert apply_edits(r.text, undo)[0] == text


@settings(max_examples=200, deadline=None)
@given(texts)
def test_inline_glossing_is_idempotent(text: str) -> None:
    r = normalise_text(_MATCHER, text)
    once = render_inline(r.text, r.glosses)
    again = normalise_text(_MATCHER, once)
    assert again.changes == ()
    assert render_inline(again.text, again.glosses) == once


_MATCHER = Matcher(load_glossary(HERE / "fixtures" / "mini.gloss"))


@settings(max_examples=400, deadline=None)
@given(texts, st.booleans())
def test_fast_find_agrees_with_reference(text: str, headline: bool) -> None:
    assert _MATCHER.find(text, headline) == _MATCHER.find_reference(text, headline)


def test_fused_run_with_an_accepted_part_is_split(matcher: Matcher) -> None:
    once = normalise_text(matcher, "ブリンカーンブリンカーン・ナト")
    assert normalise_text(matcher, once.text).changes == ()


SHIPPED = [
    json.loads(x)
    for x in (HERE / "data" / "golden_shipped.jsonl").read_text("utf-8").splitlines()
    if x
]


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    return Matcher(load_glossary(None))


@pytest.mark.parametrize("case", SHIPPED, ids=[f"{c['tag']}: {c['in'][:20]}" for c in SHIPPED])
def test_shipped_glossary_golden(shipped: Matcher, case: dict[str, object]) -> None:
    """Traps the shipped glossary must leave alone, and rewrites it must make."""
    text, headline = str(case["in"]), bool(case.get("headline", False))
    r = normalise_text(shipped, text, headline)
    assert r.text == case["out"]
    found = [text[m.start : m.end] for m in shipped.find(text, headline)]
    assert set(found) >= set(case.get("found", []))  # type: ignore[call-overload]
    assert not set(found) & set(case.get("not_found", []))  # type: ignore[call-overload]
    assert normalise_text(shipped, r.text, bool(case.get("headline", False))).changes == ()


@settings(max_examples=300, deadline=None)
@given(texts, st.booleans())
def test_one_pass_apply_equals_apply_edits(text: str, headline: bool) -> None:
    """``apply_matches`` is a fused loop; ``apply_edits`` is the reference."""
    r = normalise_text(_MATCHER, text, headline)
    found = _MATCHER.find(text, headline)
    reps = replacements(text, match_items(found))
    edits = [Edit(m.start, m.end, rep) for m, (rep, _, _) in zip(found, reps, strict=True)]
    assert apply_edits(text, edits)[0] == r.text


# --------------------------------------------------------------------------- fast renderer

_RENDERERS = {inline: SegmentRenderer(_MATCHER, inline) for inline in (False, True)}
# Text outside the glossary's pieces, with what JSON must escape. (No lone surrogates:
# ingest replaces them, and JSON output could not hold them.)
NAUGHTY = ['"', "\\", "\n", "\x00", "\u2028", "😀", "</script>", "(Blinken)", "(ブリンケン)"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES + NAUGHTY) | st.text(max_size=3), max_size=25).map("".join),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["a.txt", 'q"uote\\.jsonl#3', "日本語/記事.txt"]),
)
def test_fast_renderer_gives_the_reference_bytes(
    text: str, headline: bool, inline: bool, doc: str
) -> None:
    """``SegmentRenderer`` pastes JSON from cached pieces; the reference builds it from
    ``Normalised`` through dicts. Same record bytes, line, text and counts."""
    ref = normalise_text(_MATCHER, text, headline)
    record, line = render_segment(doc, 7, ref, inline)
    got = _RENDERERS[inline].render(orjson.dumps(doc), 7, text, headline)
    assert got.record == record
    assert got.line == line
    assert got.text == ref.text
    assert got.changed == tuple(c.entry for c in ref.changes)
    assert got.glosses == len(ref.glosses)


def test_fast_renderer_on_the_shipped_glossary_and_sample_corpus(shipped: Matcher) -> None:
    fast = SegmentRenderer(shipped, True)
    lines = [
        x
        for p in sorted((HERE.parent / "corpus").rglob("*.txt"))
        for x in p.read_text("utf-8", errors="replace").splitlines()
        if x.strip()
    ]
    assert len(lines) > 50
    for i, text in enumerate(lines):
        ref = render_segment("d", i, normalise_text(shipped, text), True)
        assert fast.render(b'"d"', i, text, False)[1:3] == ref


# Shared heads, forms inside forms, and characters beyond the BMP (𠮷 in names).
_PREFIX_FORMS = [
    *("ア", "アメ", "アメリカ", "アメリカ合衆国", "メリカ", "ア𠮷", "𠮷野", "𠮷野家"),
    *("NAT", "NATO", "NATO軍", "\U0010ffff", "\U0010ffffア"),
]
_PREFIX_MATCHER = Matcher(
    Glossary.of(
        Entry(f"e{i}", EntryType.OTHER, f, f"E{i}x", ()) for i, f in enumerate(_PREFIX_FORMS)
    )
)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="アメリカ合衆国𠮷野家NATO軍x\U0010ffff", max_size=30))
def test_forms_at_finds_every_form_at_every_offset(text: str) -> None:
    """The bisection walk of ``_forms_at`` (behind the rescan and ``find_reference``)
    against brute force: every form of the glossary that starts at each offset."""
    forms = _PREFIX_MATCHER._forms
    want = sorted(
        (p, p + len(f), i) for p in range(len(text)) for i, f in enumerate(forms)
        if text.startswith(f, p)
    )
    assert sorted(_PREFIX_MATCHER._forms_at(text, range(len(text)))) == want


# -- context rules judged on the text as written ---------------------------------------------
# (golden cases in data/golden_shipped.jsonl: ヨンハプ通信ナト, Kremlinナト白ロシア)

# Forms with context rules (ナト, 奈藤, 美, ロ), rewrites that add a separator beside them
# (ヨンハプ通信, 白ロシア, 連合), and what their rules look for.
_RULE_PIECES = ["ナト", "奈藤", "美", "ヨンハプ通信", "白ロシア", "連合", "Kremlin", "NATO",
                "・", "、", "の", "軍", "担当", "首脳", "米", "露", "国務", " ", "a", "ア", "ロ"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_RULE_PIECES), max_size=8).map("".join), st.booleans())
def test_normalising_twice_changes_nothing_with_context_rules(
    shipped: Matcher, text: str, headline: bool
) -> None:
    once = normalise_text(shipped, text, headline)
    assert normalise_text(shipped, once.text, headline).changes == ()
    fast = [(m.start, m.end, m.pattern.form, m.prefix) for m in shipped.find(text, headline)]
    ref = [(m.start, m.end, m.pattern.form, m.prefix)
           for m in shipped.find_reference(text, headline)]
    assert fast == ref


@pytest.mark.parametrize(
    "text",
    [
        "Council of European Council of Europe",  # Europe, once European Council wins
        "グルジアビクトル・オルバン・ビクトル・オルバン",
        "クレーバナフトガス・ウクライナ軍事侵攻",
    ],
)
def test_a_mention_hidden_under_a_hit_that_loses_is_found(shipped: Matcher, text: str) -> None:
    fast = [(m.start, m.end, m.pattern.form) for m in shipped.find(text)]
    assert fast == [(m.start, m.end, m.pattern.form) for m in shipped.find_reference(text)]
    assert len(fast) == 2


@pytest.mark.parametrize(
    "text",
    [
        "See https://en.wikipedia.org/wiki/Kiev for more.",
        "詳細は https://example.com/Kiev/news?q=Kiev を参照",
        "詳細はwww.kiev.ua/Kievで",
        "Follow @Kiev_Independent for updates.",
        "Write to Kiev@example.org today.",
        "ftp://Kiev.example.org/",
        "Https://en.wikipedia.org/wiki/Kiev",  # schemes and www in any case
        "WWW.kiev.ua/Kiev",
        "@Kiev_Independenthttps://en.wikipedia.org/wiki/Kiev",  # a handle glued to a URL
        "https://t.co/abc/キエフ",  # glued on: Kyiv there would change the link
        "@Kiev_キエフ",
    ],
)
def test_no_mention_inside_urls_addresses_or_handles(matcher: Matcher, text: str) -> None:
    assert matcher.find(text) == []
    assert matcher.find_reference(text) == []
    assert normalise_text(matcher, text).text == text


def test_mentions_beside_a_url_are_still_found(matcher: Matcher) -> None:
    text = "Kiev: https://example.com/Kiev キエフの声明"
    at = text.index("キエフ")
    assert [(m.start, m.end) for m in matcher.find(text)] == [(0, 4), (at, at + 3)]
    assert normalise_text(matcher, text).text == "Kyiv: https://example.com/Kiev キーウの声明"


def test_protected_spans_are_merged_and_touching_counts() -> None:
    from glossnorm.match import protected_spans, touches

    text = "a @News_Kievhttps://example.com/x b@c.org d"
    prot = protected_spans(text)
    end = text.index(" b@")
    assert prot == [(2, end), (end + 1, end + 8)]  # the handle and the URL glued to it: one
    assert touches(prot, end, end + 1) and touches(prot, 0, 2) and not touches(prot, 0, 1)
    assert not touches(prot, end + 9, end + 11) and protected_spans("no links here") is None
