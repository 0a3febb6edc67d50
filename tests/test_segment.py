"""Segmentation: lines, headlines, and the Sudachi byte limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm.segment import MAX_SEGMENT_BYTES, split_long_line, split_segments


def test_lines_become_segments() -> None:
    segs = split_segments(
        "d", "見出しの行\n\n  本文です。続きです。\n短い行\n長くないが句点がある。\n"
    )
    assert [(s.index, s.text, s.headline) for s in segs] == [
        (0, "見出しの行", True),
        (1, "本文です。続きです。", False),
        (2, "短い行", True),
        (3, "長くないが句点がある。", False),
    ]
    assert all(s.doc == "d" for s in segs)


def test_first_segment_is_headline_even_if_sentence() -> None:
    assert split_segments("d", "文です。\n次も文です。")[0].headline


def test_long_short_line_is_not_headline() -> None:
    assert not split_segments("d", "x\n" + "あ" * 61)[1].headline


def test_empty_text() -> None:
    assert split_segments("d", "") == [] and split_segments("d", " \n\n") == []


def test_one_megabyte_single_line() -> None:
    sentence = "ロシア外務省は会談の結果について声明を発表した。"
    line = sentence * (1_000_000 // len(sentence.encode()))
    segs = split_segments("big", line)
    assert all(len(s.text.encode()) <= MAX_SEGMENT_BYTES for s in segs)
    assert "".join(s.text for s in segs) == line
    assert all(s.text.endswith("。") for s in segs)
    assert [s.index for s in segs] == list(range(len(segs)))


def test_one_megabyte_without_sentence_ends() -> None:
    line = "あ" * 400_000
    segs = split_segments("big", line)
    assert all(len(s.text.encode()) <= MAX_SEGMENT_BYTES for s in segs)
    assert "".join(s.text for s in segs) == line


def test_hard_split_prefers_spaces_and_keeps_combining_marks() -> None:
    words = " ".join(["word"] * 10)
    assert split_long_line(words, 12) == [
        "word word",
        "word word",
        "word word",
        "word word",
        "word word",
    ]
    text = "か\u3099" * 10  # never cut between a kana and its voicing mark
    pieces = split_long_line(text, 7)
    assert all(not p.startswith("\u3099") for p in pieces) and "".join(pieces) == text


def test_a_run_of_combining_marks_is_cut_into_full_pieces() -> None:
    line = "a" + "\u0301" * 40_000  # 80 KB of one "character"
    pieces = split_long_line(line)
    assert "".join(pieces) == line
    assert all(len(p.encode()) <= MAX_SEGMENT_BYTES for p in pieces)
    assert len(pieces) == 6  # full pieces (it was 32,001, one mark each after the first)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("あア漢a 。!?.、\u3099😀")), max_size=300),
    st.integers(min_value=8, max_value=64),
)
def test_pieces_never_exceed_limit(text: str, limit: int) -> None:
    pieces = split_long_line(text.strip(), limit)
    assert all(len(p.encode()) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("text", ["。。。", "!!!", ". . .", "\u3099", "😀"])
def test_odd_lines(text: str) -> None:
    assert split_segments("d", text)[0].text == text
