"""Acceptance of ingestion through `glossnorm normalise`: encodings, bad files, accounting."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glossnorm.cli import app

HERE = Path(__file__).parent
MINI = str(HERE / "fixtures" / "mini.gloss")
runner = CliRunner()

ARTICLE = (
    "米国務長官、ロシア外相と会談\n"
    "トニー・ブリンカーン長官はジュネーブでラブロフ外相と会談した。\n"
    "両氏はキエフ情勢を巡り意見を交わした。\n"
)


def normalise(inputs: list[str], out: Path, *extra: str) -> dict[str, object]:
    res = runner.invoke(app, ["normalise", *inputs, "--glossary", MINI, "--out", str(out), *extra])
    assert res.exit_code == 0, res.output
    summary: dict[str, object] = json.loads((out / "summary.json").read_text("utf-8"))
    dropped = summary["dropped"]
    assert isinstance(dropped, dict)
    assert summary["segments_in"] == (
        summary["segments_kept"] + summary["duplicates"] + sum(dropped.values())  # type: ignore[operator]
    )
    return summary


def texts(out: Path) -> list[str]:
    lines = (out / "corpus.jsonl").read_text("utf-8").splitlines()
    return [json.loads(x)["text"] for x in lines]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "shift_jis", "euc_jp"])
def test_every_encoding_gives_the_same_corpus(encoding: str, tmp_path: Path) -> None:
    ref, got = tmp_path / "ref", tmp_path / "got"
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(ARTICLE.encode(encoding))
    normalise([str(tmp_path / "a.txt")], ref)
    summary = normalise([str(tmp_path / "b.txt")], got)
    assert texts(got) == texts(ref)
    assert "アントニー・ブリンケン長官はジュネーブでラブロフ外相と会談した。" in texts(got)
    assert summary["encodings"]


def test_binary_file_is_skipped_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "photo.txt").write_bytes(bytes(range(256)) * 8)
    alone, mixed = tmp_path / "alone", tmp_path / "mixed"
    normalise([str(folder / "good.txt")], alone)
    summary = normalise([str(folder)], mixed)
    assert texts(mixed) == texts(alone)
    skipped = summary["skipped_files"]
    assert isinstance(skipped, list)
    assert any("photo.txt" in s["path"] for s in skipped)


def test_broken_jsonl_lines_are_reported_and_good_lines_kept(tmp_path: Path) -> None:
    src = tmp_path / "feed.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": "キエフ近郊で戦闘"}, ensure_ascii=False) + "\n"
        "{not json\n"
        + json.dumps({"id": "b", "body": "no text field"})
        + "\n"
        + json.dumps({"id": "c", "text": "ブリンカーン長官が到着"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    summary = normalise([str(src)], tmp_path / "out", "--id-field", "id")
    assert texts(tmp_path / "out") == ["キーウ近郊で戦闘", "ブリンケン長官が到着"]
    bad = summary["bad_records"]
    assert isinstance(bad, list)
    assert [b["line"] for b in bad] == [2, 3]
    assert summary["dropped"] == {"bad-record": 2}
    res = runner.invoke(
        app,
        [
            "normalise",
            str(src),
            "--glossary",
            MINI,
            "--out",
            str(tmp_path / "o2"),
            "--on-error",
            "fail",
        ],
    )
    assert res.exit_code != 0
    assert "feed.jsonl" in res.output and "2" in res.output
    assert not (tmp_path / "o2").exists()


def test_rename_provenance_in_change_records(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("キエフ近郊\n", encoding="utf-8")
    normalise([str(tmp_path / "a.txt")], tmp_path / "out")
    row = json.loads((tmp_path / "out" / "corpus.jsonl").read_text("utf-8"))
    assert row["changes"] == [
        {
            "start": 0,
            "end": 3,
            "from": "キエフ",
            "to": "キーウ",
            "entry": "kyiv",
            "renamed": "2022-03-31",
        }
    ]


def test_empty_file_is_fine(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    summary = normalise([str(folder)], tmp_path / "out")
    assert summary["documents"] == 1


def test_one_megabyte_single_line_document(tmp_path: Path) -> None:
    line = ("ブリンカーン長官はキエフを訪れ、ラブロフ外相と会談した。" * 20000)[:350_000]
    (tmp_path / "big.txt").write_text(line, encoding="utf-8")
    summary = normalise([str(tmp_path / "big.txt")], tmp_path / "out", "--dedup", "off")
    assert summary["segments_in"] > 20
    assert "ブリンカーン" not in (tmp_path / "out" / "corpus.txt").read_text("utf-8")


def test_same_relative_path_in_two_folders_gets_distinct_ids(tmp_path: Path) -> None:
    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.txt").write_text(f"{name}の記事\nキエフ近郊で{name}\n", "utf-8")
    normalise([str(tmp_path / "x"), str(tmp_path / "y")], tmp_path / "out")
    rows = [
        json.loads(x) for x in (tmp_path / "out" / "corpus.jsonl").read_text("utf-8").splitlines()
    ]
    assert sorted({r["doc"] for r in rows}) == ["a.txt", "a.txt~2"]


PARAS = [
    "トニー・ブリンカーン米国務長官は21日、スイスのジュネーブでラブロフ外相と約90分間会談した。",
    "両氏は協議を続けることで一致したが、ロシアが求める安全保障の確約については溝が埋まらなかった。",
    "米国は来週、ロシアの要求に対する回答を書面で示す方針で、両国は再び会談する可能性がある。",
]


def test_index_dedupes_a_later_batch_and_reports_whole_reposts(tmp_path: Path) -> None:
    index = tmp_path / "dedup.sqlite"
    b1, b2 = tmp_path / "b1", tmp_path / "b2"
    b1.mkdir()
    b2.mkdir()
    (b1 / "wire.txt").write_text("ジュネーブ会談\n" + "\n".join(PARAS) + "\n", "utf-8")
    # the blog re-posts the whole article, spelled as the glossary wants and in full width
    repost = [
        p.replace("トニー・ブリンカーン", "アントニー・ブリンケン").replace("90", "９０")
        for p in PARAS
    ]
    (b2 / "blog.txt").write_text("ジュネーブ会談\n" + "\n".join(repost) + "\n", "utf-8")
    normalise([str(b1)], tmp_path / "o1", "--index", str(index))
    summary = normalise([str(b2)], tmp_path / "o2", "--index", str(index))
    assert summary["duplicates"] == 4
    dups = [json.loads(x) for x in (tmp_path / "o2" / "duplicates.jsonl").read_text().splitlines()]
    segs = [d for d in dups if d["level"] == "segment"]
    assert {d["duplicate_of"]["doc"] for d in segs} == {"wire.txt"}
    docs = [d for d in dups if d["level"] == "document"]
    assert [d["duplicate_of"]["doc"] for d in docs] == ["wire.txt"]
    # re-running the first batch against the index is idempotent: nothing is its own copy
    again = normalise([str(b1)], tmp_path / "o3", "--index", str(index))
    assert again["duplicates"] == 0


def test_a_lone_empty_file_gives_empty_output(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    summary = normalise([str(tmp_path / "empty.txt")], tmp_path / "out")
    assert summary["documents"] == 0 and summary["segments_in"] == 0
    assert (tmp_path / "out" / "corpus.jsonl").read_text("utf-8") == ""


def test_jsonl_is_read_line_by_line_and_a_bad_byte_costs_one_line(tmp_path: Path) -> None:
    good = json.dumps({"text": "キエフ近郊"}, ensure_ascii=False).encode("utf-8")
    bad = b'{"text": "\xff\xfe broken"}'
    (tmp_path / "feed.jsonl").write_bytes(
        b"\xef\xbb\xbf" + good + b"\r\n" + bad + b"\n" + good + b"\n"
    )
    (tmp_path / "junk.jsonl").write_bytes(b"\x00\x01\x02" * 100)
    summary = normalise([str(tmp_path)], tmp_path / "out", "--dedup", "off")
    assert texts(tmp_path / "out") == ["キーウ近郊", "キーウ近郊"]
    assert [b["line"] for b in summary["bad_records"]] == [2]  # type: ignore[union-attr]
    skipped = summary["skipped_files"]
    assert isinstance(skipped, list) and any("junk.jsonl" in s["path"] for s in skipped)


def test_a_lone_surrogate_escape_in_jsonl_becomes_a_replacement_character(
    tmp_path: Path,
) -> None:
    # json.loads accepts "\ud800", but it is not text and cannot be written as UTF-8.
    (tmp_path / "feed.jsonl").write_text(
        '{"text": "ab\\ud800c キエフ", "id": "x\\udfff"}\n', encoding="utf-8"
    )
    summary = normalise([str(tmp_path)], tmp_path / "out", "--id-field", "id")
    assert texts(tmp_path / "out") == ["ab\ufffdc キーウ"]
    assert summary["accounting_ok"] is True
    rec = json.loads((tmp_path / "out" / "corpus.jsonl").read_text("utf-8"))
    assert rec["doc"] == "x\ufffd"


def test_a_file_name_that_is_not_utf8_gets_a_replacement_character(tmp_path: Path) -> None:
    # Linux hands Python such a name with lone surrogates, which UTF-8 output cannot hold.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(os.path.join(os.fsencode(corpus), b"caf\xe9.txt"), "wb") as f:
        f.write("キエフの記事\n".encode())
    summary = normalise([str(corpus)], tmp_path / "out")
    assert texts(tmp_path / "out") == ["キーウの記事"]
    assert summary["accounting_ok"] is True
    rec = json.loads((tmp_path / "out" / "corpus.jsonl").read_text("utf-8"))
    assert rec["doc"] == "caf\ufffd.txt"
