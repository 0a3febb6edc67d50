"""A long document is cut into parts of whole segments, shared out among the workers and
accounted and written part by part: the parts put back together must be exactly the
document's result, and the output the same as from the document taken whole."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
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
    DocResult,
    Options,
    document_parts,
    make_stage,
    part_result,
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


def part_results(doc: Document, part_chars: int) -> list[DocResult]:
    steps, notes, parts, _, _ = document_parts(doc.id, doc.text, part_chars, STAGE.rules)
    n = len(parts)
    return [part_result(steps, notes, process_segments(STAGE, doc.id, p), i, n, len(doc.text))
            for i, p in enumerate(parts)]


def cut_results(doc: Document, part_chars: int) -> list[DocResult]:
    """As a long document goes: cleaned and cut a piece at a time (document_cuts)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "CHUNK_CHARS", part_chars)
        got = [
            res
            for batch in pipeline._long_batches(doc, STAGE.rules)
            for res in pipeline._local_results(STAGE, batch)
        ]
    return [res[1] for res in got if isinstance(res, tuple)]


def merged(results: list[DocResult]) -> DocResult:
    """The parts put back together, as the writer does (no line from a part that has
    none, one blank line only between documents; the cleaning counts from whichever
    part has them)."""
    (cleaning,) = [r for r in results if r.clean_steps] or results[:1]
    return DocResult(
        tuple(sr for r in results for sr in r.segments),
        cleaning.clean_steps,
        cleaning.notes,
        b"".join(r.records for r in results),
        b"\n".join(r.lines for r in results if r.records),
        chars=sum(r.chars for r in results),
    )


@settings(max_examples=60, deadline=None)
@given(texts, st.sampled_from([1, 15, 60, 200]))
def test_parts_merge_to_the_document_result(text: str, part_chars: int) -> None:
    doc = Document(id="d.txt", text=text, source="d.txt")
    results = part_results(doc, part_chars)
    assert [(r.first, r.last) for r in results] == [
        (i == 0, i == len(results) - 1) for i in range(len(results))
    ]
    assert all(r.clean_steps == () and r.notes == () for r in results[1:])
    assert [r.chars for r in results] == [0] * (len(results) - 1) + [len(text)]
    assert merged(results) == process_document(STAGE, doc.id, doc.text)


@settings(max_examples=60, deadline=None)
@given(texts, st.sampled_from([1, 15, 60, 200]))
def test_a_long_document_cut_a_piece_at_a_time_is_the_document(
    text: str, part_chars: int
) -> None:
    doc = Document(id="d.txt", text=text, source="d.txt")
    results = cut_results(doc, part_chars)
    assert [(r.first, r.last) for r in results] == [
        (i == 0, i == len(results) - 1) for i in range(len(results))
    ]
    assert len([r for r in results if r.clean_steps]) == 1  # (with the last piece)
    assert sum(r.chars for r in results) == len(text)  # (each piece's with it: progress)
    assert merged(results) == process_document(STAGE, doc.id, doc.text)


def test_pieces_without_segments_neither_start_nor_end_a_long_document() -> None:
    # (the first and the last part carry the document's start and end: never empty ones)
    text = "\n" * 50 + "本文。\n" + "\n" * 50 + "Source link\n" + "\n" * 50
    doc = Document(id="d.txt", text=text, source="d.txt")
    results = cut_results(doc, 1)  # a piece every 2 characters
    assert len(results) == 2 and [r.segments[0][0] for r in results] == [0, 1]
    assert all(r.chars for r in results)  # progress moves as the pieces go, not at the end
    assert merged(results) == process_document(STAGE, doc.id, doc.text)
    blank = Document(id="b.txt", text="\n" * 20, source="b.txt")
    assert [(r.first, r.last, r.segments) for r in cut_results(blank, 1)] == [(True, True, ())]


def test_a_part_of_dropped_segments_only_adds_no_line() -> None:
    doc = Document(
        id="d.txt", text="会談した。\nSource link\nSource link\n拒否した。", source="d.txt"
    )
    results = part_results(doc, 1)  # one segment per part
    assert len(results) == 4 and [r.records == b"" for r in results] == [0, 1, 1, 0]
    assert merged(results).lines.decode().split("\n") == ["会談した。", "拒否した。"]
    assert merged(results) == process_document(STAGE, doc.id, doc.text)


def test_the_first_segment_after_boilerplate_heads_the_document_in_any_part() -> None:
    # The next run over the output, where the boilerplate is gone, sees that segment first:
    # headline-only rules (美) must apply now, also when the boilerplate filled whole parts.
    text = "Source link\n" * 6 + "美、ロシアとの協議を続ける方針だと述べた。\n次の段落。"
    doc = Document(id="d.txt", text=text, source="d.txt")
    for results in (part_results(doc, 1), part_results(doc, 25), [process_document(
            STAGE, doc.id, doc.text)]):  # fmt: skip
        assert merged(results).lines.decode().startswith("米国(United States)、ロシア")


