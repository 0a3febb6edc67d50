"""Run the stages in order: ingest → clean → segment → boilerplate → normalise → dedup → write.

Everything up to the dedup fingerprint is a pure function of one document (plus the loaded
glossary and rules), so it runs in worker processes; dedup decisions and writing happen in
the main process in input order. The output is therefore byte-identical whatever the
number of workers, and only a bounded window of documents is in flight at any time.
With several workers, reading, cleaning and cutting (which need no glossary) run in a
reader process from the start, while the main process loads the glossary (``Feed``).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import accumulate, pairwise
from multiprocessing.connection import Connection
from typing import NamedTuple, cast

import orjson

from glossnorm.boilerplate import BoilerplateRules
from glossnorm.clean import clean_stream, clean_text, lf_pieces
from glossnorm.compiled import CompiledGlossary
from glossnorm.dedup import (
    DedupConfig,
    DedupIndex,
    DocDup,
    DupHit,
    Fingerprint,
    FingerprintRow,
    fingerprint_rows,
)
from glossnorm.errors import GlossnormError
from glossnorm.glossary import Glossary
from glossnorm.ingest import IngestOptions, Problem, iter_inputs, text_pieces
from glossnorm.match import Matcher, Span
from glossnorm.model import Document
from glossnorm.record import Rendered, SegmentRenderer
from glossnorm.segment import is_headline, split_segments

DROP_BAD_RECORD = "bad-record"
WINDOW_PER_WORKER = 8  # chunks in flight per worker: enough to hide latency, bounded memory
CHUNK_CHARS = 200_000  # documents are shipped to workers in chunks of about this many chars
# A document longer than this is cleaned and cut where it is read, a piece at a time
# (document_cuts), and its segments are shared out in parts of CHUNK_CHARS as each piece
# is done: otherwise one worker processes a one-file corpus while the others wait (20 MB
# in one file: 2 workers 5.1 s, 1 worker 3.9 s), or wait for the whole file to be cleaned
# (2.2 s against 1.8 s). Shorter documents go whole (the round trip costs more than it
# saves). With one worker a long document is processed in the same parts; either way its
# parts are accounted and written one by one (a 20 MB file held whole peaked at ~570 MiB).
LONG_DOC_CHARS = 1_000_000
# A text file larger than this (bytes) is also read a piece at a time, unless only the
# encoding detector can place it (ingest.text_pieces): a corpus kept as one file then takes
# no more memory than 4,700 files (100 MB in one .txt file, 1 worker, --dedup off: 268 MiB
# peak read whole, 199 MiB so).
STREAM_BYTES = 4 << 20
MAX_NOTES = 1000  # cleaning notes kept for summary.json (all are counted)
# Collector thresholds in a run: 50,000 allocations between two young-generation
# collections (see iter_results).
RUN_GC_THRESHOLDS = (50_000, 20, 100)
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
# Plain tuples, not NamedTuples, down to the fingerprint's fields (dedup.FingerprintRow):
# one per segment crosses the process boundary.
SegmentResult = tuple[int, int, tuple[str, ...], int, "str | None", "FingerprintRow | None"]


class DocResult(NamedTuple):  # one per document: its pickling cost (unlike a segment's) is noise
    """A document's segments; the output lines of its content segments travel joined
    (two bytes per document), since nearly all of them are kept. Both are UTF-8 already:
    the worker encodes, and the main process only writes them.

    A long document comes as several results, one per part of whole segments (see
    LONG_DOC_CHARS), accounted and written one after the other, so that its output is
    never held whole: the first opens it, the last closes it, and one carries its
    cleaning counts (the first of its last piece: document_cuts)."""

    segments: tuple[SegmentResult, ...]
    clean_steps: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    records: bytes = b""  # corpus.jsonl lines of the content segments, in order
    lines: bytes = b""  # their corpus.txt lines, joined with "\n"
    first: bool = True  # the first (or only) part of its document
    last: bool = True  # the last (or only) part of its document
    chars: int = 0  # on a piece's last part: the piece's characters as read (for progress)


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


def _as_helper() -> None:
    """Set up a worker or the reader. A forked one inherits the command's SIGTERM handler
    (cli._app), which unwinds the main process; a helper just stops, and the main process
    stops the others. Helpers run nicer than the main process (see WORKER_NICE)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(os, "nice"):  # (POSIX only)
        os.nice(WORKER_NICE)


