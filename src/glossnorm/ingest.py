"""Read whatever corpus the user has into ``Document``s, and account for what was not read.

Inputs are files, folders (searched recursively) and ``-`` for stdin. Recognised files are
``.txt``, ``.jsonl`` and their ``.gz`` versions; inside folders other files are ignored
unless an ``--include`` glob names them, and hidden files and folders (``.git``) are
skipped. Globs match the path relative to the input folder (``/`` separated); ``**``
matches any number of folders, and a glob without ``/`` also matches the bare file name,
so ``*.txt`` finds text files at any depth.

Document ids: the path relative to the folder (for a folder input), the path as given
(for a file input), ``-`` for stdin; JSONL records get ``<that>#<line>`` or the id field.

Encodings, in this order: a BOM (UTF-8, UTF-16, UTF-32) decides; a NUL byte then means
binary; ISO-2022-JP when the bytes are 7-bit with JIS escape sequences; strict UTF-8 (the
common case, and the detector is slow); CP932 and EUC-JP, keeping the decoding that
reads as Japanese (kana share) -- charset-normalizer misreads short Japanese texts;
finally charset-normalizer for everything else. ``encoding=`` forces one codec. A long
text file (``stream_bytes``) gets the same decision from one pass over it, and is then
read a piece at a time, unless only charset-normalizer can place it.

stdin is JSONL when its first non-blank line is a JSON object, otherwise one document.

A file that cannot be read (binary, undecodable, permission denied inside a folder, bad
gzip) is a ``Problem`` of kind ``skipped-file``; a JSONL line that is not a JSON object with
a string text field is a ``bad-record``. With ``on_error="fail"`` either raises
``InputError`` instead. Missing paths, an unreadable path given on the command line, and a
folder without one readable file raise ``InputError`` before anything is yielded (the last
one after its skipped files were reported).
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import gzip
import io
import itertools
import json
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from glossnorm.errors import InputError, UsageError
from glossnorm.model import Document

TEXT_SUFFIXES = (".txt", ".txt.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")


@dataclass(frozen=True)
class IngestOptions:
    include: tuple[str, ...] = ()  # globs, matched against the path relative to the folder
    exclude: tuple[str, ...] = ()
    text_field: str = "text"
    id_field: str | None = None  # JSONL: doc id from this field ("{relpath}#{line}" if absent)
    encoding: str | None = None  # force an encoding
    on_error: Literal["skip", "fail"] = "skip"
    skip_dirs: tuple[str, ...] = ()  # real paths of folders not to read (the output's)
    # A text file larger than this (bytes on disk, an eighth of it for .gz; 0: none) whose
    # encoding one pass can tell as ``decode_bytes`` tells it on the whole (UTF-8, CP932,
    # EUC-JP: ``_streamable``) comes as a ``Document.streamed``: its text is read a piece
    # at a time by ``text_pieces``, so memory does not grow with the file (``normalise``).
    stream_bytes: int = 0

    def __post_init__(self) -> None:
        for pattern in (*self.include, *self.exclude):  # refused now, not at the first file
            _glob_to_regex(pattern.strip("/"))
        if self.encoding is not None:
            try:
                # (hex, rot13: codecs, but not text encodings; b"" would not even look)
                b"\0\0\0\0".decode(self.encoding, "ignore")
            except LookupError:
                raise UsageError(
                    f"--encoding: unknown encoding {self.encoding!r}; give a Python codec name "
                    "such as utf-8, cp932, shift_jis or euc_jp"
                ) from None


@dataclass(frozen=True)
class Problem:
    """Something that could not be read."""

    source: str  # file path
    line: int  # 1-based, 0 for the whole file
    reason: str  # short, human: "not valid JSON: Expecting value at column 1"
    kind: str  # "skipped-file" or "bad-record"


class _Skip(Exception):
    """A file is unreadable; the message is the reason."""


# -- globs -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # once per pattern, not once per file
def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                # Each character of the class literally but a range's "-" ([[:alpha:]] is
                # not POSIX here: "[" is a character, not a nested set).
                body = "".join(c if c == "-" else re.escape(c) for c in body[negate:])
                out.append(f"[{'^' if negate else ''}{body}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as exc:  # a range such as [z-a]
        raise UsageError(f"{pattern!r} is not a valid glob ({exc.msg})") from None


def glob_match(relpath: str, pattern: str) -> bool:
    """Does a ``/``-separated relative path match a glob (see the module docstring)?"""
    rx = _glob_to_regex(pattern.strip("/"))
    if rx.fullmatch(relpath):
        return True
    return "/" not in pattern and rx.fullmatch(relpath.rsplit("/", 1)[-1]) is not None


def _wanted(relpath: str, opts: IngestOptions) -> bool:
    if opts.include:
        taken = any(glob_match(relpath, p) for p in opts.include)
    else:
        taken = relpath.lower().endswith(TEXT_SUFFIXES + JSONL_SUFFIXES)
    return taken and not any(glob_match(relpath, p) for p in opts.exclude)


# -- decoding ----------------------------------------------------------------------------

_JIS_ESCAPE = re.compile(rb"\x1b(?:\$[@B(]|\([BJI])")
_KANA = re.compile("[\u3041-\u309f\u30a0-\u30ff\u3001\u3002\u300c\u300d]")
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")


def _japanese_score(text: str) -> float:
    """Share of kana and Japanese punctuation among non-ASCII characters, minus the
    half-width katakana that EUC-JP bytes turn into when misread as CP932."""
    non_ascii = sum(1 for ch in text if ord(ch) > 0x7F)
    if not non_ascii:
        return 0.0
    kana = len(_KANA.findall(text))
    half = len(_HALFWIDTH_KANA.findall(text))
    return (kana - 2 * half) / non_ascii


_JAPANESE_CODECS = frozenset(
    {"euc_jp", "euc_jis_2004", "euc_jisx0213", "cp932", "shift_jis", "shift_jis_2004",
     "shift_jisx0213"}
)  # fmt: skip
_CHAOS_TIE = 0.05  # charset-normalizer's chaos (0 = clean) within which encodings tie


def _common_kanji(text: str) -> bool:
    """Is ``text`` Japanese kanji text: mostly JIS level-1 kanji (the ~3,000 common ones;
    Chinese read as EUC-JP lands often in level 2), and no space between two of them
    (Korean spaces its words)?"""
    common = rare = 0
    prev = ""
    for i, ch in enumerate(text):
        if ch == " " and prev > "\x7f" and text[i + 1 : i + 2] > "\x7f":
            return False
        prev = ch
        if ch <= "\x7f":
            continue
        try:
            lead = ch.encode("euc_jp")[0]
        except UnicodeEncodeError:
            rare += 1
            continue
        if lead >= 0xB0:  # (rows 1-15 are symbols, kana, Latin, Greek, Cyrillic: not counted)
            common += lead <= 0xCF  # rows 16-47: level 1
            rare += lead > 0xCF
    return common >= 4 and common >= 9 * rare


def _control_share(text: str) -> float:
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\x1b")
    return bad / max(1, len(text))


# What UTF-16 news text decodes to: ASCII and Latin letters, Cyrillic, punctuation, CJK
# punctuation, kana, ideographs, Hangul, full width.
_TEXT_CHAR_RE = re.compile(
    "[\t\n\r\x20-\x7e\xa0-\u024f\u0400-\u04ff\u2000-\u206f\u3000-\u30ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff01-\uffef]"
)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 written without a BOM: its ASCII characters bring NUL bytes, in the high
    byte of each pair (odd offsets in little-endian, even in big-endian). Binary data
    decodes too, but to code points all over the range, not to text."""
    if len(data) % 2:
        return None
    enc = "utf-16-le" if data[1::2].count(0) >= data[0::2].count(0) else "utf-16-be"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        return None
    return (text, enc) if len(_TEXT_CHAR_RE.sub("", text)) <= 0.05 * len(text) else None


