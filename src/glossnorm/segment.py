"""Cut a cleaned document into segments: the unit of matching, dedup and accounting.

A segment is one non-blank line (a paragraph in news text). Sudachi refuses input over
49,149 bytes, and scraped pages sometimes arrive as one enormous line, so a line longer
than ``MAX_SEGMENT_BYTES`` of UTF-8 is cut at sentence ends (。！？!? and ". "), packing
whole sentences into pieces; a sentence that is still too long is cut at the last space
or comma before the limit, or else between two characters that are not a combining
sequence. Every piece is at most ``MAX_SEGMENT_BYTES``.
"""

from __future__ import annotations

import re
import unicodedata

from glossnorm.model import Segment

MAX_SEGMENT_BYTES = 16_000  # well under Sudachi's 49,149-byte limit
HEADLINE_MAX_CHARS = 60
# Marks that may follow one base character before a cut goes between them anyway (a line of
# 40,000 combining marks was cut into 32,000 one-mark segments, in quadratic time).
MAX_COMBINING_RUN = 64

_SENTENCE_END_RE = re.compile(r"[。！？!?]+[」』)\]]*|\. ")
_SOFT_BREAK = " 、,，・;；:"


def is_headline(line: str) -> bool:
    """Short, and not a sentence: no 。 anywhere."""
    return len(line) <= HEADLINE_MAX_CHARS and "。" not in line


def _joins_previous(ch: str) -> bool:
    # combining marks, ZWJ, variation selectors and skin-tone modifiers belong to the
    # character before them: never cut in front of one
    return (
        unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me")
        or ch in "\u200d\u3099\u309a"
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
    )


def _prefix_chars(text: str, max_bytes: int) -> int:
    """The largest number of leading characters that fit in ``max_bytes`` of UTF-8."""
    return len(text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore"))


def _hard_split(text: str, max_bytes: int) -> list[str]:
    pieces: list[str] = []
    while len(text.encode("utf-8")) > max_bytes:
        cut = _prefix_chars(text, max_bytes)
        window = text[max(1, cut - 200) : cut]
        soft = max(window.rfind(ch) for ch in _SOFT_BREAK)
        if soft >= 0:
            cut = max(1, cut - 200) + soft + 1
        else:  # before the character that starts the combining sequence at the cut
            back, floor = cut, max(1, cut - MAX_COMBINING_RUN)
            while back > floor and _joins_previous(text[back]):
                back -= 1
            if not _joins_previous(text[back]):
                cut = back  # (a longer run is no character: it is cut where it is)
        head, text = text[:cut].strip(), text[cut:].strip()
        if head:
            pieces.append(head)
    if text:
        pieces.append(text)
    return pieces


def split_long_line(line: str, max_bytes: int = MAX_SEGMENT_BYTES) -> list[str]:
    """Pieces of ``line``, each at most ``max_bytes`` of UTF-8, cut at sentence ends."""
    if len(line.encode("utf-8")) <= max_bytes:
        return [line]
    sentences: list[str] = []
    last = 0
    for m in _SENTENCE_END_RE.finditer(line):
        sentences.append(line[last : m.end()])
        last = m.end()
    if last < len(line):
        sentences.append(line[last:])
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        n = len(sentence.encode("utf-8"))
        if current and size + n > max_bytes:
            pieces.append("".join(current).strip())
            current, size = [], 0
        if n > max_bytes:
            pieces.extend(_hard_split(sentence.strip(), max_bytes))
            continue
        current.append(sentence)
        size += n
    if current:
        pieces.append("".join(current).strip())
    return [p for p in pieces if p]


def split_segments(doc_id: str, text: str, start: int = 0) -> list[Segment]:
    """Segments of a cleaned document: non-blank lines, long ones cut (module docstring).
    ``start``: the index of the first, where ``text`` is a later piece of the document.

    ``headline`` is set on the first segment and on short segments that are not
    sentences. (The pipeline also sets it on the first segment after dropped boilerplate,
    ``pipeline.document_parts``, and where rewriting makes a segment short,
    ``pipeline.process_segments``.)
    """
    segments: list[Segment] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        pieces = split_long_line(line)
        for piece in pieces:
            index = start + len(segments)
            headline = not index or is_headline(piece)  # (as it will be a line of output)
            segments.append(Segment(doc_id, index, piece, headline))
    return segments