def _init_worker(glossary: Glossary | CompiledGlossary | None, opts: Options) -> None:
    global _STAGE
    _as_helper()
    if glossary is not None:  # spawned: build the stage here (forked workers inherit it)
        _STAGE = _frozen_stage(glossary, opts)


def make_stage(glossary: Glossary | CompiledGlossary, opts: Options) -> Stage:
    rules = None if opts.keep_boilerplate else BoilerplateRules.load(opts.boilerplate_files)
    return Stage(SegmentRenderer(Matcher(glossary), opts.gloss_inline), rules, opts.dedup)


def _frozen_stage(
    glossary: Glossary | CompiledGlossary, opts: Options, forking: bool = False
) -> Stage:
    """The stage for a run. Its glossary and automaton live as long as the run, so they
    are moved out of the GC's sight: collections stop rescanning them, and forked workers
    stop touching (copying) their pages. ``iter_results`` unfreezes at the end.
    ``forking``: workers will be forked from this process, and share what it loads."""
    stage = make_stage(glossary, opts)
    if forking:
        stage.renderer.matcher.load_tokenizer()
    gc.freeze()
    return stage


def process_document(stage: Stage, doc_id: str, text: str) -> DocResult:
    """The pure per-document part of the pipeline: clean → segment → boilerplate →
    normalise → render → fingerprint. It reads nothing of a document but its id and text,
    and only those cross the pipe to a worker (a frozen dataclass pickles 2-3x slower:
    0.077 s against 0.036 s per 20 MB, most of it in the main process)."""
    steps, notes, (segs,), _, _ = document_parts(doc_id, text, sys.maxsize, stage.rules)
    return part_result(steps, notes, process_segments(stage, doc_id, segs), 0, 1, len(text))


SegmentItem = tuple[int, str, bool]  # (index in the document, text, headline)


class Part(NamedTuple):
    """Some consecutive segments of a document after boilerplate → render → fingerprint."""

    segments: tuple[SegmentResult, ...]
    records: bytes  # corpus.jsonl lines of the content segments, in order
    lines: bytes  # their corpus.txt lines, joined with "\n"


def process_segments(stage: Stage, doc_id: str, segs: Sequence[SegmentItem]) -> Part:
    """Boilerplate → normalise → render → fingerprint, segment by segment: a pure
    function of each segment, so a document may be cut into parts anywhere."""
    (part,) = process_share(stage, [(doc_id, list(segs))])
    return part


def process_share(stage: Stage, share: Share) -> list[Part]:
    """``process_segments`` of each document of a share, one step at a time over all of
    it: the matcher runs on every segment before any is rendered, and the fingerprints
    are made in one pass. The automaton and the matcher's tables stay in the CPU's caches
    (20 MB in 4,700 files, 1 worker: 3.39-3.47 s segment by segment, 3.26-3.27 s so)."""
    rules = stage.rules
    find = stage.renderer.matcher.find_spans
    render = stage.renderer.render
    # Per document: each segment's boilerplate rule, or None and its mentions.
    found: list[list[tuple[str | None, list[Span]]]] = []
    for _, segs in share:
        got: list[tuple[str | None, list[Span]]] = []
        for _, text, headline in segs:
            reason = rules.match(text) if rules is not None else None
            got.append((reason, []) if reason is not None else (None, find(text, headline)))
        found.append(got)
    results: list[tuple[list[tuple[int, str]], list[tuple[int, Rendered]]]] = []
    for (doc_id, segs), got in zip(share, found, strict=True):
        doc_json = orjson.dumps(doc_id)
        dropped: list[tuple[int, str]] = []
        content: list[tuple[int, Rendered]] = []
        for (index, text, headline), (reason, spans) in zip(segs, got, strict=True):
            if reason is not None:
                dropped.append((index, f"boilerplate:{reason}"))
                continue
            rendered = render(doc_json, index, text, headline, spans)
            # Judged as the next run will judge the output (see also document_parts): a
            # segment that its rewrites make short is a headline.
            if not headline and is_headline(rendered.text):
                rendered = render(doc_json, index, text, True)
            content.append((index, rendered))
        results.append((dropped, content))
    texts = [r.text for _, content in results for _, r in content]
    fps: Iterator[FingerprintRow | None] = iter([None] * len(texts))
    if stage.dedup.mode != "off" and texts:
        # One numpy pass for all the segments instead of one per segment.
        fps = iter(cast("list[FingerprintRow | None]", fingerprint_rows(texts, stage.dedup)))
    return [_part(dropped, content, fps) for dropped, content in results]


