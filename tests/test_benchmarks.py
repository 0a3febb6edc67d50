"""The acceptance benchmark runs end to end on a small corpus (no timing is asserted: the
numbers are for people; this checks that the script a tester runs on a hidden corpus
works, reads what glossnorm reads, and compares the outputs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_acceptance  # noqa: E402
from glossnorm.glossary import default_glossary_path  # noqa: E402


def test_corpus_text_reads_what_glossnorm_reads(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        '{"id": "x", "text": "ブリンカーン国務長官"}\n{broken\n{"id": "y", "text": "キエフ"}\n',
        encoding="utf-8",
    )
    (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 4)
    text, docs, problems = bench_acceptance.corpus_text([str(tmp_path)])
    assert (docs, problems) == (2, 2)
    assert text == "ブリンカーン国務長官\nキエフ\n"  # the text fields, not the JSON


def test_acceptance_runs_on_a_small_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLOSSNORM_CACHE_DIR", str(tmp_path))  # (the benchmark sets its own)
    out = tmp_path / "acceptance.json"
    code = bench_acceptance.main([
        str(ROOT / "corpus" / "news"),
        "--glossary", str(default_glossary_path()),
        "--repeat", "1",
        "--skip-near",
        "--json", str(out),
    ])
    assert code == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["identical"] is True  # 1 worker, 2 workers and the command
    assert got["documents"] == len(list((ROOT / "corpus" / "news").glob("*.txt")))
    assert set(got["rows"]) == {
        bench_acceptance.CLI, bench_acceptance.FIRST, bench_acceptance.W1, bench_acceptance.W2,
        bench_acceptance.SUDACHI, bench_acceptance.TOKENISE, bench_acceptance.REGEX,
    }
    assert all(r["seconds"] > 0 for r in got["rows"].values())
    printed = capsys.readouterr().out
    assert "- the command is" in printed and "Sudachi with lookup (>= 8x: " in printed
    assert "- its first run with this glossary (empty cache" in printed
