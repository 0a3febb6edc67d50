"""Run the stages in order: ingest → clean → segment → boilerplate → normalise → dedup → write.

Everything up to the dedup fingerprint is a pure function of one document (plus the loaded
glossary and rules), so it runs in worker processes; dedup decisions and writing happen in
the main process in input order. The output is therefore byte-identical whatever the
number of workers, and only a bounded window of documents is in flight at any time.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from typing import NamedTuple, cast

import orjson

from glossnorm.boilerplate import BoilerplateRules
from glossnorm.clean import clean_text
from glossnorm.dedup import (
    DedupConfig,
    DedupIndex,
    DocDup,
    DupHit,
    Fingerprint,
    fingerprints,
)
from glossnorm.glossary import Glossary
from glossnorm.ingest import IngestOptions, Problem, iter_inputs
from glossnorm.match import Matcher
from glossnorm.model import Document
from glossnorm.record import Rendered, SegmentRenderer
from glossnorm.segment import is_headline, split_segments

DROP_BAD_RECORD = "bad-record"
WINDOW_PER_WORKER = 8  # chunks in flight per worker: enough to hide latency, bounded memory
CHUNK_CHARS = 200_000  # documents are shipped to workers in chunks of about this many chars
# A document longer than this is cleaned and cut by one worker, and its segments are then
# shared out in parts of CHUNK_CHARS: otherwise one worker processes a one-file corpus
# while the others wait (20 MB in one file: 2 workers 5.1 s, 1 worker 3.9 s). Shorter
# documents go whole (the round trip costs more than it saves). With one worker a long
# document is processed in the same parts; either way its parts are accounted and
# written one by one (a 20 MB file held whole peaked at ~570 MiB).
LONG_DOC_CHARS = 1_000_000
MAX_NOTES = 1000  # cleaning notes kept for summary.json (all are counted)
RUN_GC_THRESHOLD = 50_000  # allocations between two young-generation collections in a run
# Workers run this much nicer than the main process, whose accounting, near dedup and
# writing are the run's serial part: N workers and the main process share N cores, and a
# main process that waits for a core holds up every worker behind it. Near dedup on 20 MB
# with 2 workers: wall time minus the main process's CPU time 0.8 -> 0.35 s.
WORKER_NICE = 10


def default_workers() -> int:
    """The CPUs this process may run on: its affinity mask (which ``taskset``, cpusets and
    batch schedulers narrow), not every CPU of the host."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity call on this platform (macOS, Windows)
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Options:
    ingest: IngestOptions = field(default_factory=IngestOptions)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    keep_boilerplate: bool = False
    boilerplate_files: tuple[str, ...] = ()
    gloss_inline: bool = True
    workers: int = 1


# One segment after the per-document stages: (index, bytes of its corpus.jsonl line in
# DocResult.records, entry id of each change, glosses, drop reason or None, fingerprint).
# Plain tuples, not NamedTuples, down to the fingerprint's fields: one per segment crosses
# the process boundary, and a NamedTuple pickles 4x slower each way (Fingerprint: 0.06 s
# per 20 MB in the workers and 0.05 s in the main process, measured).
FingerprintRow = tuple[bytes, "bytes | None", "bytes | None", int, "bytes | None"]
SegmentResult = tuple[int, int, tuple[str, ...], int, "str | None", "FingerprintRow | None"]


class DocResult(NamedTuple):  # one per document: its pickling cost (unlike a segment's) is noise
    """A document's segments; the output lines of its content segments travel joined
    (two bytes per document), since nearly all of them are kept. Both are UTF-8 already:
    the worker encodes, and the main process only writes them.

    A long document comes as several results, one per part of whole segments (see
    LONG_DOC_CHARS), accounted and written one after the other, so that its output is
    never held whole: the first carries the cleaning counts, the last closes it."""

    segments: tuple[SegmentResult, ...]
    clean_steps: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    records: bytes = b""  # corpus.jsonl lines of the content segments, in order
    lines: bytes = b""  # their corpus.txt lines, joined with "\n"
    first: bool = True  # the first (or only) part of its document
    last: bool = True  # the last (or only) part of its document


