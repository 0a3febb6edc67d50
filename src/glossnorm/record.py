"""Output records of one segment, rendered where the segment is processed.

Rendering is a pure function of the segment, so workers do it and the main process only
decides keep/duplicate and writes bytes: that keeps the serial part of a run small.
"""

from __future__ import annotations

from typing import Any

import orjson

from glossnorm.model import Change
from glossnorm.normalise import Normalised, render_inline


def jsonl(obj: Any) -> bytes:
    """One JSONL line (orjson: these records are most of the output bytes)."""
    return orjson.dumps(obj) + b"\n"


def kept_record(doc: str, seg: int, n: Normalised) -> dict[str, Any]:
    """The corpus.jsonl record; offsets are half-open offsets into ``text``."""
    return {
        "doc": doc,
        "seg": seg,
        "text": n.text,
        "source_text": n.source_text,
        "changes": [_change(c) for c in n.changes],
        "glosses": [
            {"start": s, "end": e, "entry": en, "en": g_en, "ja": g_ja}
            for s, e, en, g_en, g_ja, _ in n.glosses
        ],
    }


def _change(c: Change) -> dict[str, Any]:
    d: dict[str, Any] = {
        "start": c.start,
        "end": c.end,
        "from": c.source,
        "to": c.target,
        "entry": c.entry,
    }
    if c.renamed:  # provenance of an official rename: the old form was correct until then
        d["renamed"] = c.renamed
    return d


def render_segment(doc: str, seg: int, n: Normalised, inline: bool) -> tuple[bytes, str]:
    """(corpus.jsonl line, corpus.txt line) of a kept segment."""
    line = render_inline(n.text, n.glosses) if inline else n.text
    return jsonl(kept_record(doc, seg, n)), line
