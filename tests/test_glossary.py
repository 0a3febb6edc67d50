"""Loader and validation tests for glossnorm.glossary (the `.gloss` format)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm.errors import GlossaryError
from glossnorm.glossary import (
    Glossary,
    default_glossary_path,
    load_glossary,
    parse_text,
    paused_gc,
    render_entry,
    validate,
)
from glossnorm.model import Entry, EntryType, Lang, Rule, Variant

FIXTURES = Path(__file__).parent / "fixtures" / "glossary"


def problems_of(text: str, path: str = "t.gloss") -> list[str]:
    entries, problems = parse_text(text, path)
    return problems + validate(entries)


def entry(eid: str, ja: str, en: str, *lines: str) -> str:
    return "\n".join([f"[{eid}]", "type: person", f"ja: {ja}", f"en: {en}", *lines]) + "\n\n"


def test_fixture_glossary_loads() -> None:
    g = load_glossary(FIXTURES / "basic.gloss")
    assert [e.id for e in g.entries] == ["blinken", "kyiv", "nato", "russia"]
    assert g.owner("キエフ") is g.by_id["kyiv"]
    assert g.by_id["kyiv"].variants[0].renamed == "2022-03-31"
    assert g.by_id["blinken"].rejects == ("ブリンク",)


def test_entry_origin_covers_its_block_only() -> None:
    # the lead's parser once counted the next entry's [id] line into the previous block
    entries, _ = parse_text((FIXTURES / "basic.gloss").read_text(encoding="utf-8"), "b")
    blinken = entries[0]
    assert blinken.origin is not None
    assert (blinken.origin.line, blinken.origin.end_line) == (3, 11)


def test_duplicate_ids() -> None:
    probs = problems_of(entry("a", "アア", "Aa") + entry("a", "イイ", "Ii"))
    assert any("duplicate id [a]" in p and "t.gloss:6" in p for p in probs)


def test_variant_under_two_entries_names_file_and_line() -> None:
    text = entry("a", "アアア", "Aaa", "ja-var: ウウウ") + entry(
        "b", "イイイ", "Iii", "ja-var: ウウウ"
    )
    probs = problems_of(text)
    assert len(probs) == 1
    assert "t.gloss:11" in probs[0] and "'ウウウ'" in probs[0] and "[a]" in probs[0]
    assert "(t.gloss:5)" in probs[0]  # where [a] claimed it: its variant line


def test_variant_equal_to_other_canonical() -> None:
    probs = problems_of(entry("a", "アアア", "Aaa", "ja-var: イイイ") + entry("b", "イイイ", "Iii"))
    assert len(probs) == 1
    assert "canonical form of [b]" in probs[0] and "t.gloss:5" in probs[0]


def test_empty_forms() -> None:
    assert any("empty 'ja'" in p for p in problems_of("[a]\ntype: person\nja:\nen: A\n"))
    assert any("empty form" in p for p in problems_of(entry("a", "アア", "Aa", "ja-var: {keep}")))


@pytest.mark.parametrize(
    ("rule", "expect"),
    [
        ("{before=[}", "does not compile"),
        ("{colour=red}", "unknown attribute"),
        ("{keep", "must end with '}'"),
        ("{renamed=2022-13-45}", "bad date"),
        ("{before=(a+)+}", "nested repetition"),
        ("{after=(?:x*)*y}", "nested repetition"),
        ("{before=(a)\\1}", "backreferences"),
        ("{before=" + "a" * 201 + "}", "longer than 200"),
    ],
)
def test_bad_rules(rule: str, expect: str) -> None:
    probs = problems_of(entry("a", "アアア", "Aaa", f"ja-var: ウウウ {rule}"))
    assert any(expect in p and "t.gloss:5" in p for p in probs), probs


def test_short_variant_needs_rule() -> None:
    probs = problems_of(entry("a", "ロシア", "Russia", "ja-var: ロ"))
    assert any("short variant 'ロ'" in p for p in probs)
    assert any(
        "short variant '露国'" in p for p in problems_of(entry("a", "ロシア", "R", "ja-var: 露国"))
    )
    assert not problems_of(entry("a", "ロシア", "Russia", "ja-var: ロ {before=[米日]}"))
    assert not problems_of(entry("a", "ロシア", "Russia", "ja-var: 露国 {token}"))


def test_unknown_field_and_orphan_field() -> None:
    assert any(
        "unknown field 'colour'" in p for p in problems_of(entry("a", "アア", "Aa", "colour: x"))
    )
    assert any("before any [id]" in p for p in problems_of("type: person\n"))


def test_line_numbers_count_only_real_line_breaks() -> None:
    # NEL, U+2028 and a form feed (pasted from web pages) are text in a comment or a note,
    # not line breaks: the problem is on line 7 of this 7-line file, and it is the only one.
    text = "# pasted \x85 here\x0c\n[foo]\ntype: person\nja: フーバー\nen: Foober\n"
    text += "note: see\u2028the\u2029source\nbogus: 1\n"
    assert problems_of(text) == [
        "t.gloss:7: unknown field 'bogus'; fields are type, ja, en, note, ja-var, en-var, reject"
    ]
    (foo,), _ = parse_text(text.replace("bogus: 1\n", ""), "t.gloss")
    assert foo.note == "see\u2028the\u2029source"


@pytest.mark.parametrize(
    ("line", "cleaned"),
    [
        ("en-var: ＮＡＴＯ", "NATO"),  # full width
        ("ja-var: \u30d5\u3099ーバ", "ブーバ"),  # a decomposed ブ
        ("ja-var: ﾌｰﾊﾞｰｽﾞ", "フーバーズ"),  # half width
        ("ja-var: フー バーズ", "フーバーズ"),  # a space between Japanese characters
        ("reject: ﾌﾞｰﾊﾞｰ", "ブーバー"),
    ],
)
def test_a_form_that_cleaning_changes_can_never_match(line: str, cleaned: str) -> None:
    (problem,) = problems_of(entry("foo", "フーバー", "Foober", line))
    assert f"'{cleaned}'" in problem and problem.startswith("t.gloss:")


@pytest.mark.parametrize("char", ["\x07", "\x0c", "\x1b", "\x85"])
def test_a_control_character_in_a_field_is_refused(char: str) -> None:
    # (a note with one passed validation, then TBX export crashed: XML cannot hold it)
    problems = problems_of(entry("foo", "フーバー", "Foober", f"note: bell{char}here"))
    assert problems == [f"t.gloss:5: control character U+{ord(char):04X}: remove it"]


def test_comments_and_blank_lines_allowed() -> None:
    text = "# head\n\n[a]\n# inside\ntype: person\n  # indented\nja: アア\n\nen: Aa\n"
    entries, problems = parse_text(text, "t")
    assert problems == [] and entries[0].en == "Aa"


def test_folder_of_files(tmp_path: Path) -> None:
    g = load_glossary(FIXTURES / "folder")
    assert {e.id for e in g.entries} == {"blinken", "kyiv"}
    assert len(g.paths) == 2
    with pytest.raises(GlossaryError, match=r"no \.gloss files"):
        load_glossary(tmp_path)


def test_cross_file_conflict_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "a.gloss").write_text(
        entry("a", "アアア", "Aaa", "ja-var: ウウウ"), encoding="utf-8"
    )
    (tmp_path / "b.gloss").write_text(entry("b", "ウウウ", "Uuu"), encoding="utf-8")
    with pytest.raises(GlossaryError) as exc:
        load_glossary(tmp_path)
    msg = exc.value.problems[0]
    assert "a.gloss:5" in msg and "b.gloss:1" in msg


def test_shipped_glossary_validates() -> None:
    root = default_glossary_path()
    if not any(root.rglob("*.gloss")):
        pytest.skip("the shipped glossary is not written yet")
    g = load_glossary(None)
    assert len(g) > 0


def _index(g: Glossary) -> dict[str, str]:
    forms = {f for e in g.entries for f in e.forms()}
    return {f: owner.id for f in forms if (owner := g.owner(f)) is not None}


def test_loaded_form_index_is_the_one_built_from_entries() -> None:
    # load_glossary reuses validation's map (canonical forms claimed first); for a valid
    # glossary it must give every form the owner Glossary.of finds in entry order.
    for path in (None, FIXTURES / "basic.gloss"):
        g = load_glossary(path)
        rebuilt = Glossary.of(g.entries)
        assert _index(g) == _index(rebuilt)
        assert len(_index(g)) == g.form_count == rebuilt.form_count


def test_paused_gc_keeps_cycles_collectable_and_frozen_objects_frozen() -> None:
    class Node:
        ref: object = None

    with paused_gc():
        a, b = Node(), Node()
        a.ref, b.ref = b, a  # a cycle built during the pause
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
    gc.freeze()  # a run freezes its stage; a pause inside it must not release it
    try:
        frozen = gc.get_freeze_count()
        with paused_gc():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# --------------------------------------------------------------------------- round trip

_KANA = st.text(
    alphabet="アイウエオカキクケコサシスセソタチツテトナニヌネノンー", min_size=3, max_size=8
)
_LATIN = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk .-", min_size=3, max_size=12)
    .map(str.strip)
    .filter(lambda s: len(s) >= 3 and "  " not in s)  # (cleaning would make it one space)
)
_RULES = st.sampled_from(
    [
        Rule(),
        Rule(before=("[米日]",)),
        Rule(after=("・(?:ナト|NATO)",), token=True),
        Rule(headline=True),
    ]
)


@st.composite
def entries(draw: st.DrawFn) -> list[Entry]:
    n = draw(st.integers(1, 4))
    forms = draw(st.lists(_KANA, min_size=n * 3, max_size=n * 3, unique=True))
    ens = draw(st.lists(_LATIN, min_size=n, max_size=n, unique=True))
    out = []
    for i in range(n):
        ja, v1, v2 = forms[i * 3 : i * 3 + 3]
        variants = (
            Variant(v1, Lang.JA, draw(_RULES), draw(st.booleans())),
            Variant(v2, Lang.JA, renamed=draw(st.sampled_from([None, "2022-03-31"]))),
        )
        note = draw(st.sampled_from(["", "a note: with colon", "メモ #1"]))
        out.append(
            Entry(f"e{i}", draw(st.sampled_from(list(EntryType))), ja, ens[i], variants, note)
        )
    return out


@settings(max_examples=60, deadline=None)
@given(entries())
def test_parse_render_parse_round_trip(es: list[Entry]) -> None:
    text = "\n".join("\n".join(render_entry(e)) + "\n" for e in es)
    parsed, problems = parse_text(text, "t")
    assert problems == [] and validate(parsed) == []
    assert parsed == es
    again = "\n".join("\n".join(render_entry(e)) + "\n" for e in parsed)
    assert again == text