class Kept(NamedTuple):
    """The kept segments of one document (or of one part of a long one): corpus.jsonl
    lines and corpus.txt lines."""

    doc: str
    records: bytes
    lines: bytes  # joined with "\n"


class Duplicate(NamedTuple):
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
    notes_total: int = 0
    encodings: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    document_duplicates: int = 0

    def balanced(self) -> bool:
        total = self.segments_kept + self.duplicates + sum(self.dropped.values())
        return self.segments_in == total


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class Stage:
    """Everything a worker needs; built once per process."""

    renderer: SegmentRenderer
    rules: BoilerplateRules | None
    dedup: DedupConfig


_STAGE: Stage | None = None


def _init_worker(glossary: Glossary | None, opts: Options) -> None:
    global _STAGE
    # A forked worker inherits the command's SIGTERM handler (cli._app), which unwinds the
    # main process; a worker just stops, and the main process stops the others.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(os, "nice"):  # (POSIX only)
        os.nice(WORKER_NICE)
    if glossary is not None:  # spawned: build the stage here (forked workers inherit it)
        _STAGE = _frozen_stage(glossary, opts)


def make_stage(glossary: Glossary, opts: Options) -> Stage:
    rules = None if opts.keep_boilerplate else BoilerplateRules.load(opts.boilerplate_files)
    return Stage(SegmentRenderer(Matcher(glossary), opts.gloss_inline), rules, opts.dedup)


def _frozen_stage(glossary: Glossary, opts: Options) -> Stage:
    """The stage for a run. Its glossary and automaton live as long as the run, so they
    are moved out of the GC's sight: collections stop rescanning them, and forked workers
    stop touching (copying) their pages. ``iter_results`` unfreezes at the end."""
    stage = make_stage(glossary, opts)
    gc.freeze()
    return stage


def process_document(stage: Stage, doc_id: str, text: str) -> DocResult:
    """The pure per-document part of the pipeline: clean → segment → boilerplate →
    normalise → render → fingerprint. It reads nothing of a document but its id and text,
    and only those cross the pipe to a worker (a frozen dataclass pickles 2-3x slower:
    0.077 s against 0.036 s per 20 MB, most of it in the main process)."""
    steps, notes, (segs,) = document_parts(doc_id, text, sys.maxsize, stage.rules)  # one part
    return part_result(steps, notes, process_segments(stage, doc_id, segs), 0, 1)


SegmentItem = tuple[int, str, bool]  # (index in the document, text, headline)


class Part(NamedTuple):
    """Some consecutive segments of a document after boilerplate → render → fingerprint."""

    segments: tuple[SegmentResult, ...]
    records: bytes  # corpus.jsonl lines of the content segments, in order
    lines: bytes  # their corpus.txt lines, joined with "\n"


def process_segments(stage: Stage, doc_id: str, segs: Sequence[SegmentItem]) -> Part:
    """Boilerplate → normalise → render → fingerprint, segment by segment: a pure
    function of each segment, so a document may be cut into parts anywhere."""
    rules = stage.rules
    render = stage.renderer.render
    doc_json = orjson.dumps(doc_id)
    dropped: list[tuple[int, str]] = []
    content: list[tuple[int, Rendered]] = []
    for index, text, headline in segs:
        reason = rules.match(text) if rules is not None else None
        if reason is not None:
            dropped.append((index, f"boilerplate:{reason}"))
            continue
        # Judged as the next run will judge the output (see also document_parts): a
        # segment that its rewrites make short is a headline.
        rendered = render(doc_json, index, text, headline)
        if not headline and is_headline(rendered.text):
            rendered = render(doc_json, index, text, True)
        content.append((index, rendered))
    fps: list[FingerprintRow | None] = [None] * len(content)
    if stage.dedup.mode != "off" and content:
        # One numpy pass for all the segments instead of one per segment.
        rows = [tuple(fp) for fp in fingerprints([r.text for _, r in content], stage.dedup)]
        fps = cast("list[FingerprintRow | None]", rows)
    out: list[SegmentResult] = [(i, 0, (), 0, reason, None) for i, reason in dropped]
    out.extend(
        (i, len(r.record), r.changed, r.glosses, None, fp)
        for (i, r), fp in zip(content, fps, strict=True)
    )
    if dropped:
        out.sort()  # segment indexes are unique: the sort never compares further
    records = b"".join([r.record for _, r in content])
    # The lines as UTF-8 here, in the worker: sent as str, the main process would decode
    # them from the pickle and encode them again to write them.
    return Part(tuple(out), records, "\n".join([r.line for _, r in content]).encode("utf-8"))