def _part(
    dropped: list[tuple[int, str]],
    content: list[tuple[int, Rendered]],
    fps: Iterator[FingerprintRow | None],
) -> Part:
    out: list[SegmentResult] = [(i, 0, (), 0, reason, None) for i, reason in dropped]
    out.extend((i, len(r.record), r.changed, r.glosses, None, next(fps)) for i, r in content)
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
    chars: int = 0,
    first: bool = True,
    last: bool = True,
) -> DocResult:
    """The result of part ``i`` of ``n`` of a document, or of a piece of one that is its
    ``first`` or ``last`` or neither (``document_cuts``): the cleaning goes with the
    piece's first part, its length as read ``chars`` with its last part."""
    if i:
        clean_steps, notes = (), ()
    return DocResult(
        part.segments, clean_steps, notes, part.records, part.lines, first and i == 0,
        last and i == n - 1, chars if i == n - 1 else 0,
    )


class Cut(NamedTuple):
    """A document cleaned and cut into runs of whole segments; or a piece of a long one
    (``document_cuts``), which may be neither its first nor its last."""

    clean_steps: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    parts: list[list[SegmentItem]]
    first: bool = True
    last: bool = True


# A long document is cleaned a piece of this many parts at a time (``document_cuts``).
PIECE_PARTS = 2


def document_parts(
    doc_id: str, text: str, part_chars: int, rules: BoilerplateRules | None
) -> Cut:
    """A document cleaned and cut into runs of whole segments of about ``part_chars``
    characters, so that several workers can share a long one. The first segment that is
    not boilerplate (``rules``) is marked a headline, as the next run over the output,
    where the boilerplate is gone, would see it (here, where all parts are seen)."""
    cleaned = clean_text(text)
    parts, _, _ = _cut_segments(doc_id, cleaned.text, part_chars, rules, 0, True)
    return Cut(cleaned.steps, cleaned.notes, parts)


def document_cuts(
    doc_id: str, pieces: Iterable[str], part_chars: int, rules: BoilerplateRules | None
) -> Iterator[Cut]:
    """``document_parts`` of a long document given in pieces (see ``clean_stream``), a piece
    at a time: the first parts are out while the rest is still being read and cleaned (one
    20 MB file: about 0.6 s of cleaning that the workers waited for). Parts end at piece
    ends too, which changes nothing (see ``process_segments``). The cleaning counts and
    notes come with the last piece, which is never one without segments (nor is the
    first), unless the document has none."""
    index = 0
    heading = True  # no content segment yet
    pending: list[list[SegmentItem]] | None = None
    first = True
    for cleaned, done in clean_stream(pieces):
        parts, end, heading = _cut_segments(doc_id, cleaned, part_chars, rules, index, heading)
        if end > index:
            if pending is not None:
                yield Cut((), (), pending, first, False)
                first = False
            pending, index = parts, end
        if done is not None:
            yield Cut(done.steps, done.notes, pending or [[]], first, True)


def _cut_segments(
    doc_id: str,
    text: str,
    part_chars: int,
    rules: BoilerplateRules | None,
    start: int,
    heading: bool,
) -> tuple[list[list[SegmentItem]], int, bool]:
    """(parts, the next segment's index, still ``heading``) of cleaned ``text`` whose first
    segment has index ``start``; ``heading``: no content segment met before it."""
    parts: list[list[SegmentItem]] = [[]]
    size = 0
    segments = split_segments(doc_id, text, start)
    for s in segments:
        headline = s.headline
        if heading and (rules is None or rules.match(s.text) is None):
            headline, heading = True, False
        if size >= part_chars:
            parts.append([])
            size = 0
        parts[-1].append((s.index, s.text, headline))
        size += len(s.text)
    return parts, start + len(segments), heading


def _process_packed(share: bytes) -> list[Part]:
    """A share of a batch (``_pack``): [(document id, segments), ...]."""
    assert _STAGE is not None, "worker not initialised"
    return process_share(_STAGE, pickle.loads(share))


# --------------------------------------------------------------------------- main side


def load_rules(opts: Options) -> BoilerplateRules | None:
    return None if opts.keep_boilerplate else BoilerplateRules.load(opts.boilerplate_files)


class _Slot(NamedTuple):
    """A document of a batch in flight, or a piece of a long one, waiting for its
    ``parts`` results."""

    doc: Document  # its text left out: the shares have it
    chars: int  # its text's length as read (a piece's, for a long document)
    clean_steps: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    parts: int
    first: bool = True  # (a piece of a long document: see document_cuts)
    last: bool = True