JA_CODECS = ("cp932", "euc_jp")  # tried in this order when a text is not UTF-8

# UTF-8 with a few bad bytes: at most one per this many characters decoded fine.
_MOSTLY_UTF8_RATIO = 10
REPLACED_UTF8 = "utf-8+replace"  # the encoding reported for such a file


def _mostly_utf8(data: bytes) -> tuple[str, str] | None:
    """UTF-8 text with a few bad bytes (a last character cut in half, a stray byte or NUL),
    decoded with U+FFFD for each bad sequence (NULs go in the cleaning step). Text in
    another encoding (Latin-1 é, CP932) has no valid multi-byte characters to outweigh
    its bad bytes, so it is left to the detection below."""
    text = data.decode("utf-8", "replace")  # (all in C: a CP932 corpus passes here first)
    replaced = text.count("\ufffd")
    bad = replaced - data.count("\ufffd".encode())
    fine = len(text) - len(text.encode("ascii", "ignore")) - replaced  # non-ASCII, decoded
    if bad and fine < _MOSTLY_UTF8_RATIO * bad:
        return None
    nul = data.count(b"\x00")  # (a binary file has 1% or more, and few good characters)
    if nul and len(text) < 100 * nul and fine < _MOSTLY_UTF8_RATIO * nul:
        return None
    return text, REPLACED_UTF8 if bad else "utf-8"