def test_one_long_file_goes_in_parts_and_gives_the_bytes_of_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    body = "\n".join(f"{line}{i}" for i in range(300) for line in LINES[:4])
    (src / "one.txt").write_text(body + "\n" + body, encoding="utf-8")  # second half: duplicates
    (src / "short.txt").write_text(LINES[0], encoding="utf-8")
    (src / "two.txt").write_text(body[:3000], encoding="utf-8")  # long, and all duplicates
    handed_on: list[tuple[bool, bool]] = []  # (first, last) of each result, in order
    real = pipeline.part_result

    def spy(*args: object) -> DocResult:
        res = real(*args)  # type: ignore[arg-type]
        handed_on.append((res.first, res.last))
        return res

    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 500)
    monkeypatch.setattr(pipeline, "part_result", spy)
    runner = CliRunner()
    parts_per_doc: list[list[int]] = []
    for long_chars, w in ((10**9, "1"), (2000, "1"), (2000, "2")):  # whole; parts; shared out
        monkeypatch.setattr(pipeline, "LONG_DOC_CHARS", long_chars)
        out = tmp_path / f"{w}-{long_chars}"
        args = ["normalise", str(src), "--glossary", MINI, "--out", str(out)]
        handed_on.clear()
        res = runner.invoke(app, [*args, "--workers", w, "--dedup", "near"])
        assert res.exit_code == 0, res.output
        docs: list[int] = []  # parts of each document, read off the results' flags
        is_open = False
        for first, last in handed_on:
            assert first != is_open  # a first part exactly where no document is open
            if first:
                docs.append(0)
            docs[-1] += 1
            is_open = not last
        assert not is_open
        parts_per_doc.append(docs)
    # the long documents went part by part (one.txt, two.txt), the same way with 2 workers
    whole_run, one_worker, two_workers = parts_per_doc
    assert whole_run == [1, 1, 1] and one_worker == two_workers
    assert one_worker[0] > 10 and one_worker[1] == 1 and one_worker[2] > 1
    summary = json.loads((tmp_path / "2-2000" / "summary.json").read_text("utf-8"))
    assert summary["documents"] == 3 and summary["document_duplicates"] == 2  # short, two
    assert summary["duplicates"] >= 600 and summary["changes"] > 0  # the second half, at least
    whole = tmp_path / f"1-{10**9}"
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        for run in ("1-2000", "2-2000"):
            assert (whole / name).read_bytes() == (tmp_path / run / name).read_bytes(), name


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX niceness")
def test_workers_run_nicer_than_the_main_process() -> None:
    """The main process (accounting, near dedup, writing) is the serial part of a run:
    workers yield a core to it, and the main process itself keeps its priority."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    mine = os.nice(0)
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=pipeline._init_worker,
        initargs=(None, Options()),
    ) as pool:
        theirs = pool.submit(os.nice, 0).result()
    assert theirs == min(mine + pipeline.WORKER_NICE, 19)
    assert os.nice(0) == mine


def test_a_long_file_read_a_piece_at_a_time_gives_the_bytes_of_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text file over STREAM_BYTES is never held whole (ingest.text_pieces): its pieces
    go through cleaning and cutting as a long document's do, to the same output."""
    from glossnorm import ingest

    src = tmp_path / "in"
    src.mkdir()
    body = "\n".join(f"{line}{i}" for i in range(200) for line in LINES[:4])
    (src / "one.txt").write_text(" " + body + "\n" + body + "\r\n", encoding="utf-8")
    (src / "two.txt.gz").write_bytes(gzip.compress((body[:5000] + "(「\n").encode(), mtime=0))
    (src / "sjis.txt").write_bytes(body[:3000].encode("cp932"))
    (src / "latin.txt").write_bytes("Café crème.\n".encode("latin-1") * 30)  # (read whole)
    (src / "short.txt").write_text(LINES[0][:50], encoding="utf-8")  # (under 200 bytes)
    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 700)
    monkeypatch.setattr(ingest, "READ_BYTES", 333)
    streamed: list[str] = []
    real = ingest.text_pieces

    def spy(doc: Document, piece_chars: int) -> Iterator[str]:
        streamed.append(doc.id)
        return real(doc, piece_chars)

    monkeypatch.setattr(pipeline, "text_pieces", spy)
    runner = CliRunner()
    for stream_bytes, w in ((10**9, "1"), (200, "1"), (200, "2")):
        monkeypatch.setattr(pipeline, "STREAM_BYTES", stream_bytes)
        out = tmp_path / f"{w}-{stream_bytes}"
        args = ["normalise", str(src), "--glossary", MINI, "--out", str(out), "--workers", w]
        streamed.clear()
        res = runner.invoke(app, [*args, "--dedup", "near"])
        assert res.exit_code == 0, res.output
        if w == "1":  # (with 2 workers a reader process reads)
            long_ones = ["one.txt", "sjis.txt", "two.txt.gz"]
            assert streamed == (long_ones if stream_bytes == 200 else [])
    whole = tmp_path / f"1-{10**9}"
    summary = json.loads((whole / "summary.json").read_text("utf-8"))
    assert summary["documents"] == 5 and summary["duplicates"] >= 800
    assert summary["encodings"]["cp932"] == 1 and summary["encodings"]["utf-8"] == 3
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        for run in ("1-200", "2-200"):
            assert (whole / name).read_bytes() == (tmp_path / run / name).read_bytes(), name