def part_result(
    clean_steps: tuple[tuple[str, int], ...],
    notes: tuple[str, ...],
    part: Part,
    i: int,
    n: int,
) -> DocResult:
    """The result of part ``i`` of ``n`` of a document (the cleaning goes with the first)."""
    if i:
        clean_steps, notes = (), ()
    return DocResult(
        part.segments, clean_steps, notes, part.records, part.lines, i == 0, i == n - 1
    )


class Cut(NamedTuple):
    """A long document cleaned and cut into runs of whole segments."""

    clean_steps: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    parts: list[list[SegmentItem]]


def document_parts(
    doc_id: str, text: str, part_chars: int, rules: BoilerplateRules | None
) -> Cut:
    """A document cleaned and cut into runs of whole segments of about ``part_chars``
    characters, so that several workers can share a long one. The first segment that is
    not boilerplate (``rules``) is marked a headline, as the next run over the output,
    where the boilerplate is gone, would see it (here, where all parts are seen)."""
    cleaned = clean_text(text)
    parts: list[list[SegmentItem]] = [[]]
    size = 0
    heading = True  # no content segment yet
    for s in split_segments(doc_id, cleaned.text):
        headline = s.headline
        if heading and (rules is None or rules.match(s.text) is None):
            headline, heading = True, False
        if size >= part_chars:
            parts.append([])
            size = 0
        parts[-1].append((s.index, s.text, headline))
        size += len(s.text)
    return Cut(cleaned.steps, cleaned.notes, parts)


def _process_chunk(docs: Sequence[tuple[str, str]]) -> list[DocResult]:
    assert _STAGE is not None, "worker not initialised"
    return [process_document(_STAGE, doc_id, text) for doc_id, text in docs]


def _cut_document(doc_id: str, text: str) -> Cut:
    assert _STAGE is not None, "worker not initialised"
    return document_parts(doc_id, text, CHUNK_CHARS, _STAGE.rules)


def _process_part(doc_id: str, segs: Sequence[SegmentItem]) -> Part:
    assert _STAGE is not None, "worker not initialised"
    return process_segments(_STAGE, doc_id, segs)


# --------------------------------------------------------------------------- main side


def _is_long(it: Document | Problem) -> bool:
    return isinstance(it, Document) and len(it.text) > LONG_DOC_CHARS