Share = list[tuple[str, list[SegmentItem]]]  # (document id, segments) for one worker


class Packed(NamedTuple):
    """A batch as it travels: what the main process keeps (``slots``) and the workers'
    shares, pickled where the batch is made: its one-part documents together
    (``whole``), each part of a long document alone (``parts``), for whichever worker is
    free. The main process passes the shares on as they are (unpickled and pickled again
    there, they cost it ~0.1 s per 20 MB)."""

    slots: list[_Slot | Problem]
    whole: bytes | None
    parts: list[bytes]


class Batch(NamedTuple):
    """Documents cleaned and cut (``slots``, in input order), and the segments to process:
    the one-part documents' together (``whole``), or each part of a piece of a long
    document alone (``parts``). A batch has one or the other."""

    slots: list[_Slot | Problem]
    whole: Share
    parts: Share


def _pack(batch: Batch) -> Packed:
    dump = pickle.dumps
    return Packed(
        batch.slots,
        dump(batch.whole, pickle.HIGHEST_PROTOCOL) if batch.whole else None,
        [dump([part], pickle.HIGHEST_PROTOCOL) for part in batch.parts],
    )


def _batches(
    items: Iterable[Document | Problem], rules: BoilerplateRules | None
) -> Iterator[Packed]:
    """``_cut_batches`` as shipped to the workers."""
    return map(_pack, _cut_batches(items, rules))


def _cut_batches(
    items: Iterable[Document | Problem], rules: BoilerplateRules | None
) -> Iterator[Batch]:
    """Documents cleaned and cut, in batches of about CHUNK_CHARS characters: the unit
    shipped to the workers, and processed one after the other by one worker. A long
    document comes alone, a piece at a time, cut into parts of CHUNK_CHARS for the workers
    to share (see LONG_DOC_CHARS); a shorter one is one part.

    Cleaning a batch before processing any of it is faster than document by document
    (1 worker, 20 MB in 4,700 files: 3.65-3.77 s against 3.36-3.40 s): the automaton and
    the matcher's tables stay in the CPU's caches across more segments."""
    slots: list[_Slot | Problem] = []
    whole: Share = []
    size = 0
    for it in items:
        if isinstance(it, Problem):
            slots.append(it)
            continue
        n = len(it.text)
        if n > LONG_DOC_CHARS or it.streamed:  # alone, a piece at a time, each part a share
            if slots:
                yield Batch(slots, whole, [])
                slots, whole, size = [], [], 0
            yield from _long_batches(it, rules)
            continue
        steps, notes, (segs,), _, _ = document_parts(it.id, it.text, sys.maxsize, rules)
        slots.append(_Slot(replace(it, text=""), n, steps, notes, 1))
        whole.append((it.id, segs))
        size += n
        if size >= CHUNK_CHARS:
            yield Batch(slots, whole, [])
            slots, whole, size = [], [], 0
    if slots:
        yield Batch(slots, whole, [])


def _long_batches(doc: Document, rules: BoilerplateRules | None) -> Iterator[Batch]:
    """A long document's batches: one per piece (``document_cuts``), its parts as shares
    of their own. A streamed one is read a piece at a time too (``text_pieces``)."""
    piece_chars = PIECE_PARTS * CHUNK_CHARS
    read = [0]  # characters read so far: each cut's share goes with it (progress)

    def counted(pieces: Iterator[str]) -> Iterator[str]:
        for piece in pieces:
            read[0] += len(piece)
            yield piece

    pieces = text_pieces(doc, piece_chars) if doc.streamed else lf_pieces(doc.text, piece_chars)
    stub = replace(doc, text="")
    given = 0
    for cut in document_cuts(doc.id, counted(pieces), CHUNK_CHARS, rules):
        slot = _Slot(stub, read[0] - given, cut.clean_steps, cut.notes, len(cut.parts),
                     cut.first, cut.last)
        given = read[0]
        yield Batch([slot], [], [(doc.id, part) for part in cut.parts])


class _InFlight(NamedTuple):
    slots: list[_Slot | Problem]
    whole: Future[list[Part]] | None
    parts: deque[Future[list[Part]]]


def _submit(pool: ProcessPoolExecutor, packed: Packed) -> _InFlight:
    slots, whole, parts = packed
    return _InFlight(
        slots,
        pool.submit(_process_packed, whole) if whole is not None else None,
        deque(pool.submit(_process_packed, share) for share in parts),
    )


