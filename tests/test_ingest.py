"""Ingestion: encodings, folders, globs, JSONL, gzip, stdin, and the errors."""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm import ingest
from glossnorm.clean import clean_text, lf_pieces
from glossnorm.errors import InputError
from glossnorm.ingest import (
    IngestOptions,
    Problem,
    decode_bytes,
    glob_match,
    iter_inputs,
)
from glossnorm.model import Document

# Our own sample article (not from the seeds): kana, kanji, a wave-dash range, a minus sign.
ARTICLE = (
    "ケルン外相、来週にも訪問へ\n"
    "ケルン外相は３日、東欧３か国を10〜13日に訪れると発表した。\n"
    "気温は−５度まで下がる見込みで、関係者は「準備は整っている」と述べた。\n"
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "shift_jis", "cp932", "euc_jp", "iso2022_jp"]


def docs(items: list[Document | Problem]) -> list[Document]:
    return [d for d in items if isinstance(d, Document)]


def problems(items: list[Document | Problem]) -> list[Problem]:
    return [p for p in items if isinstance(p, Problem)]


def run(paths: list[str | Path], **kw: object) -> list[Document | Problem]:
    return list(iter_inputs([str(p) for p in paths], IngestOptions(**kw)))  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_decode_detects_encoding(encoding: str) -> None:
    text, _ = decode_bytes(ARTICLE.encode(encoding))
    assert clean_text(text).text == clean_text(ARTICLE).text


def test_short_japanese_is_detected() -> None:
    for encoding in ("shift_jis", "euc_jp"):
        assert decode_bytes("ロシアの外相".encode(encoding))[0] == "ロシアの外相"


def test_five_encodings_give_identical_text(tmp_path: Path) -> None:
    for encoding in ENCODINGS:
        (tmp_path / f"{encoding}.txt").write_bytes(ARTICLE.encode(encoding))
    found = run([tmp_path])
    assert not problems(found)
    cleaned = {clean_text(d.text).text for d in docs(found)}
    assert len(docs(found)) == len(ENCODINGS) and len(cleaned) == 1
    assert {d.id: d.encoding for d in docs(found)}["euc_jp.txt"] == "euc_jp"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text",
    [
        ARTICLE,
        "ゼレンスキー大統領は「Слава Україні」と述べた。\n聯合ニュース（연합뉴스）によると\n",
        "wikipedia_ukraine_nato_summit\n",  # (misread as the other byte order: kanji)
    ],
)
def test_utf16_without_bom(tmp_path: Path, encoding: str, text: str) -> None:
    # Its ASCII characters (line breaks, digits, Latin names) bring NUL bytes.
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(encoding))
    (doc,) = run([path])
    assert isinstance(doc, Document) and doc.text == text and doc.encoding == encoding


def test_forced_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(ARTICLE.encode("euc_jp"))
    (doc,) = run([path], encoding="euc_jp")
    assert isinstance(doc, Document) and doc.text == ARTICLE


_HEADLINE = "北大西洋条約機構首脳会議\n"  # kanji only: no kana to score


@pytest.mark.parametrize(
    ("text", "encoding", "read_as"),
    [
        (_HEADLINE, "euc_jp", "euc_jp"),  # was read as Korean (cp949) mojibake
        (_HEADLINE, "cp932", "cp932"),
        ("岸田首相米大統領と電話会談\n", "euc_jp", "euc_jp"),
        ("北大西洋公约组织首脑会议在布鲁塞尔举行\n", "gb2312", "gb18030"),  # still Chinese
        ("北大西洋公約組織首腦會議在布魯塞爾舉行\n", "big5", "big5"),
        ("북대서양조약기구 정상회의가 열렸다\n", "euc_kr", "cp949"),  # still Korean
    ],
)
def test_kanji_only_japanese_wins_a_tie_with_chinese_and_korean(
    text: str, encoding: str, read_as: str
) -> None:
    assert decode_bytes(text.encode(encoding)) == (text, read_as)


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        (ARTICLE.encode() + "続報".encode()[:-1], ARTICLE + "続\ufffd", "utf-8+replace"),
        (ARTICLE.encode()[:30] + b"\xff" + ARTICLE.encode()[30:],
         ARTICLE[:10] + "\ufffd" + ARTICLE[10:], "utf-8+replace"),
        (ARTICLE.encode()[:30] + b"\x00" + ARTICLE.encode()[30:],
         ARTICLE[:10] + "\x00" + ARTICLE[10:], "utf-8"),  # (the cleaning removes the NUL)
    ],
)  # fmt: skip
def test_utf8_with_a_few_bad_bytes_is_read(data: bytes, text: str, encoding: str) -> None:
    assert decode_bytes(data) == (text, encoding)
    assert decode_bytes(data, "utf-8") == (text, encoding)  # --encoding utf-8 too