def _chunks(items: Iterable[Document | Problem]) -> Iterator[list[Document | Problem]]:
    """Documents in chunks of about CHUNK_CHARS characters; a long document alone."""
    chunk: list[Document | Problem] = []
    size = 0
    for it in items:
        if _is_long(it):
            if chunk:
                yield chunk
            yield [it]
            chunk, size = [], 0
            continue
        chunk.append(it)
        if isinstance(it, Document):
            size += len(it.text)
        if size >= CHUNK_CHARS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def iter_results(
    inputs: Sequence[str], glossary: Glossary, opts: Options
) -> Iterator[tuple[Document, DocResult] | Problem]:
    """Per-document results in input order, computed by ``opts.workers`` processes."""
    # A run allocates millions of short-lived tuples and keeps growing dicts of them (the
    # dedup index): the default collector thresholds make it rescan those again and again.
    # Rarer collections (forked workers inherit the setting) still catch any cycle.
    thresholds = gc.get_threshold()
    gc.set_threshold(RUN_GC_THRESHOLD, 20, 100)
    try:
        if opts.workers <= 1:
            stage = _frozen_stage(glossary, opts)
            for it in iter_inputs(inputs, opts.ingest):
                if isinstance(it, Problem):
                    yield it
                elif _is_long(it):
                    for res in _long_results(stage, it):
                        yield it, res
                else:
                    yield it, process_document(stage, it.id, it.text)
        else:
            yield from _iter_parallel(inputs, glossary, opts)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _iter_parallel(
    inputs: Sequence[str], glossary: Glossary, opts: Options
) -> Iterator[tuple[Document, DocResult] | Problem]:
    # Where fork exists, the workers inherit the stage (automaton, rules) built once here;
    # elsewhere each worker builds its own from the glossary.
    global _STAGE
    fork = "fork" in multiprocessing.get_all_start_methods()
    if fork:
        _STAGE = _frozen_stage(glossary, opts)
    ctx = multiprocessing.get_context("fork" if fork else "spawn")
    try:
        with ProcessPoolExecutor(
            max_workers=opts.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(None if fork else glossary, opts),
        ) as pool:
            # A bounded window of chunks in flight: memory stays flat whatever the corpus.
            window: deque[tuple[list[Document | Problem], _InFlight]] = deque()
            chunks = _chunks(iter_inputs(inputs, opts.ingest))
            limit = opts.workers * WINDOW_PER_WORKER
            try:
                while True:
                    while len(window) < limit and (chunk := next(chunks, None)) is not None:
                        window.append((chunk, _submit(pool, chunk)))
                    for _, flight in window:  # long documents cut since: share them out
                        if isinstance(flight, _LongDoc) and flight.is_cut():
                            flight.share_out(pool)
                    if not window:
                        break
                    chunk, flight = window.popleft()
                    if isinstance(flight, _LongDoc):
                        (doc,) = chunk
                        assert isinstance(doc, Document)
                        for res in flight.results(pool):
                            yield doc, res
                        continue
                    results = iter(flight.result())
                    for it in chunk:
                        yield it if isinstance(it, Problem) else (it, next(results))
            except BaseException:  # a failure, or the consumer stopped: drop queued work
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        _STAGE = None


def _long_results(stage: Stage, doc: Document) -> Iterator[DocResult]:
    """A long document's results part by part, in this process (see LONG_DOC_CHARS)."""
    steps, notes, parts = document_parts(doc.id, doc.text, CHUNK_CHARS, stage.rules)
    for i in range(len(parts)):
        segs, parts[i] = parts[i], []  # each part's texts go once they are done
        yield part_result(steps, notes, process_segments(stage, doc.id, segs), i, len(parts))


class _LongDoc:
    """A long document in flight: one worker cleans and cuts it, then its parts are shared
    out among all of them (see LONG_DOC_CHARS)."""

    def __init__(self, doc_id: str, cut: Future[Cut]) -> None:
        self.doc_id = doc_id
        self.cut: Future[Cut] | None = cut  # dropped once shared out: it holds the text
        self.clean: tuple[tuple[tuple[str, int], ...], tuple[str, ...]] = ((), ())
        self.parts: deque[Future[Part]] = deque()

    def is_cut(self) -> bool:
        return self.cut is not None and self.cut.done()

    def share_out(self, pool: ProcessPoolExecutor) -> None:
        if self.cut is not None:
            steps, notes, parts = self.cut.result()
            self.cut = None
            self.clean = (steps, notes)
            self.parts.extend(pool.submit(_process_part, self.doc_id, part) for part in parts)

    def results(self, pool: ProcessPoolExecutor) -> Iterator[DocResult]:
        """The parts' results in order, each dropped here once it is handed on."""
        self.share_out(pool)
        n = len(self.parts)
        for i in range(n):
            yield part_result(*self.clean, self.parts.popleft().result(), i, n)


