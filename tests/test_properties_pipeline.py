"""Property tests of the whole `normalise` run on generated, partly hostile corpora.

Whatever the input, the run succeeds, every segment is accounted for, every record's
spans are consistent with its text, undoing the changes gives the source back, and the
output normalised again changes nothing.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from glossnorm.cli import app
from glossnorm.normalise import Edit, apply_edits

MINI = str(Path(__file__).parent / "fixtures" / "mini.gloss")
runner = CliRunner()

PIECES = [
    "ブリンカーン長官", "ジョーバイデン", "ラ・ナト", "米・ラ", "奈藤・ロシア", "キエフ", "Kiev",
    "ルーマニアブルガリア", "オアナ・ルンゲスクナート", "NATO・NATO", "北大西洋条約機構NATO)",
    "ナトリウム", "美術館", "Source link", "https://t.co/abc", "#反ロシア", "。", "、", " ",
    "\u200b", "\ufeff", "\x00", "\x07", "\r\n", "\n", "\n\n", "ｶﾀｶﾅ", "ＡＢＣ１２３", "①",
    "〜", "(", ")", "「", "」", "<script>alert(1)</script>", "null", "𠮷野家", "ﾞ",
]
docs = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=30).map("".join)


def _run(args: list[str]) -> None:
    res = runner.invoke(app, ["normalise", *args, "--glossary", MINI, "--workers", "1"])
    assert res.exit_code == 0, res.output


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(docs, min_size=1, max_size=4), st.sampled_from(["exact", "near", "off"]))
def test_any_corpus_is_accounted_for_and_stable(
    tmp_path: Path, texts: list[str], dedup: str
) -> None:
    run = Path(tempfile.mkdtemp(dir=tmp_path))
    src = run / "in"
    src.mkdir()
    for i, t in enumerate(texts):
        (src / f"d{i}.txt").write_text(t, encoding="utf-8", errors="surrogatepass")
    # one JSONL file with a good line, a broken line and a line without text
    (src / "feed.jsonl").write_text(
        json.dumps({"text": texts[0]}) + "\n{oops\n" + json.dumps({"x": 1}) + "\n",
        encoding="utf-8",
        errors="surrogatepass",
    )
    out = run / "out"
    _run([str(src), "--out", str(out), "--dedup", dedup])
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    dropped = sum(summary["dropped"].values())
    assert summary["segments_in"] == summary["segments_kept"] + summary["duplicates"] + dropped
    assert summary["dropped"].get("bad-record") == 2
    lines = (out / "corpus.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == summary["segments_kept"]
    for line in lines:
        rec = json.loads(line)
        text = rec["text"]
        for c in rec["changes"]:
            assert text[c["start"] : c["end"]] == c["to"]
        for g in rec["glosses"]:
            assert 0 <= g["start"] < g["end"] <= len(text)
        undo = [Edit(c["start"], c["end"], c["from"]) for c in rec["changes"]]
        assert apply_edits(text, undo)[0] == rec["source_text"]
    again = run / "again"
    _run([str(out / "corpus.txt"), "--out", str(again), "--dedup", "off", "--keep-boilerplate"])
    assert json.loads((again / "summary.json").read_text("utf-8"))["changes"] == 0
