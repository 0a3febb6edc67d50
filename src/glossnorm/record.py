"""Output records of one segment, rendered where the segment is processed.

Rendering is a pure function of the segment, so workers do it and the main process only
decides keep/duplicate and writes bytes: that keeps the serial part of a run small.

Two renderers give the same bytes. ``render_segment`` builds them from the value types
(``normalise_text`` → ``Normalised`` → dicts → JSON): the readable reference, used by
tests. ``SegmentRenderer`` is the pipeline's hot path: it works on the matcher's plain
spans and pastes JSON from pieces cached per glossary form, which is several times
faster on name-dense text. A property test holds the two together byte for byte.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from glossnorm.match import Matcher, Span
from glossnorm.model import Change, Lang
from glossnorm.normalise import Item, Normalised, parenthesised, render_inline, replacements


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


class Rendered(NamedTuple):
    """A kept segment's output: normalised text, corpus.jsonl line, corpus.txt line."""

    text: str
    record: bytes
    line: str
    changed: tuple[str, ...]  # entry id of each change
    glosses: int


class _Form(NamedTuple):
    """What rendering needs of one glossary form, computed on its first mention."""

    target: str | None
    form: str
    entry: str
    renamed: str | None
    paren: str  # the inline gloss, "(label)": the other language's canonical form
    silent: bool  # the mention already reads as its label (NATO in Japanese text)
    gloss_tail: bytes  # the gloss record after "end": ',"entry":…,"en":…,"ja":…}'


class SegmentRenderer:
    """``render_segment(normalise_text(…))`` without the intermediate objects."""

    def __init__(self, matcher: Matcher, inline: bool) -> None:
        self.matcher = matcher
        self.inline = inline
        self._forms: list[_Form | None] = [None] * len(matcher.patterns)
        self._tails: dict[str, bytes] = {}  # entry id -> gloss tail, shared by its forms

    def _form(self, pi: int) -> _Form:
        # From the spec, not the compiled pattern: most forms have no rule to compile.
        form, e, lang, target, _, renamed = self.matcher.patterns.spec(pi)
        label = e.ja if lang is Lang.EN else e.en
        tail = self._tails.get(e.id)
        if tail is None:
            tail = b"," + orjson.dumps({"entry": e.id, "en": e.en, "ja": e.ja})[1:]
            self._tails[e.id] = tail
        shown = target or form
        f = _Form(target, form, e.id, renamed, f"({label})", shown == label, tail)
        self._forms[pi] = f
        return f

    def render(
        self, doc_json: bytes, seg: int, text: str, headline: bool, spans: list[Span] | None = None
    ) -> Rendered:
        """``doc_json``: the document id as JSON (encoded once per document); ``spans``:
        ``matcher.find_spans(text, headline)``, where the caller found them already."""
        if spans is None:
            spans = self.matcher.find_spans(text, headline)
        source_json = orjson.dumps(text)
        head = b'{"doc":%s,"seg":%d,"text":' % (doc_json, seg)
        if not spans:
            record = b"%s%s,\"source_text\":%s,\"changes\":[],\"glosses\":[]}\n" % (
                head,
                source_json,
                source_json,
            )
            return Rendered(text, record, text, (), 0)
        forms = self._forms
        infos = [forms[pi] or self._form(pi) for _, _, pi, _ in spans]
        changes: list[dict[str, Any]] = []
        changed: list[str] = []
        glosses: list[tuple[int, int, _Form]]
        targets = [f.target for f in infos]
        if targets.count(None) == len(targets) and not any([sp[3] for sp in spans]):
            out = text  # only canonical or kept forms: the text stays as it is
            glosses = [(s, e, f) for (s, e, _, _), f in zip(spans, infos, strict=True)]
        else:
            items: list[Item] = [
                (s, e, pre, f.target, f.form)
                for (s, e, _, pre), f in zip(spans, infos, strict=True)
            ]
            glosses = []
            parts: list[str] = []
            pos = shift = 0  # shift: output offset minus source offset
            for (s, e, _, _), f, (rep, lead, tail) in zip(
                spans, infos, replacements(text, items), strict=True
            ):
                os_ = s + shift
                if lead or tail or f.target is not None:
                    parts.append(text[pos:s])
                    parts.append(rep)
                    pos = e
                    shift += len(rep) - (e - s)
                    oe = e + shift
                    ch = {"start": os_, "end": oe, "from": text[s:e], "to": rep, "entry": f.entry}
                    if f.renamed:
                        ch["renamed"] = f.renamed
                    changes.append(ch)
                    changed.append(f.entry)
                    glosses.append((os_ + lead, oe - tail, f))
                else:  # unchanged: copied with the text around it
                    glosses.append((os_, e + shift, f))
            parts.append(text[pos:])
            out = "".join(parts)
        gl = [b'{"start":%d,"end":%d%s' % (s, e, f.gloss_tail) for s, e, f in glosses]
        record = b"".join(
            (
                head,
                source_json if out is text else orjson.dumps(out),
                b',"source_text":',
                source_json,
                b',"changes":',
                orjson.dumps(changes),
                b',"glosses":[',
                b",".join(gl),
                b"]}\n",
            )
        )
        line = self._inline(out, glosses) if self.inline else out
        return Rendered(out, record, line, tuple(changed), len(glosses))

    @staticmethod
    def _inline(text: str, glosses: list[tuple[int, int, _Form]]) -> str:
        """``render_inline`` on the cached labels (a parenthesised mention: no gloss)."""
        parts: list[str] = []
        pos = 0
        skip_until = -1
        for s, e, f in glosses:
            if s < skip_until:
                continue
            paren = f.paren
            if text.startswith(paren, e):
                skip_until = e + len(paren)
                continue
            if f.silent or parenthesised(text, s, e):
                continue
            parts.append(text[pos:e])
            parts.append(paren)
            pos = e
        if not parts:
            return text
        parts.append(text[pos:])
        return "".join(parts)