_InFlight = Future[list[DocResult]] | _LongDoc  # a chunk's results, or a long document


def _submit(pool: ProcessPoolExecutor, chunk: list[Document | Problem]) -> _InFlight:
    """Send a chunk to the workers; a long document goes alone, to be cut first."""
    if len(chunk) == 1 and _is_long(doc := chunk[0]):
        assert isinstance(doc, Document)
        return _LongDoc(doc.id, pool.submit(_cut_document, doc.id, doc.text))
    return pool.submit(_process_chunk, [(d.id, d.text) for d in chunk if isinstance(d, Document)])


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
            doc, result = res
            yield doc, _account(doc, result, stats, index)
            if progress is not None and result.last:
                progress(len(doc.text))

    return events(), stats, index


def _cut(
    out: list[Event], res: DocResult, dup_at: list[int]
) -> tuple[list[Event], bytes, bytes]:
    """The kept part of a document's joined lines, and its Duplicate events with their
    text (taken from the record: the worker does not ship it twice)."""
    ends = list(accumulate(size for _, size, _, _, why, _ in res.segments if why is None))
    records = [res.records[a:b] for a, b in pairwise([0, *ends])]
    lines = res.lines.split(b"\n")
    dup = set(dup_at)
    texts = iter([orjson.loads(records[i])["text"] for i in dup_at])
    events: list[Event] = [
        ev._replace(text=next(texts)) if isinstance(ev, Duplicate) else ev for ev in out
    ]
    keep = [i for i in range(len(records)) if i not in dup]
    return (
        events,
        b"".join([records[i] for i in keep]),
        b"\n".join([lines[i] for i in keep]),
    )


def _account(doc: Document, res: DocResult, stats: Stats, index: DedupIndex) -> list[Event]:
    """A document's (or part's) totals and events; its dedup verdicts, in order (a
    document's parts are checked one after the other, which gives the same verdicts)."""
    if res.first:
        stats.documents += 1
        stats.encodings[doc.encoding] += 1
    for name, n in res.clean_steps:
        if name not in stats.clean_steps:
            stats.clean_order.append(name)
        stats.clean_steps[name] += n
    stats.notes_total += len(res.notes)
    room = MAX_NOTES - len(stats.notes)
    if room > 0:  # memory must not grow with the corpus: keep the first notes, count all
        stats.notes.extend(f"{doc.id}: {n}" for n in res.notes[:room])
    out: list[Event] = []
    dedup_on = index.cfg.mode != "off"
    doc_id = doc.id
    kept = glosses = 0
    changed: list[str] = []
    make = Fingerprint._make
    checked = [
        (i, make(fp)) for i, _, _, _, why, fp in res.segments if why is None and fp is not None
    ]
    verdicts = iter(index.check_document(doc_id, checked) if dedup_on and checked else ())
    dup_at: list[int] = []  # positions among the content segments
    content = 0
    for seg, _, seg_changed, seg_glosses, why, fp in res.segments:
        if why is not None:
            stats.dropped[why] += 1
            out.append((doc_id, seg, why))
            continue
        content += 1
        hit = next(verdicts) if dedup_on and fp is not None else None
        if hit is not None:
            stats.duplicates += 1
            dup_at.append(content - 1)
            out.append(Duplicate(doc_id, seg, "", hit))  # text filled in below
            continue
        kept += 1
        glosses += seg_glosses
        changed += seg_changed
    if dup_at:  # cut the duplicates out of the joined lines (rare)
        out, records, lines = _cut(out, res, dup_at)
    else:
        records, lines = res.records, res.lines
    if kept:
        out.append(Kept(doc_id, records, lines))
    stats.segments_in += len(res.segments)
    stats.segments_kept += kept
    stats.changes += len(changed)
    stats.changes_by_entry.update(changed)
    stats.glosses += glosses
    if dedup_on and res.last:
        dd = index.end_document(doc.id)
        if dd is not None:
            stats.document_duplicates += 1
            out.append(dd)
    return out