# How far the reading process may run ahead of the workers, in pickled bytes: far enough
# to read and clean a 20 MB corpus while the glossary loads, and a bound on memory.
READ_AHEAD_BYTES = 96 << 20
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
READER_STOP_SECONDS = 5.0


class _Reader:
    """Reading, cleaning and cutting (``_batches``) in a process of its own, started before
    the glossary is loaded. Loading a glossary and building its automaton keep one core
    busy for a while (10,000 entries: ~0.6 s) before any worker can start; meanwhile the
    reader gets ahead on the other. Its batches arrive here in order, pickled."""

    def __init__(self, batches: Iterator[Packed]) -> None:
        ctx = multiprocessing.get_context("fork")  # inherits the open inputs' iterator
        recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_read_ahead, args=(batches, send, recv), name="glossnorm-reader", daemon=True
        )
        # Forked with SIGINT and SIGTERM blocked, it unblocks them once its own handlers
        # are set: stopped at once, it must not run this process's handlers (cli._app).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            self._proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        send.close()  # the reader's end alone: its exit is this end's EOF
        self._conn = recv

    def __iter__(self) -> Iterator[Packed]:
        while True:
            try:
                data = self._conn.recv_bytes()
            except EOFError:
                self._proc.join(READER_STOP_SECONDS)
                raise GlossnormError(
                    f"the reading process stopped unexpectedly (exit code {self._proc.exitcode})"
                ) from None
            item = pickle.loads(data)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        if self._proc.is_alive():  # stopped early: a failure, or the consumer stopped
            self._proc.terminate()
            self._proc.join(READER_STOP_SECONDS)
            if self._proc.is_alive():  # it did not die of SIGTERM: not to hang the run
                self._proc.kill()
        self._proc.join()
        self._conn.close()


def _read_ahead(batches: Iterator[Packed], send: Connection, recv: Connection) -> None:
    """The reading process: pickle batches while a thread sends them (the pipe takes only
    64 KiB until the main process reads). Ends with None, or the exception that stopped it."""
    recv.close()
    # Ctrl-C reaches the whole process group: the main process stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _as_helper()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    pending: deque[bytes | None] = deque()
    room = threading.Condition()
    held = 0  # bytes pickled and not yet sent

    def sender() -> None:
        nonlocal held
        while True:
            with room:
                room.wait_for(lambda: pending)
                data = pending.popleft()
            if data is None:
                return
            send.send_bytes(data)  # (releases the GIL)
            with room:
                held -= len(data)
                room.notify()

    def put(item: object) -> None:
        nonlocal held
        data = pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
        with room:
            room.wait_for(lambda: held < READ_AHEAD_BYTES)
            held += len(data)
            pending.append(data)
            room.notify()

    thread = threading.Thread(target=sender, name="glossnorm-reader-send", daemon=True)
    thread.start()
    try:
        for batch in batches:
            put(batch)
        put(None)
    except Exception as exc:  # every failure goes to the main process
        put(exc if isinstance(exc, GlossnormError) else _described(exc))
    with room:
        pending.append(None)
        room.notify()
    thread.join()


