"""Run the stages in order: ingest → clean → segment → boilerplate → normalise → dedup → write.

Everything up to the dedup fingerprint is a pure function of one document (plus the loaded
glossary and rules), so it runs in worker processes; dedup decisions and writing happen in
the main process in input order. The output is therefore byte-identical whatever the
number of workers, and only a bounded window of documents is in flight at any time.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from glossnorm.boilerplate import BoilerplateRules
from glossnorm.clean import clean_text
from glossnorm.dedup import DedupConfig, DedupIndex, DocDup, DupHit, Fingerprint, fingerprint
from glossnorm.glossary import Glossary
from glossnorm.ingest import IngestOptions, Problem, iter_inputs
from glossnorm.match import Matcher
from glossnorm.model import Document
from glossnorm.normalise import Normalised, normalise_text
from glossnorm.segment import split_segments

DROP_BAD_RECORD = "bad-record"
WINDOW_PER_WORKER = 8  # chunks in flight per worker: enough to hide latency, bounded memory
CHUNK_CHARS = 200_000  # documents are shipped to workers in chunks of about this many chars


@dataclass(frozen=True)
class Options:
    ingest: IngestOptions = field(default_factory=IngestOptions)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    keep_boilerplate: bool = False
    boilerplate_files: tuple[str, ...] = ()
    workers: int = 1


@dataclass(frozen=True, slots=True)
class SegmentResult:
    index: int
    norm: Normalised | None  # None when dropped
    dropped: str | None  # reason
    fp: Fingerprint | None


@dataclass(frozen=True, slots=True)
class DocResult:
    doc: Document
    segments: tuple[SegmentResult, ...]
    clean_steps: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Kept:
    doc: str
    seg: int
    norm: Normalised


@dataclass(frozen=True, slots=True)
class Duplicate:
    doc: str
    seg: int
    text: str
    hit: DupHit


@dataclass
class Stats:
    """Running totals for summary.json."""

    documents: int = 0
    segments_in: int = 0
    segments_kept: int = 0
    duplicates: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    changes: int = 0
    changes_by_entry: Counter[str] = field(default_factory=Counter)
    glosses: int = 0
    clean_steps: Counter[str] = field(default_factory=Counter)
    clean_order: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encodings: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    document_duplicates: int = 0
    chars_in: int = 0

    def balanced(self) -> bool:
        total = self.segments_kept + self.duplicates + sum(self.dropped.values())
        return self.segments_in == total


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class Stage:
    """Everything a worker needs; built once per process."""

    matcher: Matcher
    rules: BoilerplateRules | None
    dedup: DedupConfig


_STAGE: Stage | None = None


def _init_worker(glossary: Glossary, opts: Options) -> None:
    global _STAGE
    _STAGE = make_stage(glossary, opts)


def make_stage(glossary: Glossary, opts: Options) -> Stage:
    rules = None if opts.keep_boilerplate else BoilerplateRules.load(opts.boilerplate_files)
    return Stage(Matcher(glossary), rules, opts.dedup)


def process_document(stage: Stage, doc: Document) -> DocResult:
    """The pure per-document part of the pipeline."""
    cleaned = clean_text(doc.text)
    out: list[SegmentResult] = []
    use_fp = stage.dedup.mode != "off"
    for seg in split_segments(doc.id, cleaned.text):
        reason = stage.rules.match(seg.text) if stage.rules is not None else None
        if reason is not None:
            out.append(SegmentResult(seg.index, None, f"boilerplate:{reason}", None))
            continue
        norm = normalise_text(stage.matcher, seg.text, seg.headline)
        fp = fingerprint(norm.text, stage.dedup) if use_fp else None
        out.append(SegmentResult(seg.index, norm, None, fp))
    return DocResult(doc, tuple(out), cleaned.steps, cleaned.notes)


def _process_chunk(docs: Sequence[Document]) -> list[DocResult]:
    assert _STAGE is not None, "worker not initialised"
    return [process_document(_STAGE, d) for d in docs]


# --------------------------------------------------------------------------- main side


def _chunks(items: Iterable[Document | Problem]) -> Iterator[list[Document | Problem]]:
    chunk: list[Document | Problem] = []
    size = 0
    for it in items:
        chunk.append(it)
        if isinstance(it, Document):
            size += len(it.text)
        if size >= CHUNK_CHARS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _run_chunk(stage: Stage | None, chunk: list[Document | Problem]) -> list[DocResult | Problem]:
    docs = [d for d in chunk if isinstance(d, Document)]
    results = iter(
        _process_chunk(docs) if stage is None else [process_document(stage, d) for d in docs]
    )
    return [it if isinstance(it, Problem) else next(results) for it in chunk]


def iter_results(
    inputs: Sequence[str], glossary: Glossary, opts: Options
) -> Iterator[DocResult | Problem]:
    """Per-document results in input order, computed by ``opts.workers`` processes."""
    items = iter_inputs(inputs, opts.ingest)
    if opts.workers <= 1:
        stage = make_stage(glossary, opts)
        for chunk in _chunks(items):
            yield from _run_chunk(stage, chunk)
        return
    with ProcessPoolExecutor(
        max_workers=opts.workers, initializer=_init_worker, initargs=(glossary, opts)
    ) as pool:
        window: list[tuple[list[Document | Problem], Future[list[DocResult]]]] = []
        chunks = _chunks(items)
        limit = opts.workers * WINDOW_PER_WORKER
        exhausted = False
        while window or not exhausted:
            while not exhausted and len(window) < limit:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    exhausted = True
                    break
                docs = [d for d in chunk if isinstance(d, Document)]
                window.append((chunk, pool.submit(_process_chunk, docs)))
            if not window:
                break
            chunk, fut = window.pop(0)
            results = iter(fut.result())
            for it in chunk:
                yield it if isinstance(it, Problem) else next(results)


Event = Kept | Duplicate | tuple[str, int, str] | DocDup  # (doc, seg, reason) = dropped


def run(
    inputs: Sequence[str],
    glossary: Glossary,
    opts: Options,
    index_path: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Iterator[tuple[Document | None, list[Event]]], Stats, DedupIndex]:
    """Stream (document, events) pairs; ``stats`` fills in as the stream is consumed.

    The caller must consume the iterator and then call ``index.commit()``/``close()``.
    """
    stats = Stats()
    index = DedupIndex(opts.dedup, index_path)

    def events() -> Iterator[tuple[Document | None, list[Event]]]:
        for res in iter_results(inputs, glossary, opts):
            if isinstance(res, Problem):
                stats.problems.append(res)
                if res.kind == "bad-record":
                    stats.segments_in += 1
                    stats.dropped[DROP_BAD_RECORD] += 1
                continue
            yield res.doc, _account(res, stats, index)
            if progress is not None:
                progress(len(res.doc.text))

    return events(), stats, index


def _account(res: DocResult, stats: Stats, index: DedupIndex) -> list[Event]:
    doc = res.doc
    stats.documents += 1
    stats.chars_in += len(doc.text)
    stats.encodings[doc.encoding] += 1
    for name, n in res.clean_steps:
        if name not in stats.clean_steps:
            stats.clean_order.append(name)
        stats.clean_steps[name] += n
    stats.notes.extend(f"{doc.id}: {n}" for n in res.notes)
    out: list[Event] = []
    dedup_on = index.cfg.mode != "off"
    for sr in res.segments:
        stats.segments_in += 1
        if sr.norm is None:
            reason = sr.dropped or "dropped"
            stats.dropped[reason] += 1
            out.append((doc.id, sr.index, reason))
            continue
        hit = index.check(doc.id, sr.index, sr.fp) if dedup_on and sr.fp is not None else None
        if hit is not None:
            stats.duplicates += 1
            out.append(Duplicate(doc.id, sr.index, sr.norm.text, hit))
            continue
        stats.segments_kept += 1
        stats.changes += len(sr.norm.changes)
        stats.glosses += len(sr.norm.glosses)
        for c in sr.norm.changes:
            stats.changes_by_entry[c.entry] += 1
        out.append(Kept(doc.id, sr.index, sr.norm))
    if dedup_on:
        dd = index.end_document(doc.id)
        if dd is not None:
            stats.document_duplicates += 1
            out.append(dd)
    return out


def input_paths(inputs: Sequence[str]) -> list[Path]:
    return [Path(p) for p in inputs if p != "-"]
