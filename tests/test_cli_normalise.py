"""End-to-end tests of `glossnorm normalise` through the CLI."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from glossnorm.cli import app

HERE = Path(__file__).parent
MINI = str(HERE / "fixtures" / "mini.gloss")
REPO = HERE.parent
runner = CliRunner()

ARTICLE = (
    "ロシア「美、要求を無視」\n"
    "トニー・ブリンカーン長官とラブロフ外相がジュネーブで会談した。\n"
    "ルーマニアブルガリアからの撤収をナト軍は拒否した。\n"
    "Source link\n"
)
REPOST = (
    "別のブログ\n"
    "トニー・ブリンケン長官とラブロフ外相がジュネーブで会談した。\n"
    "https://example.com/article/1\n"
)


def _run(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args)
    return res.exit_code, res.output


def _read(out: Path) -> tuple[list[dict[str, object]], list[dict[str, object]], dict[str, object]]:
    rows = [json.loads(x) for x in (out / "corpus.jsonl").read_text("utf-8").splitlines()]
    dups = [json.loads(x) for x in (out / "duplicates.jsonl").read_text("utf-8").splitlines()]
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    return rows, dups, summary


def _balanced(s: dict[str, object]) -> bool:
    dropped = s["dropped"]
    assert isinstance(dropped, dict)
    return s["segments_in"] == s["segments_kept"] + s["duplicates"] + sum(dropped.values())  # type: ignore[operator]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (d / "b.txt").write_text(REPOST, encoding="utf-8")
    return d


def test_normalise_end_to_end(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = _run(
        ["normalise", str(corpus), "--glossary", MINI, "--out", str(out), "--workers", "1"]
    )
    assert code == 0, output
    rows, dups, s = _read(out)
    texts = [r["text"] for r in rows]
    assert texts[0] == "ロシア「米国、要求を無視」"
    assert "アントニー・ブリンケン長官とラブロフ外相がジュネーブで会談した。" in texts
    assert "ルーマニア・ブルガリアからの撤収をNATO軍は拒否した。" in texts
    # the re-post differs only by spelling: a duplicate after normalising
    assert any(d.get("doc") == "b.txt" and d.get("kind") == "exact" for d in dups)
    assert _balanced(s)
    assert s["changes_by_entry"]["blinken-antony"] == 1  # the re-post is a duplicate  # type: ignore[index]
    assert sum(s["dropped"].values()) >= 2  # type: ignore[union-attr]
    for r in rows:
        for c in r["changes"]:  # type: ignore[union-attr]
            assert r["text"][c["start"] : c["end"]] == c["to"]  # type: ignore[index]
        for g in r["glosses"]:  # type: ignore[union-attr]
            assert g["en"]
    txt = (out / "corpus.txt").read_text("utf-8")
    assert "アントニー・ブリンケン(Antony Blinken)" in txt


def test_output_is_synced_to_disk_as_it_is_written(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glossnorm import write

    synced: list[int] = []  # bytes of corpus.jsonl on disk at each sync
    monkeypatch.setattr(write, "_datasync", lambda fd: synced.append(os.fstat(fd).st_size))
    monkeypatch.setattr(write, "SYNC_BYTES", 1)  # after every document
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out)])
    assert code == 0, output
    assert len(synced) >= 2  # both files, during the run, before the commit's fsync
    assert synced[0] > 0  # flushed first: the sync covers what was written
    assert (out / "corpus.jsonl").stat().st_size >= synced[0]


def test_a_failing_sync_during_the_run_fails_it_and_leaves_no_output(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The syncs run in a thread: its error must still end the run, before the commit.
    from glossnorm import write

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(write, "_datasync", broken)
    monkeypatch.setattr(write, "SYNC_BYTES", 1)
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out)])
    assert code != 0
    assert "Input/output error" in output, output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no temp left


def test_a_full_disk_is_one_message_and_leaves_no_output(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glossnorm import write

    def full(self: write.OutputWriter, events: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write.OutputWriter, "_document", full)
    out = tmp_path / "out"
    before = set(multiprocessing.active_children())
    res = runner.invoke(
        app, ["normalise", str(corpus), "--glossary", MINI, "--out", str(out), "--workers", "2"]
    )
    assert res.exit_code == 1 and not isinstance(res.exception, OSError)
    assert f"{out}: cannot write the output (No space left on device)" in res.output
    assert sorted(tmp_path.iterdir()) == [corpus]  # neither output nor its temporary folder
    # The workers are stopped with the run, not when its generators are collected (here
    # the runner holds the traceback, and with it the generators).
    assert set(multiprocessing.active_children()) <= before


def test_output_normalised_again_changes_nothing(corpus: Path, tmp_path: Path) -> None:
    out, again = tmp_path / "o1", tmp_path / "o2"
    assert _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out)])[0] == 0
    code, output = _run(
        [
            "normalise",
            str(out / "corpus.txt"),
            "--glossary",
            MINI,
            "--out",
            str(again),
            "--dedup",
            "off",
            "--keep-boilerplate",
        ]
    )
    assert code == 0, output
    _, _, s = _read(again)
    assert s["changes"] == 0
    # One document now (blank lines between documents are not segments), same lines.
    lines = (out / "corpus.txt").read_text("utf-8").split()
    assert (again / "corpus.txt").read_text("utf-8").split() == lines


def test_inline_glossed_output_normalised_again_is_the_same_text(tmp_path: Path) -> None:
    # 米 and トラス match only next to 大統領 / 外相, which their own glosses now stand
    # between: the glosses "(United States)" and "(Liz Truss)" must not be glossed in turn.
    src = tmp_path / "a.txt"
    src.write_text(
        "ジョー・バイデン米大統領とトラス英外相が会談した。\n米・ロ外相会談が開かれた。\n", "utf-8"
    )
    out, again = tmp_path / "o1", tmp_path / "o2"
    assert _run(["normalise", str(src), "--out", str(out)])[0] == 0
    first = (out / "corpus.txt").read_text("utf-8")
    assert "米(United States)大統領" in first and "トラス(Liz Truss)" in first
    code, output = _run(["normalise", str(out / "corpus.txt"), "--out", str(again)])
    assert code == 0, output
    assert (again / "corpus.txt").read_text("utf-8") == first


@pytest.mark.parametrize(
    "text",
    [
        # 66 characters, 59 once rewritten: a headline on the next run, so on this one
        "見出し\n美、ドニエプロペトロフスクとソヴィエト連邦時代の記録について近く協議する方針を"
        "示したと地元の有力紙が詳しく報じた内容からわかった模様\n",
        # the first line is boilerplate: the sentence after it heads the document
        "https://example.com/news\n美、ロシアとの協議を続ける方針。\n",
    ],
)
def test_headlines_are_judged_as_the_next_run_will_see_them(tmp_path: Path, text: str) -> None:
    src = tmp_path / "a.txt"
    src.write_text(text, "utf-8")
    out, again = tmp_path / "o1", tmp_path / "o2"
    assert _run(["normalise", str(src), "--out", str(out), "--gloss", "none"])[0] == 0
    first = (out / "corpus.txt").read_text("utf-8")
    assert "米国、" in first and "美" not in first  # the headline-only variant applied
    again_args = ["normalise", str(out / "corpus.txt"), "--out", str(again), "--gloss", "none"]
    assert _run(again_args)[0] == 0
    assert (again / "corpus.txt").read_text("utf-8") == first


def test_workers_give_identical_bytes(corpus: Path, tmp_path: Path) -> None:
    for i in range(12):  # enough documents to spread over workers
        (corpus / f"extra{i:02}.txt").write_text(ARTICLE.replace("会談", f"会談{i}"), "utf-8")
    outs = []
    for w in ("1", "2"):
        out = tmp_path / f"w{w}"
        assert (
            _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out), "--workers", w])[
                0
            ]
            == 0
        )
        outs.append(out)
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="the counting wrappers reach the workers by fork",
)
@pytest.mark.parametrize("token_rules", [True, False])
def test_automaton_and_sudachi_load_once_per_process(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_rules: bool
) -> None:
    # Every document's headline 美 needs a Sudachi token check, in whichever worker gets
    # it; without the glossary's token rules, nothing needs Sudachi.
    import os
    from collections import Counter

    import sudachipy

    from glossnorm import compiled, match

    for i in range(20):
        (corpus / f"extra{i:02}.txt").write_text(ARTICLE.replace("会談", f"会談{i}"), "utf-8")
    log = tmp_path / "loads.log"

    def note(what: str) -> None:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{what} {os.getpid()}\n")

    real_dictionary, real_build = sudachipy.Dictionary, compiled._automaton

    def dictionary(*args: object, **kwargs: object) -> object:
        note("sudachi")
        return real_dictionary(*args, **kwargs)

    def build(forms: list[str]) -> object:
        note("automaton")
        return real_build(forms)

    monkeypatch.setattr(sudachipy, "Dictionary", dictionary)
    monkeypatch.setattr(compiled, "_automaton", build)
    match._sudachi.cache_clear()  # a load by an earlier test would be inherited
    glossary = Path(MINI)
    if not token_rules:
        glossary = tmp_path / "no-token.gloss"
        glossary.write_text(Path(MINI).read_text("utf-8").replace("; token}", "}"), "utf-8")
    out = tmp_path / "out"
    args = ["normalise", str(corpus), "--glossary", str(glossary), "--out", str(out),
            "--workers", "2"]  # fmt: skip
    assert _run(args)[0] == 0
    loads = Counter(log.read_text("utf-8").split("\n")[:-1])
    assert all(n == 1 for n in loads.values()), loads  # never twice in one process
    kinds = Counter(line.split()[0] for line in loads)
    # The automaton and Sudachi are loaded once, here, before the workers fork.
    assert kinds == Counter(automaton=1, sudachi=int(token_rules)), loads
    assert f"automaton {os.getpid()}" in loads
    assert (f"sudachi {os.getpid()}" in loads) is token_rules
    assert _read(out)[2]["documents"] == len(list(corpus.glob("*.txt")))


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="the failing wrapper reaches the workers by fork",
)
def test_a_sudachi_that_fails_to_load_fails_only_a_run_that_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loaded before the workers fork (the glossary has token rules), it is not needed by
    # this text, and its failure must not stop the run: 1 or 2 workers alike.
    import sudachipy

    from glossnorm import match

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("no dictionary")

    monkeypatch.setattr(sudachipy, "Dictionary", broken)
    match._sudachi.cache_clear()
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("キエフでブリンケン氏が会見した。\n", "utf-8")
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        args = ["normalise", str(src), "--glossary", MINI, "--out", str(out),
                "--workers", workers]  # fmt: skip
        code, output = _run(args)
        assert code == 0, output
        assert _read(out)[2]["changes"] == 1  # キエフ -> キーウ, as without the failure
    match._sudachi.cache_clear()


def test_spawned_workers_give_identical_bytes(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where fork does not exist (Windows), each worker is spawned and builds its own stage
    # from the pickled glossary: that path must write the same bytes too.
    import multiprocessing

    for i in range(6):
        (corpus / f"extra{i:02}.txt").write_text(ARTICLE.replace("会談", f"会談{i}"), "utf-8")
    base = ["normalise", str(corpus), "--glossary", MINI, "--dedup", "near"]
    assert _run([*base, "--out", str(tmp_path / "w1"), "--workers", "1"])[0] == 0
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert _run([*base, "--out", str(tmp_path / "w2"), "--workers", "2"])[0] == 0
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()


def test_the_glossary_cache_changes_no_byte(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cold (compiles and writes the cache), warm (reads it back) with 1 and 2 workers,
    # spawned workers given the cached glossary, and --no-cache: the same bytes.
    import multiprocessing

    from glossnorm import compiled

    for i in range(6):
        (corpus / f"extra{i:02}.txt").write_text(ARTICLE.replace("会談", f"会談{i}"), "utf-8")
    monkeypatch.setattr(compiled, "CACHE_MIN_FORMS", 0)  # the mini glossary is small
    cache = tmp_path / "cache"
    base = ["normalise", str(corpus), "--glossary", MINI, "--dedup", "near"]
    runs = {
        "cold": ["--cache-dir", str(cache), "--workers", "1"],
        "warm": ["--cache-dir", str(cache), "--workers", "1"],
        "warm2": ["--cache-dir", str(cache), "--workers", "2"],
        "none": ["--no-cache", "--cache-dir", str(tmp_path / "unused"), "--workers", "1"],
    }
    real_compile = compiled.compile_glossary

    def no_compile(*args: object) -> object:
        raise AssertionError("a warm run compiled the glossary")

    for name, extra in runs.items():
        # The warm runs must read the cache: compiling is refused there.
        monkeypatch.setattr(compiled, "compile_glossary", no_compile if "warm" in name
                            else real_compile)  # fmt: skip
        assert _run([*base, *extra, "--out", str(tmp_path / name)])[0] == 0
        assert len(list(cache.glob("*" + compiled.CACHE_SUFFIX))) == 1
    monkeypatch.setattr(compiled, "compile_glossary", no_compile)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    spawn = ["--cache-dir", str(cache), "--workers", "2", "--out", str(tmp_path / "spawn")]
    assert _run([*base, *spawn])[0] == 0
    assert not (tmp_path / "unused").exists()
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        want = (tmp_path / "cold" / name).read_bytes()
        for run in ("warm", "warm2", "none", "spawn"):
            assert (tmp_path / run / name).read_bytes() == want, (run, name)


def test_an_unwritable_glossary_cache_warns_and_changes_nothing(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glossnorm import compiled

    monkeypatch.setattr(compiled, "CACHE_MIN_FORMS", 0)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    base = ["normalise", str(corpus), "--glossary", MINI, "--workers", "1"]
    code, output = _run([*base, "--cache-dir", str(blocker), "--out", str(tmp_path / "a")])
    assert code == 0
    assert f"warning: {blocker}: cannot write the compiled glossary" in output
    assert "--no-cache" in output
    assert _run([*base, "--no-cache", "--out", str(tmp_path / "b")])[0] == 0
    for name in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_refuses_non_empty_out_without_force(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    code, output = _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out)])
    assert code != 0
    assert "--force" in output
    assert (out / "keep.txt").exists()
    assert (
        _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out), "--force"])[0] == 0
    )
    assert not (out / "keep.txt").exists()


def test_invalid_glossary_is_refused_with_file_and_line(corpus: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gloss"
    bad.write_text(
        "[a]\ntype: person\nja: アー\nen: A\nja-var: ブリンカーン\n"
        "[b]\ntype: person\nja: ビー\nen: B\nja-var: ブリンカーン\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "--glossary", str(bad), "--out", str(out)])
    assert code != 0
    assert f"{bad}:10" in output and "ブリンカーン" in output
    assert not out.exists()


def test_stdin_input(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["normalise", "-", "--glossary", MINI, "--out", str(out)], input="キエフ近郊\n"
    )
    assert res.exit_code == 0, res.output
    rows, _, _ = _read(out)
    assert rows[0]["text"] == "キーウ近郊"


def test_stdin_jsonl_with_two_workers_matches_the_file(tmp_path: Path) -> None:
    # Two workers read stdin in a reader process of their own (a forked process has its
    # stdin closed): the stream must reach it whole, and give what the same file gives.
    lines = [{"id": f"d{i}", "text": f"キエフ近郊の第{i}報。\nブリンカーン氏が来訪した{i}日目。"}
             for i in range(40)]
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    (tmp_path / "feed.jsonl").write_bytes(data)
    outs = {}
    for name, inp in (("pipe", "-"), ("file", str(tmp_path / "feed.jsonl"))):
        outs[name] = tmp_path / name
        proc = subprocess.run(
            [sys.executable, "-m", "glossnorm", "normalise", inp, "--glossary", MINI,
             "--id-field", "id", "--workers", "2", "--out", str(outs[name])],
            input=data if inp == "-" else None, capture_output=True, check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode()
    for f in ("corpus.jsonl", "corpus.txt", "duplicates.jsonl"):
        assert (outs["pipe"] / f).read_bytes() == (outs["file"] / f).read_bytes(), f
    rows, _, summary = _read(outs["pipe"])
    assert summary["documents"] == 40 and rows[0]["text"] == "キーウ近郊の第0報。"


def test_missing_input_is_one_line_error(tmp_path: Path) -> None:
    code, output = _run(
        ["normalise", str(tmp_path / "nope"), "--glossary", MINI, "--out", str(tmp_path / "o")]
    )
    assert code != 0
    assert "Traceback" not in output
    assert "nope" in output


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "glossnorm",
            "normalise",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(("dedup", "loaded"), [("exact", False), ("off", False), ("near", True)])
def test_numpy_is_imported_for_near_dedup_only(tmp_path: Path, dedup: str, loaded: bool) -> None:
    # numpy is a quarter of the command's start-up: the other modes must not pay for it.
    (tmp_path / "a.txt").write_text(ARTICLE + REPOST, encoding="utf-8")
    script = (
        "import sys; from glossnorm.cli import main; sys.argv[1:] = sys.argv[2:]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('numpy._core' in sys.modules)"
    )
    args = [str(tmp_path / "a.txt"), "--glossary", MINI, "--out", str(tmp_path / "o")]
    proc = subprocess.run(
        [sys.executable, "-c", script, "-", "normalise", *args, "--dedup", dedup],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip().splitlines()[-1] == str(loaded)


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8")
def test_skipped_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    with open(os.path.join(os.fsencode(corpus), b"bin\xffary.txt"), "wb") as fh:
        fh.write(b"\x00\x01\x02")
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(out),
                         "--index", str(tmp_path / "i.sqlite")])
    assert code == 0, output
    (skipped,) = _read(out)[2]["skipped_files"]  # type: ignore[misc]
    assert skipped["path"].endswith("bin\ufffdary.txt")  # type: ignore[index]


@pytest.mark.parametrize("out", [".", "sub/..", "/"])
def test_out_must_name_a_folder_of_its_own(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    code, output = _run(["normalise", str(corpus), "--glossary", MINI, "--out", out, "--force"])
    assert code != 0 and "Traceback" not in output
    assert "--out must name a folder of its own" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "sub"]  # nothing written


@pytest.mark.parametrize("encoding", ["bogus", "hex", "rot13"])  # (codecs, not text)
def test_unknown_encoding_is_refused_up_front(
    corpus: Path, tmp_path: Path, encoding: str
) -> None:
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "--encoding", encoding, "--out", str(out)])
    assert code != 0 and f"unknown encoding '{encoding}'" in output
    assert "Traceback" not in output and not out.exists()


def test_every_command_has_help() -> None:
    import typer.main

    cmd = typer.main.get_command(app)

    def walk(group: object, prefix: list[str]) -> int:
        seen = 0
        for name, sub in getattr(group, "commands", {}).items():
            assert sub.help, f"{' '.join([*prefix, name])} has no help text"
            res = runner.invoke(app, [*prefix, name, "--help"])
            assert res.exit_code == 0, res.output
            seen += 1 + walk(sub, [*prefix, name])
        return seen

    assert walk(cmd, []) >= 3


def test_default_workers_follow_the_affinity_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job pinned to one CPU (taskset, a cpuset) gets one worker, not one per host CPU."""
    from glossnorm import pipeline

    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(pipeline.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert pipeline.default_workers() == 1
    monkeypatch.setattr(pipeline.os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert pipeline.default_workers() == 3
    monkeypatch.delattr(pipeline.os, "sched_getaffinity", raising=False)  # macOS, Windows
    assert pipeline.default_workers() == 8


def test_workers_default_to_default_workers(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glossnorm.cli import normalise as cli_normalise

    calls: list[int] = []
    seen: list[int] = []
    real = cli_normalise.normalise_corpus

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(args[2].workers)  # type: ignore[attr-defined]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_normalise, "default_workers", lambda: calls.append(1) or 1)
    monkeypatch.setattr(cli_normalise, "normalise_corpus", spy)
    code, _ = _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(tmp_path / "o")])
    assert code == 0 and calls == [1] and seen == [1]
    code, _ = _run(["normalise", str(corpus), "--glossary", MINI, "--out", str(tmp_path / "p"),
                    "--workers", "2"])
    assert code == 0 and calls == [1] and seen == [1, 2]


def test_glossary_short_option_as_in_the_other_commands(corpus: Path, tmp_path: Path) -> None:
    code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(tmp_path / "o")])
    assert code == 0, output


