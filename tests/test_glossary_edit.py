"""Safe glossary edits: whole-glossary validation, minimal diffs, atomic writes."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from pathlib import Path

import pytest

from glossnorm import atomic
from glossnorm import glossary_edit as ge
from glossnorm.errors import GlossaryConflict, OutputError, UsageError
from glossnorm.glossary import load_glossary
from glossnorm.model import EntryType, Lang

FIXTURES = Path(__file__).parent / "fixtures" / "glossary"


@pytest.fixture
def gfile(tmp_path: Path) -> Path:
    p = tmp_path / "g.gloss"
    shutil.copy(FIXTURES / "basic.gloss", p)
    return p


@pytest.fixture
def gdir(tmp_path: Path) -> Path:
    d = tmp_path / "g"
    shutil.copytree(FIXTURES / "folder", d)
    return d


def snapshot(root: Path) -> dict[str, bytes]:
    files = [root] if root.is_file() else sorted(root.rglob("*"))
    return {str(f): f.read_bytes() for f in files if f.is_file()}


def diff(a: str, b: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_alias_diff_is_one_added_line(gfile: Path) -> None:
    before = gfile.read_text(encoding="utf-8")
    res = ge.add_alias(gfile, "blinken", "ブリンケンン")
    assert res.changed == (gfile,)
    assert diff(before, gfile.read_text(encoding="utf-8")) == ["+ja-var: ブリンケンン"]
    # the new line sits right after the entry's last ja-var line
    lines = gfile.read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("ja-var: ブリンキン") + 1] == "ja-var: ブリンケンン"


def test_alias_language_guess_and_rule(gfile: Path) -> None:
    ge.add_alias(gfile, "blinken", "Blinkin")
    ge.add_alias(gfile, "nato", "ナ", rule="before=米・")
    ge.add_alias(gfile, "nato", "Nato", lang=Lang.JA)
    g = load_glossary(gfile)
    by_form = {v.form: v for e in g.entries for v in e.variants}
    assert by_form["Blinkin"].lang is Lang.EN
    assert by_form["ナ"].rule.before == ("米・",)
    assert by_form["Nato"].lang is Lang.JA


def test_alias_onto_other_canonical_is_refused_and_files_unchanged(gdir: Path) -> None:
    before = snapshot(gdir)
    with pytest.raises(GlossaryConflict) as exc:
        ge.add_alias(gdir, "blinken", "キーウ")
    msg = str(exc.value)
    assert "'キーウ'" in msg and "[kyiv]" in msg and "place.gloss" in msg
    assert snapshot(gdir) == before


def test_alias_owned_variant_refused(gfile: Path) -> None:
    before = snapshot(gfile)
    with pytest.raises(GlossaryConflict, match=r"'キエフ'.*variant of \[kyiv\]"):
        ge.add_alias(gfile, "russia", "キエフ")
    with pytest.raises(GlossaryConflict, match="already a variant"):
        ge.add_alias(gfile, "kyiv", "キエフ")
    assert snapshot(gfile) == before


def test_invalid_result_refused_by_whole_validation(gfile: Path) -> None:
    before = snapshot(gfile)
    with pytest.raises(GlossaryConflict, match="short variant 'ブ'"):
        ge.add_alias(gfile, "blinken", "ブ")
    with pytest.raises(UsageError, match="nested repetition"):
        ge.add_alias(gfile, "blinken", "ブリ", rule="before=(a+)+")
    assert snapshot(gfile) == before


def test_unknown_id_suggests(gfile: Path) -> None:
    with pytest.raises(UsageError, match=r"did you mean \[blinken\]"):
        ge.add_alias(gfile, "blinkn", "ブリンケンン")


def test_unalias(gfile: Path) -> None:
    before = gfile.read_text(encoding="utf-8")
    ge.remove_alias(gfile, "kyiv", "Kiev")
    assert diff(before, gfile.read_text(encoding="utf-8")) == ["-en-var: Kiev {renamed=2022-03-31}"]
    with pytest.raises(UsageError, match="no variant"):
        ge.remove_alias(gfile, "kyiv", "Kiev")


def test_add_generates_unique_id_and_picks_type_file(gdir: Path) -> None:
    place = (gdir / "place.gloss").read_text(encoding="utf-8")
    person_before = (gdir / "person.gloss").read_bytes()
    ge.add_entry(gdir, etype=EntryType.PLACE, ja="ウクライナ", en="Ukraine")
    ge.add_entry(gdir, etype=EntryType.PLACE, ja="ウクライナ国", en="Ukraine!")
    g = load_glossary(gdir)
    assert g.by_id["ukraine"].ja == "ウクライナ" and g.by_id["ukraine-2"].ja == "ウクライナ国"
    after = (gdir / "place.gloss").read_text(encoding="utf-8")
    assert after.startswith(place)
    assert (gdir / "person.gloss").read_bytes() == person_before
    assert all(line.startswith("+") for line in diff(place, after))


def test_add_conflicts(gfile: Path) -> None:
    before = snapshot(gfile)
    with pytest.raises(GlossaryConflict, match=r"id \[kyiv\] already exists"):
        ge.add_entry(gfile, etype=EntryType.PLACE, ja="ウウウ", en="Uuu", eid="kyiv")
    with pytest.raises(GlossaryConflict, match=r"'ナトー'.*\[nato\]"):
        ge.add_entry(gfile, etype=EntryType.ORGANISATION, ja="ナトー", en="Nato Org")
    assert snapshot(gfile) == before


def test_rename_old_canonical_becomes_dated_variant(gfile: Path) -> None:
    before = gfile.read_text(encoding="utf-8")
    ge.rename_entry(gfile, "blinken", ja="ブリンキン", date="2030-01-02")
    e = load_glossary(gfile).by_id["blinken"]
    assert e.ja == "ブリンキン"
    assert [(v.form, v.renamed) for v in e.variants] == [
        ("ブリンカーン", None),
        ("ブリンケン", "2030-01-02"),
    ]
    d = diff(before, gfile.read_text(encoding="utf-8"))
    assert sorted(d) == sorted(
        [
            "-ja: ブリンケン",
            "+ja: ブリンキン",
            "-ja-var: ブリンキン",
            "+ja-var: ブリンケン {renamed=2030-01-02}",
        ]
    )


def test_rename_same_en_and_ja(gfile: Path) -> None:
    ge.rename_entry(gfile, "nato", ja="ナトー", date="")
    e = load_glossary(gfile).by_id["nato"]
    assert (e.ja, e.en) == ("ナトー", "NATO")
    assert "NATO" not in [v.form for v in e.variants]  # still the English canonical form


def test_merge(gfile: Path) -> None:
    ge.merge_entries(gfile, "russia", "kyiv")
    g = load_glossary(gfile)
    assert "kyiv" not in g.by_id
    forms = g.by_id["russia"].forms()
    assert {"キーウ", "Kyiv", "キエフ", "Kiev"} <= set(forms)
    text = gfile.read_text(encoding="utf-8")
    assert "# machine-translation spellings" in text and "\n\n\n" not in text


def test_remove_keeps_everything_else(gfile: Path) -> None:
    before = gfile.read_text(encoding="utf-8")
    ge.remove_entry(gfile, "kyiv")
    d = diff(before, gfile.read_text(encoding="utf-8"))
    assert all(line.startswith("-") for line in d) and len(d) == 8  # 7 field lines + 1 blank


def test_edit_keeps_comment_inside_block_and_crlf(tmp_path: Path) -> None:
    p = tmp_path / "crlf.gloss"
    text = (FIXTURES / "basic.gloss").read_text(encoding="utf-8").replace("\n", "\r\n")
    p.write_bytes(("\ufeff" + text).encode("utf-8"))
    ge.add_alias(p, "blinken", "ブリンケンン")
    raw = p.read_bytes().decode("utf-8")
    assert raw.startswith("\ufeff") and "\n" not in raw.replace("\r\n", "")
    assert "# machine-translation spellings\r\nja-var: ブリンカーン" in raw


def test_reject(gfile: Path) -> None:
    before = gfile.read_text(encoding="utf-8")
    ge.add_reject(gfile, "ナトリウム", "nato")
    assert diff(before, gfile.read_text(encoding="utf-8")) == ["+reject: ナトリウム"]
    assert ge.add_reject(gfile, "ナトリウム", "nato").changed == ()
    with pytest.raises(GlossaryConflict, match="is a form of"):
        ge.add_reject(gfile, "ナトー", "nato")


def test_accept_report(gfile: Path) -> None:
    report = {
        "suggestions": [
            {"surface": "ブリンケーン", "entry": "blinken", "decision": "review", "accept": True},
            {"surface": "キーフ", "entry": "kyiv", "decision": "auto"},
            {"surface": "ナトウ", "entry": "nato", "decision": "auto", "accept": False},
            {"surface": "キエフ", "entry": "russia", "decision": "auto"},  # owned by kyiv
            {"surface": "ブリンク", "entry": "blinken", "accept": True},  # rejected
            {"surface": "Blinkenn", "entry": "blinken", "decision": "review"},  # not marked
        ]
    }
    res = ge.accept_report(gfile, report)
    assert "accepted 1" in res.message
    assert len(res.warnings) == 1 and "rejects it" in res.warnings[0]
    res = ge.accept_report(gfile, report, auto=True)
    assert "キーフ -> [kyiv]" in res.message
    assert any("belongs to [kyiv]" in s for s in res.warnings)
    g = load_glossary(gfile)
    assert "ブリンケーン" in g.by_id["blinken"].forms()
    assert "ナトウ" not in g.by_id["nato"].forms() and "Blinkenn" not in g.by_id["blinken"].forms()


def test_write_keeps_mode_and_leaves_no_temp(gfile: Path) -> None:
    os.chmod(gfile, 0o640)
    ge.add_alias(gfile, "blinken", "ブリンケンン")
    assert stat.S_IMODE(gfile.stat().st_mode) == 0o640
    assert [p.name for p in gfile.parent.iterdir()] == ["g.gloss"]


def test_failed_replace_leaves_old_file(gdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(gdir)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OutputError, match=r"person\.gloss: cannot write"):
        ge.merge_entries(gdir, "blinken", "kyiv")
    assert snapshot(gdir) == before  # no temp files either


def test_concurrent_change_detected(gfile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ge.Workspace.check

    def sneaky(self: ge.Workspace, *a: object) -> object:
        gfile.write_text(gfile.read_text(encoding="utf-8") + "\n# someone else\n", encoding="utf-8")
        return real(self, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(ge.Workspace, "check", sneaky)
    with pytest.raises(GlossaryConflict, match="changed on disk"):
        ge.add_alias(gfile, "blinken", "ブリンケンン")
    assert gfile.read_text(encoding="utf-8").endswith("# someone else\n")


def test_helpers() -> None:
    assert ge.slugify("Antony Blinken, Jr.") == "antony-blinken-jr"
    assert ge.slugify("東京") == "entry"
    assert ge.unique_id("kyiv", {"kyiv", "kyiv-2"}) == "kyiv-3"
    assert ge.guess_lang("Kyiv-1") is Lang.EN and ge.guess_lang("NATO加盟") is Lang.JA


@pytest.mark.parametrize("root", ["gfile", "gdir"])
def test_an_edit_holds_the_glossary_lock_while_it_validates_and_writes(
    root: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two edits at once used to validate the same old glossary and both write (one alias
    # lost, or one form given to two entries). Another edit must now wait for this one.
    import fcntl

    path: Path = request.getfixturevalue(root)
    folder = path if path.is_dir() else path.parent
    real = ge.Workspace.commit
    held: list[bool] = []

    def probe(self: ge.Workspace, *a: object, **k: object) -> object:
        fd = os.open(folder, os.O_RDONLY)  # as another process's edit would
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(False)
        except BlockingIOError:
            held.append(True)
        finally:
            os.close(fd)
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(ge.Workspace, "commit", probe)
    ge.add_alias(path, "blinken", "ブリンケンン")
    assert held == [True]
    fd = os.open(folder, os.O_RDONLY)  # and released after it
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)


def test_accepting_a_split_suggestion_adds_an_infix_variant(gfile: Path) -> None:
    # A form fused inside a longer katakana run matches there only as {infix}: a plain
    # variant was added, the run stayed unchanged, and the suggestion came back forever.
    split = {"surface": "ブリンケンヌ", "entry": "blinken", "kind": "split", "infix": True,
             "run": "ブリンケンヌトフ", "accept": True}  # fmt: skip
    ge.accept_report(gfile, {"suggestions": [split]})
    (v,) = [v for v in load_glossary(gfile).by_id["blinken"].variants if v.form == "ブリンケンヌ"]
    assert v.rule.infix
    # one accepted before as a plain variant is made {infix}
    ge.add_alias(gfile, "blinken", "ブリンケンナ")
    ge.accept_report(gfile, {"suggestions": [{**split, "surface": "ブリンケンナ"}]})
    (v,) = [v for v in load_glossary(gfile).by_id["blinken"].variants if v.form == "ブリンケンナ"]
    assert v.rule.infix


@pytest.mark.parametrize("mark", ["false", 0, 1, "yes"])
def test_accept_that_is_not_a_boolean_is_not_a_yes(gfile: Path, mark: object) -> None:
    report = {"suggestions": [{"surface": "ブリンキーン", "entry": "blinken",
                               "decision": "auto", "accept": mark}]}  # fmt: skip
    res = ge.accept_report(gfile, report, auto=True)
    assert res.changed == () and "must be true or false" in res.warnings[0]