def decode_bytes(data: bytes, forced: str | None = None) -> tuple[str, str]:
    """(text, encoding name) or raise ``_Skip`` with the reason."""
    if forced:
        try:
            return data.decode(forced), codecs.lookup(forced).name
        except UnicodeDecodeError as exc:
            if codecs.lookup(forced).name == "utf-8" and (mostly := _mostly_utf8(data)):
                return mostly
            raise _Skip(f"cannot decode as {forced} at byte {exc.start}") from None
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise _Skip(f"{enc} BOM but undecodable at byte {exc.start}") from None
    if b"\x00" in data:
        wide = _utf16_without_bom(data) or _mostly_utf8(data)
        if wide is None:
            raise _Skip("binary file (NUL bytes)")
        return wide
    # ISO-2022-JP is 7-bit, so it is also valid UTF-8: look for its escapes first
    if data.isascii() and _JIS_ESCAPE.search(data):
        for enc in ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext"):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                continue
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if (mostly := _mostly_utf8(data)) is not None:
        return mostly
    candidates: list[tuple[float, str, str]] = []
    for enc in JA_CODECS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_japanese_score(text), enc, text))
    if candidates:
        score, enc, text = max(candidates)
        if score >= 0.2:
            return text, enc
    from charset_normalizer import from_bytes  # slow to import; rarely needed

    results = from_bytes(data)
    best = results.best()
    if best is not None and candidates and best.encoding not in _JAPANESE_CODECS:
        # Kanji-only text (a headline) has no kana to score; a short one reads as Korean
        # or Chinese as well. Japanese is this tool's language: it wins a near tie.
        close = any(
            m.encoding in _JAPANESE_CODECS and m.chaos <= best.chaos + _CHAOS_TIE
            for m in results
        )
        kanji = [(enc, text) for _, enc, text in candidates if _common_kanji(text)]
        if close and kanji:
            return kanji[0][1], kanji[0][0]
    if best is not None and best.encoding:
        text = str(best)
        if _control_share(text) < 0.01:
            return text, best.encoding
    raise _Skip("not text, or an encoding that could not be detected (give it with --encoding)")


# -- reading -----------------------------------------------------------------------------


_READ_CAP = 0x7FFFF000  # the most one read() returns on Linux