def test_a_short_file_with_one_bad_byte_is_read() -> None:
    data = "ロシア外務省は発表した。".encode() + b"\xff"
    assert decode_bytes(data) == ("ロシア外務省は発表した。\ufffd", "utf-8+replace")


def test_english_text_with_a_stray_nul_is_read() -> None:
    text = "NATO leaders met in Brussels on Tuesday to discuss the summit. " * 3
    assert decode_bytes(text[:20].encode() + b"\x00" + text[20:].encode()) == (
        text[:20] + "\x00" + text[20:], "utf-8")  # fmt: skip


def test_latin1_is_not_taken_for_utf8_with_bad_bytes() -> None:
    text = "Le café de Kyiv est très populaire. " * 5  # no valid UTF-8 sequence at all
    decoded, encoding = decode_bytes(text.encode("latin-1"))
    assert not encoding.startswith("utf-8") and "café" in decoded


def test_a_few_good_utf8_characters_do_not_make_binary_text(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("ロシア".encode() + bytes(range(1, 256)) * 4)
    (problem,) = run([path])
    assert isinstance(problem, Problem) and problem.kind == "skipped-file"


def test_binary_with_txt_name_next_to_good_file(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(ARTICLE, encoding="utf-8")
    alone = run([tmp_path])
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    found = run([tmp_path])
    assert docs(found) == docs(alone)
    (problem,) = problems(found)
    assert problem.source.endswith("image.txt") and problem.kind == "skipped-file"
    assert "binary" in problem.reason


def test_folder_ids_sorted_and_other_extensions_ignored(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("ゼット", encoding="utf-8")
    (tmp_path / "a.txt").write_text("エー", encoding="utf-8")
    (tmp_path / "notes.md").write_text("無視", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("隠し", encoding="utf-8")
    assert [d.id for d in docs(run([tmp_path]))] == ["a.txt", "b/z.txt"]
    assert [d.id for d in docs(run([tmp_path], include=("*.md",)))] == ["notes.md"]
    assert [d.id for d in docs(run([tmp_path], exclude=("b/**",)))] == ["a.txt"]


def test_nested_ids_and_sources_from_a_relative_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / "in" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "y.txt").write_text("ワイ", encoding="utf-8")
    (tmp_path / "in" / "a.txt").write_text("エー", encoding="utf-8")
    (tmp_path / "in" / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00" + bytes(range(256)))
    monkeypatch.chdir(tmp_path)
    found = run(["./in/"])
    assert [(d.id, d.source) for d in docs(found)] == [
        ("a.txt", "in/a.txt"),
        ("b/c/y.txt", "in/b/c/y.txt"),
    ]
    assert [p.source for p in problems(found)] == ["in/bad.txt"]


def test_file_id_is_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("本文", encoding="utf-8")
    (doc,) = run([path])
    assert isinstance(doc, Document) and doc.id == str(path) and doc.line == 0


@pytest.mark.parametrize(
    ("relpath", "pattern", "expected"),
    [
        ("a/b/c.txt", "*.txt", True),
        ("a/b/c.txt", "a/*.txt", False),
        ("a/b/c.txt", "a/**/*.txt", True),
        ("c.txt", "**/*.txt", True),
        ("a/b/c.txt", "a/**", True),
        ("x.jsonl", "?.json[lx]", True),
        ("x.jsonl", "[!x].jsonl", False),
    ],
)
def test_glob_match(relpath: str, pattern: str, expected: bool) -> None:
    assert glob_match(relpath, pattern) is expected


def test_broken_jsonl_keeps_good_lines(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text(
        json.dumps({"text": "一件目", "id": "n1"}, ensure_ascii=False) + "\n"
        "{not json\n"
        "\n" + json.dumps({"body": "本文だけ"}, ensure_ascii=False) + "\n"
        "[1, 2]\n"
        + json.dumps({"text": 5})
        + "\n"
        + json.dumps({"text": "五件目"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    found = run([tmp_path], id_field="id")
    assert [(d.id, d.text, d.line) for d in docs(found)] == [
        ("n1", "一件目", 1),
        ("news.jsonl#7", "五件目", 7),
    ]
    assert [(p.line, p.kind) for p in problems(found)] == [
        (2, "bad-record"),
        (4, "bad-record"),
        (5, "bad-record"),
        (6, "bad-record"),
    ]
    assert problems(found)[0].reason.startswith("not valid JSON: ")
    assert problems(found)[1].reason == 'no "text" field'


def test_repeated_ids_never_take_a_real_id(tmp_path: Path) -> None:
    lines = [{"id": "a", "text": "一"}, {"id": "a", "text": "二"}, {"id": "a~2", "text": "三"},
             {"id": "a", "text": "四"}, {"id": "a~2", "text": "五"}]
    path = tmp_path / "x.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    ids = [d.id for d in docs(run([path], id_field="id"))]
    assert ids == ["a", "a~2", "a~2~2", "a~3", "a~2~3"]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "line",
    ["[" * 100_000 + "]" * 100_000, '{"text": "ok", "n": 1' + "0" * 5000 + "}"],
    ids=["deep", "huge-number"],
)
def test_json_the_parser_refuses_is_one_bad_record(tmp_path: Path, line: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(line + "\n" + json.dumps({"text": "本文"}) + "\n", encoding="utf-8")
    found = run([path])
    assert [d.text for d in docs(found)] == ["本文"]
    (problem,) = problems(found)
    assert (problem.line, problem.kind) == (1, "bad-record")
    assert problem.reason.startswith("not valid JSON")


def test_truncated_gzip_jsonl_keeps_what_was_read_and_says_where_it_broke(
    tmp_path: Path,
) -> None:
    body = "".join(json.dumps({"text": f"記事{i}の本文。"}) + "\n" for i in range(3000))
    packed = gzip.compress(body.encode("utf-8"))
    (tmp_path / "feed.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    found = run([tmp_path])
    got = docs(found)
    assert 0 < len(got) < 3000
    assert [d.text for d in got] == [f"記事{i}の本文。" for i in range(len(got))]
    (problem,) = problems(found)
    assert problem.kind == "bad-record" and problem.line == len(got) + 1
    assert f"nothing after line {len(got)}" in problem.reason
    (tmp_path / "feed.jsonl.gz").write_bytes(packed[:10])  # broken before any record
    (problem,) = problems(run([tmp_path / "feed.jsonl.gz"]))
    assert problem.kind == "skipped-file" and problem.line == 0


def test_broken_jsonl_fail_mode_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text('{"text": "ok"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"news\.jsonl:2: not valid JSON"):
        run([path], on_error="fail")


def test_gzip_text_and_jsonl(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "a.txt.gz", "wb") as fh:
        fh.write(ARTICLE.encode("shift_jis"))
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write('{"text": "圧縮"}\n')
    (tmp_path / "c.txt.gz").write_bytes(b"not gzip at all")
    found = run([tmp_path])
    assert [(d.id, d.encoding) for d in docs(found)] == [
        ("a.txt.gz", "cp932"),
        ("b.jsonl.gz#1", "utf-8"),
    ]
    assert clean_text(docs(found)[0].text).text == clean_text(ARTICLE).text
    assert "gzip" in problems(found)[0].reason


def test_empty_files_are_fine(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert run([tmp_path]) == []


def test_stdin_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("標準入力の本文\n"))
    (doc,) = run(["-"])
    assert isinstance(doc, Document) and doc.id == "-" and doc.source == "-"


def test_stdin_jsonl_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = '{"text": "一"}\n{"text": "二"}\n'.encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert [(d.id, d.text) for d in docs(run(["-"]))] == [("-#1", "一"), ("-#2", "二")]


def _pipe_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes, close: bool = True) -> int:
    """stdin as a real pipe holding ``data``; returns the write end (closed if ``close``)."""
    r, w = os.pipe()
    os.write(w, data)
    if close:
        os.close(w)
    monkeypatch.setattr(sys, "stdin", open(r, encoding="utf-8"))  # noqa: SIM115
    return w


def test_stdin_jsonl_streams_before_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    # A feed that has not ended: its records come as they arrive (read line by line, as
    # a .jsonl file is), not after EOF with the whole stream in memory.
    w = _pipe_stdin(monkeypatch, b'\n{"text": "\xe4\xb8\x80"}\n{"text": "x"}\n', close=False)
    done = threading.Event()
    fired: list[bool] = []

    def watchdog() -> None:  # read whole, stdin would wait for its end forever: end it
        if not done.wait(60):
            fired.append(True)
            os.close(w)

    guard = threading.Thread(target=watchdog, daemon=True)
    guard.start()
    it = iter_inputs(["-"], IngestOptions())
    first, second = next(it), next(it)
    done.set()
    guard.join()
    assert not fired, "stdin was read to its end before the first record came out"
    os.write(w, '{"text": "三"}\n'.encode())
    os.close(w)
    assert isinstance(first, Document) and isinstance(second, Document)
    assert [(d.id, d.text) for d in (first, second, *docs(list(it)))] == [
        ("-#2", "一"), ("-#3", "x"), ("-#4", "三")
    ]


def test_stdin_jsonl_stream_bad_line_is_one_record(monkeypatch: pytest.MonkeyPatch) -> None:
    _pipe_stdin(monkeypatch, b'{"text": "a"}\n{"text": "\xff"}\n{"text": "c"}\n')
    found = run(["-"])
    assert [d.text for d in docs(found)] == ["a", "c"]
    (bad,) = problems(found)
    assert (bad.source, bad.line, bad.kind) == ("-", 2, "bad-record")


def test_stdin_not_utf8_jsonl_is_read_whole_and_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in ARTICLE.split())
    _pipe_stdin(monkeypatch, lines.encode("cp932"))
    found = docs(run(["-"]))
    assert found[0].encoding == "cp932"  # (cp932 reads 〜 back as ～: compare cleaned)
    assert [clean_text(d.text).text for d in found] == [clean_text(t).text for t in ARTICLE.split()]


def test_stdin_plain_text_from_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    _pipe_stdin(monkeypatch, ARTICLE.encode())
    (doc,) = run(["-"])
    assert isinstance(doc, Document) and doc.text == ARTICLE


def test_stdin_given_twice_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _pipe_stdin(monkeypatch, b'{"text": "a"}\n{"text": "b"}\n')
    assert [d.text for d in docs(run(["-", "-"]))] == ["a", "b"]


def test_missing_path_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"input not found: .*nope"):
        run([tmp_path / "nope"])


def test_missing_path_raises_before_anything_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("本文", encoding="utf-8")
    with pytest.raises(InputError):
        iter_inputs([str(tmp_path), str(tmp_path / "nope")], IngestOptions())


def test_folder_without_readable_files(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="no readable"):
        run([tmp_path])
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match=r"1 file\(s\) skipped"):
        run([tmp_path])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("x", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        run([path])


def test_path_under_a_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("本文", encoding="utf-8")
    with pytest.raises(InputError, match=r"input not found: .*a\.txt/b\.txt"):
        run([tmp_path / "a.txt" / "b.txt"])


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_loop_is_one_line_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match=r"cannot open input .*loop\.txt: "):
        run([loop])


def test_many_files_given_one_by_one_keep_their_order(tmp_path: Path) -> None:
    names = [f"{i:02d}.txt" for i in range(12)][::-1]  # not sorted: the order given wins
    for name in names:
        (tmp_path / name).write_text(f"本文{name}", encoding="utf-8")
    assert [d.id for d in docs(run([tmp_path / n for n in names]))] == [
        str(tmp_path / n) for n in names
    ]


def test_linked_folders_are_read_once_and_a_link_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "b.txt").write_text(ARTICLE, "utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text(ARTICLE, "utf-8")
    (root / "linked").symlink_to(tmp_path / "shared")  # (was silently not read)
    (root / "again").symlink_to(tmp_path / "shared")
    (root / "loop").symlink_to(root)
    assert [d.id for d in docs(run([root]))] == ["a.txt", "again/b.txt"]


def test_an_unreadable_sub_folder_is_skipped_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, "utf-8")
    real_walk = os.walk

    def walk(top: object, onerror: object = None, **kw: object) -> object:
        assert callable(onerror)
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "private")))
        return real_walk(top, onerror=onerror, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr("glossnorm.ingest.os.walk", walk)
    found = run([tmp_path])
    assert [d.id for d in docs(found)] == ["a.txt"]  # (the whole run was aborted)
    (p,) = problems(found)
    assert p.source.endswith("private") and "cannot read folder" in p.reason


# -- long files read a piece at a time (IngestOptions.stream_bytes) ---------------------

LONG = (ARTICLE * 40).replace("\n", "\r\n", 3)  # ~4,000 characters, some CRLF


def _write(path: Path, data: bytes) -> Path:
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _whole(path: Path, **kw: object) -> Document:
    (doc,) = docs(run([path], **kw))
    return doc


@pytest.mark.parametrize(
    ("name", "data", "forced"),
    [
        ("plain.txt", LONG.encode(), None),
        ("bom.txt", codecs.BOM_UTF8 + LONG.encode(), None),
        ("forced-bom.txt", codecs.BOM_UTF8 + LONG.encode(), "UTF8"),
        ("packed.txt.gz", LONG.encode(), None),
        ("latin.txt", ("Kyiv, not Kiev.\n" * 300).encode(), None),
        ("cp932.txt", LONG.encode("cp932"), None),
        ("forced-cp932.txt", LONG.encode("cp932"), "cp932"),
        ("forced-utf-16.txt", LONG.encode("utf-16"), "utf-16"),
        ("lone-surrogates.txt", LONG.encode() + b"\\ud800 \\udfff\n", "unicode_escape"),
        ("euc.txt.gz", LONG.encode("euc_jp"), None),
        # (the first read, 100 bytes, is whole characters: nothing left for the last one)
        ("one-bad-byte-late.txt", b"Kyiv\n" * 20 + LONG.encode() + b"\xff", None),
        ("no-newline-at-all.txt", ("Kyiv, not Kiev. " * 300).encode(), None),
    ],
)
def test_a_long_file_is_streamed_in_pieces_that_join_to_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes, forced: str | None
) -> None:
    monkeypatch.setattr(ingest, "READ_BYTES", 100)  # many reads, pieces cut mid-character
    path = _write(tmp_path / name, data)
    whole = _whole(path, encoding=forced)
    (doc,) = docs(run([path], encoding=forced, stream_bytes=200))
    assert doc.streamed and doc.text == "" and not whole.streamed
    assert (doc.id, doc.source, doc.encoding) == (whole.id, whole.source, whole.encoding)
    for piece_chars in (1, 17, 150, 1000, 10**6):
        pieces = list(ingest.text_pieces(doc, piece_chars))
        assert pieces == list(lf_pieces(whole.text, piece_chars))
        assert "".join(pieces) == whole.text
    assert not docs(run([path], encoding=forced, stream_bytes=len(data) + 10**6))[0].streamed


@pytest.mark.parametrize(
    ("why", "data", "forced"),
    [
        ("a NUL byte after the first read", b"Kyiv\n" * 20 + LONG.encode() + b"\x00", None),
        ("a NUL byte in CP932", LONG.encode("cp932") + b"\x00", None),
        ("Latin-1: for the detector", ("Café crème, déjà vu.\n" * 300).encode("latin-1"), None),
        ("ISO-2022-JP, all 7-bit", LONG.encode("iso2022_jp"), None),
        ("UTF-16 with a BOM", LONG.encode("utf-16"), None),
        ("another forced encoding on bad bytes", LONG.encode("cp932") + b"\x81", "cp932"),
        ("UTF-8 forced on bad bytes", LONG.encode() + b"\xff", "utf-8"),
    ],
)
def test_a_long_file_decode_bytes_must_see_whole_is_read_whole_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str, data: bytes, forced: str | None
) -> None:
    monkeypatch.setattr(ingest, "READ_BYTES", 100)
    path = _write(tmp_path / "long.txt", data)
    assert run([path], encoding=forced, stream_bytes=200) == run([path], encoding=forced), why


def test_a_long_file_of_blanks_is_no_document_streamed_or_not(tmp_path: Path) -> None:
    path = _write(tmp_path / "blank.txt", " \n\u3000\n".encode() * 500)
    assert run([path], stream_bytes=200) == run([path]) == []


def test_a_streamed_file_that_goes_away_stops_the_run_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "gone.txt", LONG.encode())
    (doc,) = docs(run([path], stream_bytes=200))
    path.unlink()
    with pytest.raises(InputError, match=r"gone\.txt: cannot be read any more"):
        list(ingest.text_pieces(doc, 100))


