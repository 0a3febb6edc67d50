"""A document longer than a chunk is cut into parts of whole segments for the workers:
the parts put back together must be exactly the document's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from glossnorm import pipeline
from glossnorm.cli import app
from glossnorm.dedup import DedupConfig
from glossnorm.glossary import load_glossary
from glossnorm.model import Document
from glossnorm.pipeline import (
    Options,
    document_parts,
    make_stage,
    merge_parts,
    process_document,
    process_segments,
)

MINI = str(Path(__file__).parent / "fixtures" / "mini.gloss")
STAGE = make_stage(load_glossary(MINI), Options(dedup=DedupConfig(mode="near")))

LINES = [
    "トニー・ブリンカーン長官とラブロフ外相がジュネーブで会談した。",
    "ルーマニアブルガリアからの撤収をナト軍は拒否した。",
    "ジョーバイデン大統領はキエフを訪れた。",
    "Source link",  # boilerplate: dropped
    "https://example.com/article/1",  # boilerplate: dropped
    "ロシア「美、要求を無視」",
    "",
    "  ",
    "ナトリウムの価格",
]
texts = st.lists(st.sampled_from(LINES) | st.text(max_size=12), max_size=25).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(texts, st.sampled_from([1, 15, 60, 200]))
def test_parts_merge_to_the_document_result(text: str, part_chars: int) -> None:
    doc = Document(id="d.txt", text=text, source="d.txt")
    steps, notes, parts = document_parts(doc, part_chars)
    merged = merge_parts(steps, notes, [process_segments(STAGE, doc.id, p) for p in parts])
    assert merged == process_document(STAGE, doc)


def test_a_part_of_dropped_segments_only_adds_no_line() -> None:
    doc = Document(
        id="d.txt", text="会談した。\nSource link\nSource link\n拒否した。", source="d.txt"
    )
    steps, notes, parts = document_parts(doc, 1)  # one segment per part
    assert len(parts) == 4
    merged = merge_parts(steps, notes, [process_segments(STAGE, doc.id, p) for p in parts])
    assert merged.lines.decode().split("\n") == ["会談した。", "拒否した。"]
    assert merged == process_document(STAGE, doc)


def test_one_long_file_is_shared_out_and_gives_identical_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    body = "\n".join(f"{line}{i}" for i in range(300) for line in LINES[:4])
    (src / "one.txt").write_text(body + "\n" + body, encoding="utf-8")  # second half: duplicates
    (src / "short.txt").write_text(LINES[0], encoding="utf-8")
    merged: list[int] = []  # parts per document merged in this (the main) process
    real = pipeline.merge_parts

    def spy(steps: object, notes: object, parts: list[pipeline.Part]) -> object:
        if len(parts) > 1:  # one part: a whole document (the 1-worker run does those here)
            merged.append(len(parts))
        return real(steps, notes, parts)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 500)
    monkeypatch.setattr(pipeline, "LONG_DOC_CHARS", 2000)
    monkeypatch.setattr(pipeline, "merge_parts", spy)
    runner = CliRunner()
    for w in ("1", "2"):
        args = ["normalise", str(src), "--glossary", MINI, "--out", str(tmp_path / w)]
        res = runner.invoke(app, [*args, "--workers", w, "--dedup", "near"])
        assert res.exit_code == 0, res.output
    assert len(merged) == 1 and merged[0] > 10  # the long document went out in parts, once
    summary = json.loads((tmp_path / "2" / "summary.json").read_text("utf-8"))
    assert summary["duplicates"] >= 600 and summary["changes"] > 0  # the second half, at least
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