def _open_fd(path: Path) -> tuple[int, int]:
    """(descriptor, size) of ``path`` opened for reading, if it is a regular file: a named
    pipe or a device in an input folder would block the run for ever. (Non-blocking open,
    then ``fstat``: no extra system call per file. Reading a regular file never blocks
    either way.) The caller closes the descriptor."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _Skip("is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise _Skip("not a regular file (a named pipe or a device)")
        return fd, st.st_size
    except BaseException:
        os.close(fd)
        raise


def _open_regular(path: Path) -> IO[bytes]:
    """``path`` as a file object, if it is a regular file (``_open_fd``)."""
    fd, _ = _open_fd(path)
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_bytes(path: Path, stream_bytes: int = 0) -> bytes | None:
    """The file's bytes; None, unread, if it is over ``stream_bytes`` (when given; for a
    .gz, an eighth of it: text packs 3-5x, a repetitive one far more)."""
    try:
        packed = path.name.lower().endswith(".gz")
        fd, size = _open_fd(path)
        # Unbuffered: most files are a few KB, read in one call (4,700 of them cost 0.17 s
        # through a buffered file object, 0.15 s so).
        with os.fdopen(fd, "rb", buffering=0) as raw:
            if stream_bytes and size > (stream_bytes // 8 if packed else stream_bytes):
                return None
            if packed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                    return fh.read()
            # Asked for one byte more than its size, a regular file gives less only at its
            # end (below Linux's 2 GiB cap for one read).
            data = raw.read(size + 1)
            if len(data) <= size and len(data) < _READ_CAP:
                return data
            return data + raw.readall()  # it grew since, or is huge: on to its end
    except PermissionError:
        raise _Skip("permission denied") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise _Skip(f"not a valid gzip file: {exc}") from None
    except IsADirectoryError:
        raise _Skip("is a directory") from None
    except OSError as exc:
        raise _Skip(exc.strerror or str(exc)) from None


def _is_jsonl(name: str) -> bool:
    return name.lower().endswith(JSONL_SUFFIXES)


def _records(
    lines: Iterable[tuple[int, str | None]],
    base_id: str,
    source: str,
    encoding: str,
    opts: IngestOptions,
) -> Iterator[Document | Problem]:
    """Documents and bad-record problems from JSONL lines ``(lineno, text or None)``;
    None is a line that could not be decoded."""
    for lineno, raw in lines:
        reason = None
        if raw is None:
            yield _problem(source, lineno, f"not {encoding} text", "bad-record", opts)
            continue
        line = raw.strip()
        if not line:
            continue
        doc_id = f"{base_id}#{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = f"not valid JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, deep nesting
            reason = f"not valid JSON: {str(exc).split(';')[0]}"
        else:
            if not isinstance(obj, dict):
                reason = f"not a JSON object (got {type(obj).__name__})"
            elif opts.text_field not in obj:
                reason = f'no "{opts.text_field}" field'
            elif not isinstance(obj[opts.text_field], str):
                kind = type(obj[opts.text_field]).__name__
                reason = f'"{opts.text_field}" is not a string (got {kind})'
            elif opts.id_field is not None and obj.get(opts.id_field) is not None:
                value = obj[opts.id_field]
                if isinstance(value, str | int) and not isinstance(value, bool):
                    doc_id = str(value)
                else:
                    reason = f'"{opts.id_field}" is not a string or integer'
        if reason is not None:
            yield _problem(source, lineno, reason, "bad-record", opts)
            continue
        yield Document(doc_id, obj[opts.text_field], source, lineno, encoding)


def _text_lines(text: str) -> Iterator[tuple[int, str | None]]:
    return enumerate(text.split("\n"), 1)


def _jsonl_stream(path: Path, doc_id: str, opts: IngestOptions) -> Iterator[Document | Problem]:
    """A JSONL file read line by line, so memory does not grow with the file.

    JSONL is UTF-8 by definition; a file with a UTF-16/32 BOM or a forced other encoding
    is decoded whole instead. Raises ``_Skip`` for a binary or unreadable file.
    """
    try:
        fh = _open_binary(path)
    except OSError as exc:
        raise _Skip(exc.strerror or str(exc)) from None
    read = 0  # the last line yielded from
    with fh:
        try:
            head = fh.read(1 << 16)
            forced = opts.encoding and codecs.lookup(opts.encoding).name != "utf-8"
            if forced or head.startswith(_WIDE_BOMS):
                text, encoding = decode_bytes(head + fh.read(), opts.encoding)
                yield from _records(_text_lines(text), doc_id, str(path), encoding, opts)
                return
            if head.count(b"\x00") * 100 > len(head):  # (one stray NUL: that line's record)
                raise _Skip("binary file (NUL bytes)")
            first = head + fh.readline()
            raw_lines = itertools.chain(io.BytesIO(first), fh)
            for item in _records(_utf8_lines(raw_lines), doc_id, str(path), "utf-8", opts):
                read = item.line
                yield item
        except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
            reason = (
                f"not a valid gzip file: {exc}"
                if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error)
                else exc.strerror or str(exc)
            )
            if not read:
                raise _Skip(reason) from None
            # Records before the break are out already: the rest of the file is one lost
            # record, after the last line read (not a whole file skipped).
            yield _problem(str(path), read + 1, f"{reason}; nothing after line {read} "
                           "could be read", "bad-record", opts)


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        _open_regular(path).close()  # (only the check: gzip closes a file it opened itself)
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return _open_regular(path)


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _utf8_lines(raw_lines: Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    for lineno, raw in enumerate(raw_lines, 1):
        if lineno == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield lineno, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield lineno, None


def _problem(source: str, line: int, reason: str, kind: str, opts: IngestOptions) -> Problem:
    # A file name that is not UTF-8 decodes with lone surrogates: summary.json could not
    # be written (as for ids and texts, see _unique_ids).
    source = _LONE_SURROGATE_RE.sub("\ufffd", source)
    if opts.on_error == "fail":
        where = f"{source}:{line}" if line else source
        raise InputError(f"{where}: {reason}")
    return Problem(source, line, reason, kind)


def _file(path: Path, doc_id: str, opts: IngestOptions) -> Iterator[Document | Problem]:
    """Everything in one file. Raises ``_Skip`` if the file cannot be read."""
    if _is_jsonl(path.name):
        yield from _jsonl_stream(path, doc_id, opts)
        return
    data = _read_bytes(path, opts.stream_bytes)
    if data is None:  # a long file
        if (streamed := _streamable(path, opts)) is not None:
            encoding, content = streamed
            if content:
                yield Document(doc_id, "", str(path), 0, encoding, streamed=True)
            return
        data = _read_bytes(path)
        assert data is not None
    text, encoding = decode_bytes(data, opts.encoding)
    if text.strip():
        yield Document(doc_id, text, str(path), 0, encoding)


READ_BYTES = 1 << 18  # a streamed file is read this much at a time


def _streamable(path: Path, opts: IngestOptions) -> tuple[str, bool] | None:
    """(encoding, has content) if the text file ``path`` decodes as ``decode_bytes`` would
    decode it whole with a forced encoding or as UTF-8, else what ``_japanese_stream``
    finds. One pass over the file decides it, piece by piece: strict decoding throughout,
    and unforced, no NUL byte and not the 7-bit escapes of ISO-2022-JP (see
    ``decode_bytes``; None: it goes there, whole)."""
    forced = opts.encoding and codecs.lookup(opts.encoding).name
    content = plain = False
    ascii_only, escape = True, False
    try:
        with _open_binary(path) as fh:
            head = fh.read(max(READ_BYTES, 4))  # (a BOM whole, whatever the read size)
            if forced:
                encoding = forced
            elif head.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            elif head.startswith(_WIDE_BOMS):
                return None
            else:
                encoding = "utf-8"
            plain = encoding == "utf-8" and not forced  # (decode_bytes checks these first)
            decoder = codecs.getincrementaldecoder(encoding)("strict")
            chunk = head
            while chunk:
                if plain:
                    if b"\x00" in chunk:
                        return None  # (UTF-16 without a BOM, or binary: decode_bytes decides)
                    ascii_only = ascii_only and chunk.isascii()
                    escape = escape or b"\x1b" in chunk
                text = decoder.decode(chunk)  # (every chunk: it checks the bytes)
                content = content or bool(text.strip())
                chunk = fh.read(READ_BYTES)
            text = decoder.decode(b"", final=True)
            content = content or bool(text.strip())
    except UnicodeDecodeError:
        return _japanese_stream(path) if plain else None
    except (OSError, EOFError, zlib.error):
        return None  # unreadable: reading it whole says why
    if plain and ascii_only and escape:
        return None  # perhaps ISO-2022-JP
    return encoding, content


_FFFD = "\ufffd".encode()


@dataclass
class _Tally:
    """What one codec has read of a file so far (``_japanese_stream``): a running tally,
    hence not frozen. ``decoder`` is None once the bytes did not decode."""

    decoder: codecs.IncrementalDecoder | None
    non_ascii: int = 0
    kana: int = 0
    half: int = 0
    content: bool = False

    def read(self, chunk: bytes, final: bool) -> None:
        if self.decoder is None:
            return
        try:
            text = self.decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.decoder = None
            return
        self.non_ascii += len(text) - len(text.encode("ascii", "ignore"))
        self.kana += len(_KANA.findall(text))
        self.half += len(_HALFWIDTH_KANA.findall(text))
        self.content = self.content or bool(text.strip())

    @property
    def score(self) -> float:
        """``_japanese_score`` of all the text read."""
        return (self.kana - 2 * self.half) / self.non_ascii if self.non_ascii else 0.0


def _japanese_stream(path: Path) -> tuple[str, bool] | None:
    """``decode_bytes``'s choice for a file that is not strict UTF-8 (nor has a NUL),
    made in one pass as it makes it on the whole: UTF-8 with a few bad bytes
    (``_mostly_utf8``), else CP932 or EUC-JP, whichever decodes and reads more as Japanese
    (``_japanese_score``, at least 0.2). (encoding, has content), or None where the
    detector would have to look at the whole."""
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")
    replaced = literal = non_ascii = 0
    utf8_content = False
    tail = b""
    tallies = {enc: _Tally(codecs.getincrementaldecoder(enc)("strict")) for enc in JA_CODECS}
    try:
        with _open_binary(path) as fh:
            while True:
                chunk = fh.read(READ_BYTES)
                if b"\x00" in chunk:
                    return None
                final = not chunk
                text = utf8.decode(chunk, final=final)
                replaced += text.count("\ufffd")
                # (one spanning reads too: each counted once, when its last byte comes)
                literal += (tail + chunk).count(_FFFD)
                tail = (tail + chunk)[-2:]
                non_ascii += len(text) - len(text.encode("ascii", "ignore"))
                utf8_content = utf8_content or bool(text.strip())
                for tally in tallies.values():
                    tally.read(chunk, final)
                if final:
                    break
    except (OSError, EOFError, zlib.error):
        return None
    bad = replaced - literal
    if not (bad and non_ascii - replaced < _MOSTLY_UTF8_RATIO * bad):  # (as _mostly_utf8)
        return (REPLACED_UTF8 if bad else "utf-8"), utf8_content
    scored = [(t.score, enc, t.content) for enc, t in tallies.items() if t.decoder is not None]
    if scored:
        score, enc, content = max(scored)  # (ties: as decode_bytes breaks them)
        if score >= 0.2:
            return enc, content
    return None


def text_pieces(doc: Document, piece_chars: int) -> Iterator[str]:
    """The text of a ``Document.streamed`` in the pieces ``clean.lf_pieces`` cuts the whole
    text into: each ends after the first LF from ``piece_chars`` characters on. Raises
    ``InputError`` if the file can no longer be read; a file changed since it was checked
    is decoded with U+FFFD for its bad bytes. A lone surrogate (a forced codec such as
    unicode_escape makes them) becomes U+FFFD, as ``_unique_ids`` does to a text read whole."""
    codec = "utf-8" if doc.encoding == REPLACED_UTF8 else doc.encoding
    decoder = codecs.getincrementaldecoder(codec)("replace")
    held: list[str] = []  # decoded, not given out yet; no piece ends before the last one
    size = 0
    out = False
    try:
        with _open_binary(Path(doc.source)) as fh:
            while True:
                chunk = fh.read(READ_BYTES)
                text = decoder.decode(chunk, final=not chunk)
                if _LONE_SURROGATE_RE.search(text):
                    text = _LONE_SURROGATE_RE.sub("\ufffd", text)
                held.append(text)
                size += len(text)
                while size >= piece_chars:
                    start = max(piece_chars - 1 - (size - len(text)), 0)
                    lf = text.find("\n", start)
                    if lf < 0:
                        break
                    held[-1] = text[: lf + 1]
                    yield "".join(held)
                    out = True
                    text = text[lf + 1 :]
                    held, size = [text], len(text)
                if not chunk:
                    break
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{doc.source}: cannot be read any more ({exc})") from None
    if size or not out:
        yield "".join(held)


@dataclass(frozen=True)
class _StdinLines:
    """stdin as a UTF-8 JSONL stream: the lines read to tell (blank ones, then the first
    record), and the rest, unread, for whoever iterates the documents (memory stays flat,
    as for a .jsonl file)."""

    head: bytes
    rest: IO[bytes]  # a duplicate of stdin's descriptor: see _read_stdin


def _jsonl_head(head: bytes, opts: IngestOptions) -> bool:
    """Do the lines up to the first non-blank one start a UTF-8 JSONL stream?"""
    forced = opts.encoding and codecs.lookup(opts.encoding).name != "utf-8"
    if forced or head.startswith(_WIDE_BOMS):
        return False
    try:
        return isinstance(json.loads(head.removeprefix(codecs.BOM_UTF8).decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


def _read_stdin(opts: IngestOptions) -> bytes | str | _StdinLines:
    """stdin as checked: a UTF-8 JSONL stream is read up to its first record only; anything
    else is read whole (one document, or an encoding to detect): bytes, or text from a
    stream without bytes underneath (tests, embedding)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:
        return sys.stdin.read()
    try:
        # A duplicate, because a forked reader process (pipeline) has sys.stdin closed
        # as it starts; the duplicate stays open there, and only that process reads it.
        fh = open(os.dup(sys.stdin.fileno()), "rb")  # noqa: SIM115 (closed by _stdin)
    except (AttributeError, OSError, ValueError):  # no descriptor (an in-memory stdin)
        data: bytes = buffer.read()
        return data
    head = b""
    while line := fh.readline():  # (a line at a time: a live feed may pause after it)
        head += line
        if line.strip():
            break
    if _jsonl_head(head, opts):
        return _StdinLines(head, fh)
    with fh:
        return head + fh.read()