@pytest.mark.parametrize("off", [-50, -1, 0, 1, 50])
def test_a_file_read_whole_even_if_it_changed_size_since_its_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, off: int
) -> None:
    # One read of size + 1 bytes usually gets all of it; a file that grew since its
    # fstat is read on to its end, one that shrank ends early.
    path = _write(tmp_path / "a.txt", LONG.encode())
    real = ingest._open_fd

    def stale(p: Path) -> tuple[int, int]:
        fd, size = real(p)
        return fd, size + off

    monkeypatch.setattr(ingest, "_open_fd", stale)
    assert ingest._read_bytes(path) == LONG.encode()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["ロシア", "外相", "\n", "\r\n", "a", " ", "\U0001f600", "é"]),
             max_size=80).map("".join),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=50),
)
def test_streamed_pieces_are_the_whole_texts_pieces(
    tmp_path_factory: pytest.TempPathFactory, text: str, piece_chars: int, read_bytes: int
) -> None:
    # Reads cut characters anywhere (1-4 bytes each); the pieces must not care.
    path = tmp_path_factory.mktemp("s") / "a.txt"
    path.write_bytes(text.encode())
    doc = Document("a.txt", "", str(path), 0, "utf-8", streamed=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ingest, "READ_BYTES", read_bytes)
        assert list(ingest.text_pieces(doc, piece_chars)) == list(lf_pieces(text, piece_chars))


