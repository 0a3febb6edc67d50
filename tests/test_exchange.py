"""CSV / OmegaT / TBX exchange: contract, losslessness, merge conflicts, TBX structure."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from glossnorm import exchange as ex
from glossnorm.errors import GlossaryConflict, InputError, UsageError
from glossnorm.glossary import load_glossary
from glossnorm.model import Entry, EntryType, Lang, Rule, Variant

FIXTURES = Path(__file__).parent / "fixtures" / "glossary"
TBX_NS = {"t": ex.TBX_NS}
KATA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"


def kata(i: int, salt: int) -> str:
    n, s = i * 7919 + salt * 104729, []
    for _ in range(4):
        s.append(KATA[n % len(KATA)])
        n //= len(KATA)
    return "".join(s) + "ー" + str(i)


def generated_csv(n: int) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ex.CSV_COLUMNS)
    for i in range(n):
        jv = [kata(i, 1), kata(i, 2) + " {keep}"] if i % 3 else []
        if i % 7 == 0:
            jv.append(kata(i, 3) + " {before=(?:米|美)・; after=・(?:ナト|NATO)}")
        ev = [f"Nayme{i}", f"Naime {i} {{renamed=2022-03-31}}"] if i % 2 else []
        note = f'note, with "quotes", {i}' if i % 4 == 0 else ""
        w.writerow(
            [
                f"e{i}",
                list(EntryType)[i % 5].value,
                kata(i, 0),
                f"Name{i}, Jr.",
                "|".join(jv),
                "|".join(ev),
                note,
            ]
        )
    return buf.getvalue()


@pytest.fixture
def gfile(tmp_path: Path) -> Path:
    p = tmp_path / "g.gloss"
    shutil.copy(FIXTURES / "basic.gloss", p)
    return p


def test_import_2000_rows_then_export_is_identical(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(generated_csv(2000), encoding="utf-8")
    dest = tmp_path / "new" / "terms.gloss"
    res = ex.import_file(src, dest)
    assert res.changed == (dest,)
    g = load_glossary(dest)
    assert len(g) == 2000 and g.by_id["e7"].en == "Name7, Jr."
    assert g.by_id["e7"].variants[2].rule.after == ("・(?:ナト|NATO)",)
    out = tmp_path / "out.csv"
    ex.export_file(dest, out, "csv")
    assert out.read_text(encoding="utf-8") == src.read_text(encoding="utf-8")


def test_export_import_export_is_lossless(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    ex.export_file(FIXTURES / "basic.gloss", first)
    header = first.read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,type,ja,en,ja_variants,en_variants,note,rejects"
    ex.import_file(first, tmp_path / "b.gloss")
    assert (
        load_glossary(tmp_path / "b.gloss").entries
        == load_glossary(FIXTURES / "basic.gloss").entries
    )
    second = tmp_path / "b.csv"
    ex.export_file(tmp_path / "b.gloss", second)
    assert second.read_bytes() == first.read_bytes()


def test_contract_header_without_rejects(tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    ex.export_file(FIXTURES / "folder", out)
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(ex.CSV_COLUMNS)


def test_csv_problems_name_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "id,type,ja,en,ja_variants,en_variants,note\n"
        "a,person,アアア,Aaa,ウウウ {colour=red},,\n"
        "b,alien,イイイ,Iii,,,\n"
        'c,person,エエエ,"E\nE",,,\n',
        encoding="utf-8",
    )
    with pytest.raises(GlossaryConflict) as exc:
        ex.import_file(src, tmp_path / "g.gloss")
    probs = exc.value.problems
    assert any("bad.csv:2" in p and "unknown attribute" in p for p in probs)
    assert any("bad.csv:3" in p and "unknown type 'alien'" in p for p in probs)
    assert any("bad.csv:4" in p and "line break" in p for p in probs)  # where it starts
    assert not (tmp_path / "g.gloss").exists()


def test_import_merges_into_existing(gfile: Path, tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text(
        "id,type,ja,en,ja_variants,en_variants,note\n"
        "kyiv,place,キーウ,Kyiv,キーフ,,\n"
        ",person,ゼレンスキー,Zelenskyy,,Zelensky,\n",
        encoding="utf-8",
    )
    before = gfile.read_text(encoding="utf-8")
    res = ex.import_file(src, gfile)
    assert res.message.startswith("1 added, 1 updated")
    g = load_glossary(gfile)
    assert "キーフ" in g.by_id["kyiv"].forms() and "キエフ" in g.by_id["kyiv"].forms()
    assert g.by_id["zelenskyy"].en == "Zelenskyy"
    assert gfile.read_text(encoding="utf-8").startswith(
        before.split("[nato]")[0].replace(
            "ja-var: キエフ {renamed=2022-03-31}\n",
            "ja-var: キエフ {renamed=2022-03-31}\nja-var: キーフ\n",
        )
    )


def test_import_conflicts_are_all_reported_and_nothing_written(gfile: Path, tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(
        "id,type,ja,en,ja_variants,en_variants,note\n"
        "kyiv,place,キエフ,Kyiv,,,\n"  # canonical differs
        "new1,person,ニュー,New One,ブリンカーン,,\n"  # variant owned by [blinken]
        "new2,place,ニューツー,Russia,,,\n",  # canonical owned by [russia]
        encoding="utf-8",
    )
    before = gfile.read_bytes()
    with pytest.raises(GlossaryConflict) as exc:
        ex.import_file(src, gfile)
    text = "\n".join(exc.value.problems)
    assert "c.csv:2: [kyiv] has ja 'キエフ' here but 'キーウ'" in text
    assert "'ブリンカーン'" in text and "[blinken]" in text
    assert "'Russia'" in text and "[russia]" in text
    assert gfile.read_bytes() == before


def test_import_replace(gfile: Path, tmp_path: Path) -> None:
    src = tmp_path / "r.csv"
    src.write_text(
        "id,type,ja,en,ja_variants,en_variants,note\nkyiv,place,キーウ,Kyiv,,,\n", encoding="utf-8"
    )
    ex.import_file(src, gfile, replace_existing=True)
    assert load_glossary(gfile).by_id["kyiv"].variants == ()


def test_omegat(tmp_path: Path) -> None:
    out = tmp_path / "glossary.txt"
    ex.export_file(FIXTURES / "basic.gloss", out, "omegat")
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(len(r) == 3 for r in rows)
    g = load_glossary(FIXTURES / "basic.gloss")
    expected = [(f, e.en) for e in g.entries for f in e.forms(Lang.JA)]
    assert [(r[0], r[1]) for r in rows] == expected
    assert rows[[r[0] for r in rows].index("キエフ")][:2] == ["キエフ", "Kyiv"]


# --------------------------------------------------------------------------- TBX


def rng() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(FIXTURES / "tbx-basic-core.rng")))


def test_tbx_export_is_valid_and_holds_every_japanese_term(tmp_path: Path) -> None:
    out = tmp_path / "g.tbx"
    ex.export_file(FIXTURES / "basic.gloss", out)
    doc = etree.parse(str(out))  # well-formed
    schema = rng()
    assert schema.validate(doc), schema.error_log
    root = doc.getroot()
    assert root.tag == f"{{{ex.TBX_NS}}}tbx" and root.get("type") == "TBX-Basic"
    g = load_glossary(FIXTURES / "basic.gloss")
    assert len(root.findall(".//t:conceptEntry", TBX_NS)) == len(g)
    ja_terms = root.xpath("//t:langSec[@xml:lang='ja']/t:termSec/t:term/text()", namespaces=TBX_NS)
    assert sorted(ja_terms) == sorted(f for e in g.entries for f in e.forms(Lang.JA))
    kyiv = root.xpath("//t:conceptEntry[@id='kyiv']", namespaces=TBX_NS)[0]
    statuses = kyiv.xpath(
        ".//t:termSec[t:term='キエフ']/t:termNote[@type='administrativeStatus']/text()",
        namespaces=TBX_NS,
    )
    assert statuses == [ex.DEPRECATED]
    assert kyiv.xpath(".//t:termSec[t:term='キエフ']/t:note/text()", namespaces=TBX_NS) == [
        "renamed 2022-03-31"
    ]
    admitted = root.xpath(
        "//t:termSec[t:term='北大西洋条約機構']/t:termNote/text()", namespaces=TBX_NS
    )
    assert ex.ADMITTED in admitted


def test_tbx_ids_starting_with_digit(tmp_path: Path) -> None:
    e = Entry("2020-games", EntryType.OTHER, "東京五輪", "Tokyo 2020")
    data = ex.entries_to_tbx([e])
    assert rng().validate(etree.fromstring(data))
    back, problems, _ = ex.tbx_to_entries(data, "x.tbx")
    assert problems == [] and back == [e]


def test_glossary_tbx_glossary_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "g.tbx"
    ex.export_file(FIXTURES / "basic.gloss", out)
    ex.import_file(out, tmp_path / "back.gloss")
    assert (
        load_glossary(tmp_path / "back.gloss").entries
        == load_glossary(FIXTURES / "basic.gloss").entries
    )


def test_tbx_round_trip_keeps_whitespace_inside_notes(tmp_path: Path) -> None:
    src = tmp_path / "a.gloss"
    src.write_text(
        "[foo]\ntype: person\nja: ジョーフー\nen: Joe Foo\n"
        "note: Renamed.  See\u3000the 2022 notice.\n",
        "utf-8",
    )
    ex.export_file(src, tmp_path / "a.tbx")
    ex.import_file(tmp_path / "a.tbx", tmp_path / "b.gloss")
    assert load_glossary(tmp_path / "b.gloss").entries == load_glossary(src).entries
    assert ex.import_file(tmp_path / "a.tbx", src).changed == ()  # own export: nothing to do


def test_tbx_import_joins_wrapped_lines(tmp_path: Path) -> None:
    tbx = tmp_path / "w.tbx"
    ex.export_file(FIXTURES / "basic.gloss", tbx)
    text = tbx.read_text("utf-8").replace("<term>NATO</term>", "<term>\n      NA\n TO </term>")
    assert "NA\n" in text
    tbx.write_text(text, "utf-8")
    ex.import_file(tbx, tmp_path / "b.gloss")
    assert load_glossary(tmp_path / "b.gloss").by_id["nato"].en == "NA TO"


def test_tbx_v2_martif_import_and_tbx_round_trip_keeps_terms(tmp_path: Path) -> None:
    dest = tmp_path / "m.gloss"
    res = ex.import_file(FIXTURES / "martif-v2.tbx", dest)
    assert any("c3" in s and "no Japanese term" in s for s in res.warnings)
    g = load_glossary(dest)
    georgia = g.by_id["c1"]
    assert (georgia.ja, georgia.en, georgia.type) == ("ジョージア", "Georgia", EntryType.PLACE)
    assert georgia.variants[0].form == "グルジア" and georgia.variants[0].renamed == "2015-04-22"
    minister = g.by_id["c-2"]
    assert minister.variants[0].keep and "Diplomacy" in minister.note
    assert minister.variants[0].rule.token  # short kanji variant: made safe, with a warning
    assert any("'外相'" in s for s in res.warnings)
    out = tmp_path / "again.tbx"
    ex.export_file(dest, out)
    terms_in = set(
        etree.parse(str(FIXTURES / "martif-v2.tbx")).xpath(
            "//termEntry[langSet[starts-with(@xml:lang,'ja')]]//term/text()"
        )
    )
    terms_out = set(etree.parse(str(out)).xpath("//t:term/text()", namespaces=TBX_NS))
    assert terms_in <= terms_out


def test_tbx_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    evil = (
        f'<?xml version="1.0"?><!DOCTYPE tbx [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<tbx xmlns="{ex.TBX_NS}"><text><body><conceptEntry id="a">'
        '<langSec xml:lang="ja"><termSec><term>アア&x;</term></termSec></langSec>'
        '<langSec xml:lang="en"><termSec><term>Aa</term></termSec></langSec>'
        "</conceptEntry></body></text></tbx>"
    ).encode()
    entries, _, _ = ex.tbx_to_entries(evil, "evil.tbx")
    assert all("TOPSECRET" not in e.ja for e in entries)


def test_tbx_not_well_formed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tbx"
    bad.write_text("<tbx><text>", encoding="utf-8")
    with pytest.raises(InputError, match="not well-formed"):
        ex.import_file(bad, tmp_path / "g.gloss")


_FORM = st.text(alphabet="アイウエオカキクケコ,\"'ー・", min_size=3, max_size=7)


@settings(max_examples=40, deadline=None)
@given(st.lists(_FORM, min_size=3, max_size=9, unique=True), st.text(max_size=20))
def test_csv_round_trip_property(forms: list[str], note: str) -> None:
    note = " ".join(note.split())
    e = Entry(
        "x",
        EntryType.TERM,
        forms[0],
        'X, "quoted"',
        tuple(Variant(f, Lang.JA, Rule(before=("(?:a|b)",))) for f in forms[1:]),
        note,
    )
    back, problems = ex.csv_to_entries(ex.entries_to_csv([e]), "p.csv")
    assert problems == [] and back == [e]


_BAD_ROWS = (
    "id,type,ja,en,ja_variants,en_variants,note\n"
    "alpha,person,アルファ,Alpha,アルファー,,\n"
    "beta,person,ベータ,Beta,アルファー,,\n"
    "gamma,person,ガンマ,Gamma,ガ,,\n"
)


@pytest.mark.parametrize("into", ["new.gloss", "existing"])
def test_import_problems_name_the_rows_of_the_file_imported(
    gfile: Path, tmp_path: Path, into: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(_BAD_ROWS, "utf-8")
    dest = tmp_path / "new.gloss" if into == "new.gloss" else gfile
    before = dest.read_bytes() if dest.exists() else None
    with pytest.raises(GlossaryConflict) as exc:
        ex.import_file(src, dest)
    where = sorted(p.split(": ")[0] for p in exc.value.problems)
    assert where == [f"{src}:3", f"{src}:4"]  # (were lines of a .gloss file not yet written)
    assert (dest.read_bytes() if dest.exists() else None) == before


@pytest.mark.parametrize("name", ["newdir", "terms.txt"])
def test_import_into_a_new_glossary_needs_a_gloss_file_name(tmp_path: Path, name: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,type,ja,en\nzz,person,ゾゾゾ,Zozozo\n", "utf-8")
    with pytest.raises(UsageError, match=r"a new glossary is one \.gloss file"):
        ex.import_file(src, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_a_control_character_in_an_imported_row_names_that_row(
    gfile: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,type,ja,en,note\nfoo,person,フーバー,Foober,bell\x07here\n", "utf-8")
    for dest in (tmp_path / "new.gloss", gfile):
        with pytest.raises(GlossaryConflict) as exc:
            ex.import_file(src, dest)
        assert exc.value.problems == [f"{src}:2: control character U+0007 in [foo]: remove it"]