def test_an_index_inside_the_output_folder_is_refused(corpus: Path, tmp_path: Path) -> None:
    # --out is replaced as a whole at the end: the index committed into it was lost.
    out = tmp_path / "out"
    code, output = _run(
        ["normalise", str(corpus), "-g", MINI, "--out", str(out), "--index", str(out / "i.db")]
    )
    assert code == 1 and "--index must be outside --out" in output
    assert not out.exists()


def test_out_equal_to_an_input_is_refused_before_anything_is_deleted(
    corpus: Path, tmp_path: Path
) -> None:
    before = sorted(p.name for p in corpus.iterdir())
    for out in (corpus, tmp_path):  # the input itself, or a folder above it
        code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(out), "--force"])
        assert code == 1 and "--out would replace the input" in output
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_inputs_are_resolved_as_realpath_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_inputs_apart resolves each folder once; links, "..", loops and missing paths
    # must still come out as os.path.realpath has them.
    from glossnorm.write import _real_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("x", encoding="utf-8")
    os.symlink(tmp_path / "a" / "b", tmp_path / "abs")  # absolute link to a folder
    os.symlink("a/b/f.txt", tmp_path / "rel.txt")  # relative link to a file
    os.symlink("rel.txt", tmp_path / "chain.txt")  # a link to a link
    os.symlink("b/../b/f.txt", tmp_path / "a" / "dots.txt")  # .. inside a link
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    os.symlink("nowhere", tmp_path / "dangling")
    os.symlink("a/b/..", tmp_path / "up")  # a link that ends in ..
    raws = ["a/b/f.txt", "abs/f.txt", "rel.txt", "chain.txt", "a/dots.txt", "loop1",
            "dangling", "missing/x.txt", "abs/../b/f.txt", "a/b/", ".", "..", "a/./b/f.txt",
            str(tmp_path / "abs" / "f.txt"), "abs/", "f.txt", "up", "up/b/f.txt"]
    folders: dict[str, str] = {}
    for raw in raws:
        assert _real_path(raw, folders) == os.path.realpath(raw), raw