_JA_SAMPLES = ["ロシア外相、", "ｷｴﾌで会談。", "「東京」", "漢字", "Kyiv "]  # (in all three)
_NOISE = st.sampled_from(
    [b"\n", "\ufffd".encode(), b"\xff", b"\x1b$B", b"\xe3\x81", b"\x00", codecs.BOM_UTF8]
)


@st.composite
def _mixed_bytes(draw: st.DrawFn) -> bytes:
    """Text in one encoding, with or without stray bytes and other noise among it."""
    enc = draw(st.sampled_from(["utf-8", "cp932", "euc_jp"]))
    text = st.sampled_from([*_JA_SAMPLES, "\n"]).map(lambda t: t.encode(enc))
    rare = st.one_of(_NOISE, st.binary(min_size=1, max_size=2))
    pieces = draw(st.lists(st.one_of(text, rare) if draw(st.booleans()) else text, max_size=40))
    return b"".join(pieces)


@settings(max_examples=400, deadline=None)
@given(_mixed_bytes(), st.integers(min_value=1, max_value=9))
def test_a_streamed_file_reads_as_decode_bytes_reads_it_whole(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, read_bytes: int
) -> None:
    # Whatever the bytes (UTF-8, CP932, EUC-JP, bad bytes, U+FFFD as written, escapes, NUL),
    # a file is streamed only with the encoding decode_bytes gives the whole, to its text.
    path = tmp_path_factory.mktemp("d") / "a.txt"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ingest, "READ_BYTES", read_bytes)
        got = ingest._streamable(path, IngestOptions())
        if got is None:
            return
        encoding, content = got
        text, whole_encoding = decode_bytes(data)  # (never a skip: that is read whole)
        assert (encoding, content) == (whole_encoding, bool(text.strip()))
        doc = Document("a.txt", "", str(path), 0, encoding, streamed=True)
        assert "".join(ingest.text_pieces(doc, 5)) == text


@pytest.mark.parametrize("read_bytes", [1, 2, 3, 4, 64])
def test_a_written_replacement_character_across_two_reads_is_not_a_bad_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int
) -> None:
    # One bad byte among ten good characters is UTF-8 with a bad byte (_mostly_utf8), right
    # at its limit; the U+FFFD written in the text, cut by a read, must not count as one.
    data = b"ab" + "\ufffd".encode() + "ロシア外相ロシア外相".encode() + b"\xff"
    assert decode_bytes(data)[1] == ingest.REPLACED_UTF8
    path = _write(tmp_path / "a.txt", data)
    monkeypatch.setattr(ingest, "READ_BYTES", read_bytes)
    assert ingest._streamable(path, IngestOptions()) == (ingest.REPLACED_UTF8, True)