def _stdin(data: bytes | str | _StdinLines, opts: IngestOptions) -> Iterator[Document | Problem]:
    if isinstance(data, _StdinLines):
        with data.rest:
            lines = itertools.chain(io.BytesIO(data.head), data.rest)
            yield from _records(_utf8_lines(lines), "-", "-", "utf-8", opts)
        return
    if isinstance(data, bytes):
        try:
            text, encoding = decode_bytes(data, opts.encoding)
        except _Skip as exc:
            yield _problem("-", 0, str(exc), "skipped-file", opts)
            return
    else:
        text, encoding = data, "utf-8"
    first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    looks_jsonl = False
    if first.startswith("{"):
        try:
            looks_jsonl = isinstance(json.loads(first), dict)
        except json.JSONDecodeError:
            looks_jsonl = False
    if looks_jsonl:
        yield from _records(_text_lines(text), "-", "-", encoding, opts)
    elif text.strip():
        yield Document("-", text, "-", 0, encoding)


def _check_path(raw: str) -> tuple[str, bool]:
    """The input and whether it is a folder, from one ``stat``: a shell glob can pass
    thousands of files, and each used to cost three. (Its Path is made where it is read,
    by the reader process when there is one: 4,700 of them took 15 ms here.)"""
    if not raw.strip():  # an unset shell variable: not the current folder
        raise UsageError("an empty input path: give a file or folder (or - for stdin)")
    path = raw
    try:
        is_dir = stat.S_ISDIR(os.stat(path).st_mode)
    except PermissionError:
        raise InputError(f"permission denied: {raw}") from None
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"input not found: {raw}") from None
    except OSError as exc:  # a symlink loop, a name too long, ...
        raise InputError(f"cannot open input {raw}: {exc.strerror or exc}") from None
    if not os.access(path, os.R_OK) or (is_dir and not os.access(path, os.X_OK)):
        raise InputError(f"permission denied: {raw}")
    return path, is_dir