def test_an_out_inside_the_input_folder_is_not_read_back(corpus: Path) -> None:
    out = corpus / "out"
    for _ in range(2):
        code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(out), "--force"])
        assert code == 0, output
        assert "2 documents" in output  # (the second run saw no corpus.txt / .jsonl of its own)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exclude", "[z-a].txt"], "is not a valid glob"),
        ([""], "an empty input path"),
    ],
)
def test_bad_arguments_are_usage_errors(
    corpus: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(tmp_path / "o"), *args])
    assert code == 2 and message in output and "Traceback" not in output


def test_a_stray_nul_early_in_jsonl_costs_one_record(tmp_path: Path) -> None:
    text = "ロシア外務省は{}日に発表した。"
    lines = [json.dumps({"text": text.format(i)}, ensure_ascii=False) for i in range(50)]
    lines[2] = lines[2].replace("外務省", "外\x00務省")
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "out"
    code, output = _run(["normalise", str(src), "-g", MINI, "--out", str(out)])
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["documents"] == 49 and [b["line"] for b in summary["bad_records"]] == [3]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_in_an_input_folder_is_skipped_not_waited_for(
    corpus: Path, tmp_path: Path
) -> None:
    os.mkfifo(corpus / "feed.txt")
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(out)])
    assert code == 0 and "feed.txt: not a regular file" in output


def test_the_output_folder_gets_the_usual_mode_and_a_linked_out_stays_a_link(
    corpus: Path, tmp_path: Path
) -> None:
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "out"
    link.symlink_to(target)
    old = os.umask(0o022)
    try:
        code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(link), "--force"])
    finally:
        os.umask(old)
    assert code == 0, output
    assert link.is_symlink() and (target / "corpus.jsonl").exists()
    assert (target.stat().st_mode & 0o777) == 0o755  # mkdtemp's 0700 kept others out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_sigterm_unwinds_like_ctrl_c(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from glossnorm import write

    def killed(self: write.OutputWriter, events: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # as `timeout` or a scheduler would

    monkeypatch.setattr(write.OutputWriter, "_document", killed)
    out = tmp_path / "out"
    code, output = _run(["normalise", str(corpus), "-g", MINI, "--out", str(out)])
    assert code == 143 and "terminated" in output
    assert sorted(tmp_path.iterdir()) == [corpus]  # no output, no temporary folder
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # (the handler is put back)
