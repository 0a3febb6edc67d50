"""`glossnorm glossary …` through typer's CliRunner, on copies of the fixture glossaries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glossnorm.cli import app
from glossnorm.glossary import load_glossary

FIXTURES = Path(__file__).parent / "fixtures" / "glossary"
COMMANDS = [
    "list",
    "show",
    "search",
    "validate",
    "add",
    "alias",
    "unalias",
    "rename",
    "merge",
    "remove",
    "import",
    "export",
    "reject",
    "accept",
]


APP = app
runner = CliRunner()


def run(*args: str | Path) -> tuple[int, str, str]:
    res = runner.invoke(APP, ["glossary", *map(str, args)])
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture
def g(tmp_path: Path) -> Path:
    p = tmp_path / "g.gloss"
    shutil.copy(FIXTURES / "basic.gloss", p)
    return p


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help(cmd: str) -> None:
    code, out, _ = run(cmd, "--help")
    assert code == 0 and "--glossary" in out
    doc = out.split("Options")[0]
    assert len(doc.split()) > 4  # a sentence of help, not only the usage line


def test_group_help_lists_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0 and all(c in out for c in COMMANDS)


def test_validate_ok_and_problems(g: Path, tmp_path: Path) -> None:
    code, out, _ = run("validate", "--glossary", g)
    assert code == 0 and out.startswith("OK: 4 entries, 9 variants in 1 file(s)")
    bad = tmp_path / "bad.gloss"
    bad.write_text(
        g.read_text(encoding="utf-8") + "\n[x]\ntype: person\nja: ロシア\nen: X\n", encoding="utf-8"
    )
    code, _, err = run("validate", "-g", bad)
    assert code == 1 and "bad.gloss:" in err and "'ロシア'" in err and "1 problem(s)" in err


def test_list_show_search(g: Path) -> None:
    code, out, _ = run("list", "-g", g, "--format", "tsv")
    assert code == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0][:4] == ["id", "type", "ja", "en"] and len(rows) == 5
    code, out, _ = run("list", "-g", g)
    assert code == 0 and "blinken" in out
    code, out, _ = run("show", "kyiv", "-g", g)
    assert code == 0 and "ja-var: キエフ {renamed=2022-03-31}" in out and "g.gloss:13" in out
    code, out, _ = run("show", "blinken", "-g", g)
    assert "# machine-translation spellings" in out
    code, out, _ = run("search", "ブリンカン", "-g", g)
    assert code == 0 and out.splitlines()[0].split()[1] == "[blinken]"
    code, out, _ = run("search", "kiev", "-g", g)
    assert code == 0 and "[kyiv]" in out.splitlines()[0]
    code, _, err = run("show", "kyyv", "-g", g)
    assert code == 2 and "did you mean [kyiv]" in err


def test_alias_conflict_exits_nonzero_and_leaves_file(g: Path) -> None:
    before = g.read_bytes()
    code, _, err = run("alias", "blinken", "キーウ", "-g", g)
    assert code == 1 and "'キーウ'" in err and "[kyiv]" in err
    assert g.read_bytes() == before


def test_edit_commands(g: Path) -> None:
    assert run("alias", "blinken", "Blinkin", "-g", g)[0] == 0
    assert run("alias", "russia", "露", "--rule", "before=[日米]", "-g", g)[0] == 0
    assert (
        run("add", "--type", "person", "--ja", "ゼレンスキー", "--en", "Zelenskyy", "-g", g)[0] == 0
    )
    assert run("rename", "kyiv", "--en", "Kyiv City", "--date", "2031-01-01", "-g", g)[0] == 0
    assert run("unalias", "kyiv", "Kiev", "-g", g)[0] == 0
    assert run("reject", "ゼレンスキ", "zelenskyy", "-g", g)[0] == 0
    assert run("merge", "blinken", "zelenskyy", "-g", g)[0] == 0
    assert run("remove", "nato", "-g", g)[0] == 0
    glo = load_glossary(g)
    assert set(glo.by_id) == {"blinken", "kyiv", "russia"}
    assert glo.by_id["blinken"].rejects == ("ブリンク", "ゼレンスキ")
    assert "Zelenskyy" in glo.by_id["blinken"].forms()
    assert [(v.form, v.renamed) for v in glo.by_id["kyiv"].variants if v.lang.value == "en"] == [
        ("Kyiv", "2031-01-01")
    ]
    code, _, err = run("add", "--type", "alien", "--ja", "ア", "--en", "A", "-g", g)
    assert code == 2 and "alien" in err


def test_accept(g: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "suggestions": [
                    {
                        "surface": "ブリンケーン",
                        "entry": "blinken",
                        "decision": "auto",
                        "score": 0.9,
                    },
                    {"surface": "ナトー", "entry": "russia", "decision": "auto", "score": 0.6},
                ]
            }
        ),
        encoding="utf-8",
    )
    code, out, _ = run("accept", report, "-g", g)
    assert code == 0 and "accepted 0" in out and "no file changed" in out
    code, out, err = run("accept", report, "--auto", "-g", g)
    assert code == 0 and "accepted 1" in out and "belongs to [nato]" in err
    assert "ブリンケーン" in load_glossary(g).by_id["blinken"].forms()
    report.write_text("[1, 2]", encoding="utf-8")
    assert run("accept", report, "-g", g)[0] == 2


def test_import_export(g: Path, tmp_path: Path) -> None:
    for fmt, name in (("csv", "x.csv"), ("omegat", "x.txt"), ("tbx", "x.tbx")):
        code, out, _ = run("export", tmp_path / name, "--format", fmt, "-g", g)
        assert code == 0 and "exported 4 entries" in out
    for name in ("x.csv", "x.tbx"):
        dest = tmp_path / f"from-{name}.gloss"
        code, out, _ = run("import", tmp_path / name, "-g", dest)
        assert code == 0 and "created" in out
        assert load_glossary(dest).entries == load_glossary(g).entries
    # into an existing glossary with a conflict: reported, nothing written
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,type,ja,en,ja_variants,en_variants,note\nz,place,ゼット,Kyiv,,,\n", encoding="utf-8"
    )
    before = g.read_bytes()
    code, _, err = run("import", bad, "-g", g)
    assert code == 1 and "'Kyiv'" in err and "[kyiv]" in err
    assert g.read_bytes() == before
    assert run("export", tmp_path / "x.unknown", "-g", g)[0] == 2


def test_an_edit_through_a_symlink_goes_to_its_target(tmp_path: Path) -> None:
    shared = tmp_path / "shared.gloss"
    shutil.copy(FIXTURES / "basic.gloss", shared)
    (tmp_path / "proj").mkdir()
    link = tmp_path / "proj" / "g.gloss"
    link.symlink_to(shared)
    assert run("alias", "blinken", "Blinkin", "-g", link)[0] == 0
    assert link.is_symlink() and "Blinkin" in shared.read_text("utf-8")


def test_a_write_that_fails_is_one_message_and_changes_nothing(
    g: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import glossnorm.atomic

    def refuse(src: str, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    before = g.read_bytes()
    monkeypatch.setattr(glossnorm.atomic.os, "replace", refuse)
    code, _, err = run("alias", "blinken", "Blinkin", "-g", g)
    assert code == 1 and err.strip() == f"glossnorm: error: {g}: cannot write (Permission denied)"
    assert g.read_bytes() == before and [p.name for p in g.parent.iterdir()] == [g.name]


def test_remove_of_a_duplicated_id_removes_one_definition(tmp_path: Path) -> None:
    g = tmp_path / "a.gloss"
    first = "[foo]\ntype: person\nja: フーバー\nen: Foober\n"
    g.write_text(first + "\n[foo]\ntype: person\nja: フーバーズ\nen: Foobers\n", "utf-8")
    code, out, _ = run("remove", "foo", "-g", g)
    assert code == 0 and f"at {g}:6" in out and f"kept: {g}:1" in out
    assert g.read_text("utf-8") == first
    assert run("validate", "-g", g)[0] == 0
    g.write_text(first + ("\n" + first) * 2, "utf-8")  # three times: one remove fixes it
    code, out, _ = run("remove", "foo", "-g", g)
    assert code == 0 and f"at {g}:6, {g}:11" in out and g.read_text("utf-8") == first


@pytest.mark.parametrize(
    "edit",
    [
        ("alias", "foo", "フウバー"),
        ("reject", "ブーバー", "foo"),
        ("rename", "foo", "--en", "Foobar", "--date", "2022-01-01"),
    ],
)
def test_the_last_entry_of_a_file_without_a_final_newline_can_be_edited(
    tmp_path: Path, edit: tuple[str, ...]
) -> None:
    g = tmp_path / "a.gloss"
    g.write_text("[foo]\ntype: person\nja: フーバー\nen: Foober\nja-var: フーバ", "utf-8")
    code, _, err = run(*edit, "-g", g)
    assert code == 0, err
    assert g.read_text("utf-8").endswith("\n") and run("validate", "-g", g)[0] == 0


def test_an_edit_keeps_a_cr_only_file_cr_only(tmp_path: Path) -> None:
    g = tmp_path / "a.gloss"
    text = "[a]\rtype: person\rja: アアア\ren: Aaa\r\r[b]\rtype: person\rja: イイイ\ren: Iii\r"
    g.write_bytes(text.encode())
    assert run("alias", "a", "アアアー", "-g", g)[0] == 0
    data = g.read_bytes()
    assert b"\n" not in data and "ja-var: アアアー\r".encode() in data
