"""Golden cases and invariants for finding and applying glossary mentions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm.glossary import load_glossary
from glossnorm.match import Matcher
from glossnorm.normalise import Edit, _replacements, apply_edits, normalise_text, render_inline

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
    r = normalise_text(shipped, str(case["in"]), bool(case.get("headline", False)))
    assert r.text == case["out"]
    assert normalise_text(shipped, r.text, bool(case.get("headline", False))).changes == ()


@settings(max_examples=300, deadline=None)
@given(texts, st.booleans())
def test_one_pass_apply_equals_apply_edits(text: str, headline: bool) -> None:
    """``apply_matches`` is a fused loop; ``apply_edits`` is the reference."""
    r = normalise_text(_MATCHER, text, headline)
    found = _MATCHER.find(text, headline)
    reps = _replacements(text, found)
    edits = [Edit(m.start, m.end, rep) for m, (rep, _, _) in zip(found, reps, strict=True)]
    assert apply_edits(text, edits)[0] == r.text