def _folder_files(
    folder: Path, opts: IngestOptions
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(relative path with ``/``, full path) of the wanted files, sorted, and (folder,
    reason) of the sub-folders that could not be read. Plain strings: the listing comes
    before the first file is read, so a Path per file (3.6 µs) is made only as it is read.
    Linked folders are followed, each real folder once (a link loop ends there)."""
    found: list[tuple[str, str]] = []
    unreadable: list[tuple[str, str]] = []
    seen = {os.path.realpath(folder)}
    skip = set(opts.skip_dirs)

    def walk_error(exc: OSError) -> None:  # one unreadable sub-folder: skipped, reported
        unreadable.append((str(exc.filename), exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=walk_error, followlinks=True):
        kept = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            real = os.path.realpath(os.path.join(dirpath, d))
            if real not in seen and real not in skip:
                seen.add(real)
                kept.append(d)
        dirnames[:] = kept
        # The relative path by string, once per folder: with Path.relative_to per file,
        # 4,700 files took 32-33 ms before the first could be read (now 9-10 ms).
        rel_dir = os.path.relpath(dirpath, folder)
        prefix = "" if rel_dir == os.curdir else rel_dir.replace(os.sep, "/") + "/"
        for name in filenames:
            if name.startswith("."):
                continue
            rel = prefix + name
            if _wanted(rel, opts):
                found.append((rel, os.path.join(dirpath, name)))
    return sorted(found), unreadable



def iter_inputs(inputs: Sequence[str], opts: IngestOptions) -> Iterator[Document | Problem]:
    """Documents and problems from every input, in order: inputs as given, then sorted
    relative paths inside folders, then file order."""
    # stdin is opened here, with the checks, not when its turn comes: the documents may be
    # read in another process (pipeline), which has no stdin of its own. A second "-"
    # finds it used up.
    checked: list[tuple[str, tuple[str, bool] | bytes | str | _StdinLines]] = []
    for raw in inputs:
        if raw != "-":
            checked.append((raw, _check_path(raw)))
        else:
            checked.append((raw, b"" if any(r == "-" for r, _ in checked) else _read_stdin(opts)))
    return _unique_ids(_iter_checked(checked, opts))


# A lone surrogate is not text and cannot be written as UTF-8, yet it gets in: JSON may
# escape one ("\ud800"), and a file name that is not UTF-8 is decoded with them.
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _unique_ids(items: Iterator[Document | Problem]) -> Iterator[Document | Problem]:
    """Give a repeated document id (two folders with the same relative path, a JSONL id
    used twice) a ``~N`` suffix, so every output record traces back to one document.
    Every document leaves ingest here: a lone surrogate in its id or text becomes U+FFFD,
    as an undecodable byte does."""
    seen: set[str] = set()  # every id given out, the suffixed ones too
    suffix: dict[str, int] = {}  # id -> the next suffix to try for it
    bad = _LONE_SURROGATE_RE
    for it in items:
        if isinstance(it, Document):
            if bad.search(it.id) or bad.search(it.text):
                it = dataclasses.replace(
                    it, id=bad.sub("\ufffd", it.id), text=bad.sub("\ufffd", it.text)
                )
            if it.id in seen:  # the first free "~N": a real id may look like one
                n = suffix.get(it.id, 2)
                while f"{it.id}~{n}" in seen:
                    n += 1
                suffix[it.id] = n + 1
                it = dataclasses.replace(it, id=f"{it.id}~{n}")
            seen.add(it.id)
        yield it


def _iter_checked(
    checked: list[tuple[str, tuple[str, bool] | bytes | str | _StdinLines]],
    opts: IngestOptions,
) -> Iterator[Document | Problem]:
    for raw, found in checked:
        if not isinstance(found, tuple):  # stdin's data (_StdinLines is not a tuple)
            yield from _stdin(found, opts)
            continue
        path, is_dir = Path(found[0]), found[1]
        if is_dir:
            files, unreadable = _folder_files(path, opts)
            for where, reason in unreadable:
                yield _problem(where, 0, f"cannot read folder: {reason}", "skipped-file", opts)
            readable = 0
            for rel, full in files:
                try:
                    yield from _file(Path(full), rel, opts)
                    readable += 1
                except _Skip as exc:
                    yield _problem(full, 0, str(exc), "skipped-file", opts)
            if not readable:
                what = "no matching files" if not files else f"{len(files)} file(s) skipped"
                raise InputError(f"no readable .txt/.jsonl files in {raw} ({what})")
        else:
            try:
                yield from _file(path, raw, opts)
            except _Skip as exc:
                if str(exc) == "permission denied":
                    raise InputError(f"permission denied: {raw}") from None
                yield _problem(raw, 0, str(exc), "skipped-file", opts)
