"""With several workers, a reader process reads, cleans and cuts the inputs while the
glossary loads (``pipeline.Feed``): the same bytes as one worker, its failures reported
as the run's, and never outliving the run."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from glossnorm import pipeline
from glossnorm.cli import app
from glossnorm.cli import normalise as cli_normalise

MINI = str(Path(__file__).parent / "fixtures" / "mini.gloss")
LINES = [
    "トニー・ブリンカーン長官とラブロフ外相がジュネーブで会談した。",
    "ルーマニアブルガリアからの撤収をナト軍は拒否した。",
    "ジョーバイデン大統領はキエフを訪れた。",
    "Source link",
    "ナトリウムの価格が上がった。",
]
OUTPUTS = ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json")
runner = CliRunner()


def readers() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name == "glossnorm-reader"]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """40 files of about 4 KB: more than a pipe holds, so a reader told to keep little
    ahead is still reading when the run stops. Every third file repeats an earlier one."""
    d = tmp_path / "in"
    d.mkdir()
    for i in range(40):
        k = i - i % 3
        body = "\n".join(f"{LINES[(k + j) % len(LINES)]}{k}-{j}" for j in range(50))
        (d / f"{i:02}.txt").write_text(body, encoding="utf-8")
    return d


def _normalise(*args: str) -> Result:
    return runner.invoke(app, ["normalise", *args, "--dedup", "near"])


def test_reads_ahead_while_the_glossary_loads(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_load: list[list[str]] = []
    real = cli_normalise.load_compiled

    def spy(*args: object) -> object:
        at_load.append(readers())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_normalise, "load_compiled", spy)
    res = _normalise(str(corpus), "-g", MINI, "--out", str(tmp_path / "o"), "--workers", "2")
    assert res.exit_code == 0, res.output
    assert at_load == [["glossnorm-reader"]]
    assert readers() == []


@pytest.mark.parametrize("ahead", [1, 5000])  # one batch at a time; a few
def test_same_bytes_as_one_worker_whatever_the_read_ahead(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    monkeypatch.setattr(pipeline, "READ_AHEAD_BYTES", ahead)
    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 3000)  # a batch of one or two files
    monkeypatch.setattr(pipeline, "LONG_DOC_CHARS", 4000)  # and some cut into parts
    for w in ("1", "2"):
        res = _normalise(str(corpus), "-g", MINI, "--out", str(tmp_path / w), "--workers", w)
        assert res.exit_code == 0, res.output
    for name in OUTPUTS:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


def test_a_reader_that_dies_fails_the_run(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_read_ahead", lambda *args: os._exit(3))
    out = tmp_path / "o"
    res = _normalise(str(corpus), "-g", MINI, "--out", str(out), "--workers", "2")
    assert res.exit_code == 1
    assert "the reading process stopped unexpectedly (exit code 3)" in res.output
    assert not out.exists() and readers() == []


def test_a_bug_in_the_reader_fails_the_run_with_its_traceback(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> object:
        raise ValueError("boom")

    monkeypatch.setattr(pipeline, "document_parts", broken)
    out = tmp_path / "o"
    res = _normalise(str(corpus), "-g", MINI, "--out", str(out), "--workers", "2")
    assert isinstance(res.exception, RuntimeError)
    assert "the reading process failed" in str(res.exception)
    assert "ValueError: boom" in str(res.exception)  # where, for the bug report
    assert not out.exists() and readers() == []


def test_an_input_error_met_reading_ahead_is_the_run_s(corpus: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    outputs = []
    for w in ("1", "2"):
        out = tmp_path / w
        res = _normalise(str(corpus), str(empty), "-g", MINI, "--out", str(out), "--workers", w)
        assert res.exit_code == 1 and not out.exists()
        outputs.append(res.output)
    assert outputs[0] == outputs[1] and "no readable .txt/.jsonl files in" in outputs[0]


def test_a_run_that_fails_while_the_reader_reads_stops_it(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The glossary is broken: the run fails while the reader, kept to one batch ahead, is
    # still reading. It is stopped, and nothing is written (the index neither).
    bad = tmp_path / "bad.gloss"
    bad.write_text("[a]\ntype: person\nja: アー\n", encoding="utf-8")
    monkeypatch.setattr(pipeline, "READ_AHEAD_BYTES", 1)
    monkeypatch.setattr(pipeline, "CHUNK_CHARS", 100)
    alive: list[bool] = []
    real = pipeline._Reader.close

    def spy(self: pipeline._Reader) -> None:
        alive.append(self._proc.is_alive())
        real(self)

    monkeypatch.setattr(pipeline._Reader, "close", spy)
    out, index = tmp_path / "o", tmp_path / "index.db"
    res = _normalise(str(corpus), "-g", str(bad), "--out", str(out), "--index", str(index))
    assert res.exit_code == 1 and "has no en" in res.output
    assert alive == [True] and readers() == []
    assert not out.exists() and not index.exists()


def test_stopped_at_once_the_reader_dies_by_the_signal(corpus: Path) -> None:
    # The reader is forked with the command's SIGTERM handler (cli._app), which raises to
    # unwind: stopped before it had its own, it ran that handler and printed a traceback.
    def unwind(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, unwind)
    try:
        for _ in range(5):
            feed = pipeline.Feed([str(corpus)], pipeline.Options(workers=2))
            feed.close()  # at once: the reader is still starting
            assert feed._reader is not None
            assert feed._reader._proc.exitcode == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, old)