def _described(exc: BaseException) -> RuntimeError:
    """An unexpected exception as the main process can raise it (it may not unpickle)."""
    text = "".join(traceback.format_exception(exc))
    return RuntimeError(f"the reading process failed:\n{text}")


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class Feed:
    """The inputs as a run takes them. Making one checks them (and reads stdin); with
    several workers where fork exists, it starts reading, cleaning and cutting them in a
    process of its own (``_Reader``) at once, so that the glossary can load meanwhile.
    Close it (``with``) when the run ends, or if it never starts."""

    def __init__(self, inputs: Sequence[str], opts: Options) -> None:
        ingest = replace(opts.ingest, stream_bytes=STREAM_BYTES)
        self._items = iter_inputs(inputs, ingest)  # checks the inputs now
        self._packed: Iterator[Packed] | None = None
        self._reader: _Reader | None = None
        if opts.workers > 1:
            self._packed = _batches(self._items, load_rules(opts))
            if _can_fork():
                self._reader = _Reader(self._packed)

    def documents(self) -> Iterator[Document | Problem]:
        """One by one, read here (for one worker)."""
        return self._items

    def batches(self) -> Iterator[Packed]:
        """In batches for the workers, from the reader process where there is one."""
        if self._packed is None:
            raise ValueError("this feed was made for one worker")
        return iter(self._reader) if self._reader is not None else self._packed

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_results(
    feed: Feed, glossary: Glossary | CompiledGlossary, opts: Options
) -> Iterator[tuple[Document, DocResult] | Problem]:
    """Per-document results in input order, computed by ``opts.workers`` processes."""
    # A run allocates millions of short-lived tuples and keeps growing dicts of them (the
    # dedup index): the default collector thresholds make it rescan those again and again.
    # Rarer collections (forked workers inherit the setting) still catch any cycle.
    thresholds = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        if opts.workers <= 1:
            stage = _frozen_stage(glossary, opts)
            for batch in _cut_batches(feed.documents(), stage.rules):
                yield from _local_results(stage, batch)
        else:
            yield from _iter_parallel(feed, glossary, opts)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _iter_parallel(
    feed: Feed, glossary: Glossary | CompiledGlossary, opts: Options
) -> Iterator[tuple[Document, DocResult] | Problem]:
    # Where fork exists, the workers inherit the stage (automaton, rules) built once here;
    # elsewhere each worker builds its own from the glossary.
    global _STAGE
    fork = _can_fork()
    try:
        if fork:
            _STAGE = _frozen_stage(glossary, opts, forking=True)
        ctx = multiprocessing.get_context("fork" if fork else "spawn")
        with ProcessPoolExecutor(
            max_workers=opts.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(None if fork else glossary, opts),
        ) as pool:
            # A bounded window of batches in flight: memory stays flat whatever the corpus.
            window: deque[_InFlight] = deque()
            todo = feed.batches()
            limit = opts.workers * WINDOW_PER_WORKER
            try:
                while True:
                    while len(window) < limit and (batch := next(todo, None)) is not None:
                        window.append(_submit(pool, batch))
                    if not window:
                        break
                    yield from _results(window.popleft())
            except BaseException:  # a failure, or the consumer stopped: drop queued work
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        _STAGE = None


def _results(flight: _InFlight) -> Iterator[tuple[Document, DocResult] | Problem]:
    """A batch's results in input order, each part's dropped once handed on."""
    if flight.whole is not None:
        return _handed_on(flight.slots, iter(flight.whole.result()).__next__)
    # (a piece of a long document comes alone, its parts as shares of their own)
    return _handed_on(flight.slots, lambda: _only(flight.parts.popleft().result()))


def _local_results(stage: Stage, batch: Batch) -> Iterator[tuple[Document, DocResult] | Problem]:
    """``_results`` of a batch processed here: its one-part documents together
    (``process_share``), a long document's parts one at a time as they are handed on."""
    if batch.whole:
        return _handed_on(batch.slots, iter(process_share(stage, batch.whole)).__next__)
    parts = (process_segments(stage, doc_id, segs) for doc_id, segs in batch.parts)
    return _handed_on(batch.slots, parts.__next__)


def _only(parts: list[Part]) -> Part:
    (part,) = parts
    return part


def _handed_on(
    slots: list[_Slot | Problem], next_part: Callable[[], Part]
) -> Iterator[tuple[Document, DocResult] | Problem]:
    """The slots' results in order, each document's parts from ``next_part``."""
    for slot in slots:
        if isinstance(slot, Problem):
            yield slot
            continue
        doc, chars, steps, notes, n, first, last = slot
        for i in range(n):
            yield doc, part_result(steps, notes, next_part(), i, n, chars, first, last)


Event = Kept | Duplicate | tuple[str, int, str] | DocDup  # (doc, seg, reason) = dropped


def run(
    feed: Feed,
    glossary: Glossary | CompiledGlossary,
    opts: Options,
    index_path: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Generator[tuple[Document | None, list[Event]]], Stats, DedupIndex]:
    """Stream (document, events) pairs; ``stats`` fills in as the stream is consumed.
    A document may come without its text (its events have it).

    The caller must consume the iterator and then call ``index.commit()``/``close()``.
    """
    stats = Stats()
    index = DedupIndex(opts.dedup, index_path)

    def events() -> Generator[tuple[Document | None, list[Event]]]:
        for res in iter_results(feed, glossary, opts):
            if isinstance(res, Problem):
                stats.problems.append(res)
                if res.kind == "bad-record":
                    stats.segments_in += 1
                    stats.dropped[DROP_BAD_RECORD] += 1
                continue
            doc, result = res
            yield doc, _account(doc, result, stats, index)
            if progress is not None and result.chars:
                progress(result.chars)

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
