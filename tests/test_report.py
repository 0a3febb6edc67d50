"""The fuzzy-match report: linking, hard negatives, splits, rejections, formats, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glossnorm.cli import app
from glossnorm.model import Entry, EntryType, Lang, Rule, Variant
from glossnorm.report import Candidate, GlossaryIndex, ReportOptions, build_report
from glossnorm.report_format import render, to_html

GLOSS = """\
[blinken]
type: person
ja: ブリンケン
en: Blinken

[nato]
type: organisation
ja: NATO
en: NATO

[vladimir]
type: person
ja: ウラジーミル
en: Vladimir

[slovakia]
type: place
ja: スロバキア
en: Slovakia

[austria]
type: place
ja: オーストリア
en: Austria

[iran]
type: place
ja: イラン
en: Iran

[zelensky]
type: person
ja: ゼレンスキー
en: Zelensky
reject: ゼレンスキイ
"""


def E(id_: str, ja: str, en: str, *, variants: tuple[str, ...] = (),
      rejects: tuple[str, ...] = ()) -> Entry:
    return Entry(id_, EntryType.OTHER, ja, en,
                 tuple(Variant(v, Lang.JA) for v in variants), rejects=rejects)


ENTRIES = [
    E("blinken", "ブリンケン", "Blinken"),
    E("nato", "NATO", "NATO"),
    E("vladimir", "ウラジーミル", "Vladimir"),
    E("slovakia", "スロバキア", "Slovakia"),
    E("austria", "オーストリア", "Austria"),
    E("iran", "イラン", "Iran"),
    E("russia", "ロシア", "Russia"),
    E("zelensky", "ゼレンスキー", "Zelensky", rejects=("ゼレンスキイ",)),
]
OPTS = ReportOptions()


@pytest.fixture(scope="module")
def index() -> GlossaryIndex:
    return GlossaryIndex(ENTRIES)


def link(index: GlossaryIndex, surface: str, kind: str = "katakana") -> str | None:
    s = index.link(Candidate(surface, kind), OPTS)
    return None if s is None else s.entry


@pytest.mark.parametrize(("surface", "entry"), [
    ("ブリンカーン", "blinken"), ("ウラジミール", "vladimir"), ("ヴラジーミル", "vladimir"),
    ("ナトー", "nato"), ("Blinkan", "blinken"),
])
def test_true_variants_linked(index: GlossaryIndex, surface: str, entry: str) -> None:
    kind = "latin" if surface.isascii() else "katakana"
    assert link(index, surface, kind) == entry


@pytest.mark.parametrize("surface", ["スロベニア", "オーストラリア", "イラク", "Slovenia",
                                     "Australia", "Iraq", "ロシアン", "バリ"])
def test_hard_negatives_never_linked(index: GlossaryIndex, surface: str) -> None:
    kind = "latin" if surface.isascii() else "katakana"
    assert link(index, surface, kind) is None


def test_exact_form_of_another_entry_is_not_a_candidate() -> None:
    # both countries in the glossary: the report must never offer to merge them
    idx = GlossaryIndex([*ENTRIES, E("slovenia", "スロベニア", "Slovenia")])
    assert link(idx, "スロベニア") is None
    rep = build_report([("d", "スロベニアとスロバキア、オーストリア。")], idx.entries)
    assert rep.suggestions == ()


def test_rejection_is_honoured(index: GlossaryIndex) -> None:
    assert link(index, "ゼレンスキイ") is None
    assert link(index, "ゼレンスキィー") == "zelensky"


def test_fused_split_suggestion() -> None:
    rep = build_report([("d", "オアナ・ルンゲスクナート報道官が述べた。")], ENTRIES)
    splits = [s for s in rep.suggestions if s.kind == "split"]
    assert [(s.surface, s.entry, s.run, s.decision) for s in splits] == [
        ("ナート", "nato", "ルンゲスクナート", "review")]


def test_kanji_reading_candidate() -> None:
    rep = build_report([("d", "奈藤・ロシアの対立。")], ENTRIES)
    s = {x.surface: x for x in rep.suggestions}
    assert s["奈藤"].entry == "nato" and s["奈藤"].decision == "review"
    assert any("ナトウ" in e for e in s["奈藤"].evidence)


def test_margin_rule_blocks_auto() -> None:
    idx = GlossaryIndex([E("a", "カリーナ", "Karina"), E("b", "カリーノ", "Karino")])
    s = idx.link(Candidate("カリーニ", "katakana"), OPTS)
    assert s is None or s.decision == "review"


def test_unknowns_cluster() -> None:
    rep = build_report([("d", "ルンゲスク氏とルンゲスコ氏、ルンゲースク氏。タナカ。")], ENTRIES)
    members = [{m for m, _ in c.members} for c in rep.clusters]
    assert {"ルンゲスク", "ルンゲスコ", "ルンゲースク"} in members


def test_json_schema_and_html_escape() -> None:
    rep = build_report([("d", "<script>x</script>ブリンカーン長官")], ENTRIES)
    data = json.loads(render(rep, "json"))
    assert set(data) >= {"suggestions", "clusters"}
    s = data["suggestions"][0]
    assert set(s) >= {"surface", "count", "entry", "canonical", "en", "score", "decision",
                      "evidence", "contexts"}
    assert s["decision"] in ("auto", "review") and s["evidence"]
    page = to_html(rep)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http" not in page.split("<body>")[0]  # nothing loaded from the network
    assert render(rep, "csv").splitlines()[0].startswith("surface,count,entry")


def test_cli(tmp_path: Path) -> None:
    (tmp_path / "g.gloss").write_text(GLOSS, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("トニー・ブリンカーン長官とスロベニア。<script>x</script>\n",
                                  encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["report", str(corpus), "--glossary", str(tmp_path / "g.gloss"),
                              "--format", "json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [(s["surface"], s["entry"]) for s in data["suggestions"]] == [("ブリンカーン", "blinken")]  # noqa: E501
    res = runner.invoke(app, ["report", str(corpus), "--glossary", str(tmp_path / "g.gloss"),
                              "--format", "html"])
    assert res.exit_code == 0 and "&lt;script&gt;" in res.output
    res = runner.invoke(app, ["report", str(corpus), "--glossary", str(tmp_path / "g.gloss"),
                              "--format", "xml"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["report", str(corpus), "--glossary", str(tmp_path / "g.gloss"),
                              "--min-score", "0.99", "--format", "csv"])
    assert res.exit_code == 0 and len(res.output.splitlines()) == 1


def test_homophone_kanji_words_are_not_reading_variants() -> None:
    entries = [
        Entry("defence-minister", EntryType.TERM, "国防相", "defence minister"),
        Entry("nato", EntryType.ORGANISATION, "NATO", "NATO", (Variant("ナトー", Lang.JA),)),
    ]
    rep = build_report([("d", "国防省は声明を出した。奈藤・ル・ラが反発した。")], entries)
    surfaces = {s.surface for s in rep.suggestions}
    assert "国防省" not in surfaces
    assert "奈藤" in surfaces


def test_hashtags_handles_and_urls_are_not_candidates() -> None:
    text = (
        "投稿 #NATOexpansion が拡散した。@Natoo_News も https://example.com/Natoo/Zelenskyy "
        "を引用した。"
    )
    from glossnorm.report import Extractor

    rep = build_report([("d", text)], ENTRIES)
    assert [s.surface for s in rep.suggestions] == []
    ex = Extractor(lambda s: False)
    ex.add_document("d", text)
    assert [c.surface for c in ex.candidates() if c.kind == "latin"] == []


def test_a_long_katakana_run_is_not_searched_for_names() -> None:
    # Prefixes and suffixes of every part were searched: quadratic time and memory (a
    # 16,000-character run took 80 s and 1.2 GB). No name is longer than MAX_NAME_CHARS.
    from glossnorm.report import MAX_NAME_CHARS, Extractor

    seen: list[str] = []
    ex = Extractor(lambda s: seen.append(s) is not None)  # records every lookup
    ex.add_document("d", "ア" + "イウエオカキクケコ" * 1000 + "。")
    assert not seen and ex.candidates() == []
    ex.add_document("d", "ナトーウ" * (MAX_NAME_CHARS // 4))  # as long as a name may be
    assert seen


def test_a_split_whose_form_already_matches_inside_runs_is_not_suggested_again() -> None:
    text = "オアナ・ルンゲスクナート報道官が述べた。"
    nato = E("nato", "NATO", "NATO", variants=("ナート",))
    infix = Entry("nato", EntryType.ORGANISATION, "NATO", "NATO",
                  (Variant("ナート", Lang.JA, Rule(infix=True)),))  # fmt: skip
    before = build_report([("d", text)], [*[e for e in ENTRIES if e.id != "nato"], nato])
    assert [s.kind for s in before.suggestions if s.surface == "ナート"] == ["split"]
    after = build_report([("d", text)], [*[e for e in ENTRIES if e.id != "nato"], infix])
    assert [s for s in after.suggestions if s.surface == "ナート"] == []


def test_cli_warns_about_what_it_could_not_read(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "ブリンキーン長官"}\n{broken\n', "utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    res = CliRunner().invoke(app, ["report", str(tmp_path), "--format", "csv"])
    assert res.exit_code == 0
    assert f"glossnorm: warning: {tmp_path / 'a.jsonl'}:2: not valid JSON" in res.stderr
    assert f"glossnorm: warning: {tmp_path / 'b.txt'}: binary file" in res.stderr
    assert "ブリンキーン" in res.stdout
