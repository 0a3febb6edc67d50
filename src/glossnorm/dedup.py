"""Exact and near-duplicate removal of segments, after normalisation, across runs.

Why after normalisation: machine translation hides re-posted paragraphs behind different
transliterations (ブリンカーン / ブリンケン); once the glossary has rewritten them, the copies
are exact or near copies.

Two halves, so the expensive part runs in worker processes:

* :func:`fingerprint` (pure, picklable result) folds the text (NFKC, all whitespace and
  zero-width characters removed), hashes it for exact matching, and for long enough segments
  builds the character n-gram shingle set and its MinHash signature (:mod:`glossnorm.minhash`).
* :class:`DedupIndex` checks fingerprints one by one in input order, in the main process.
  The first occurrence is kept; later copies are reported as :class:`DupHit`. LSH bands only
  propose candidates: a near hit is always confirmed with the exact Jaccard similarity of the
  shingle sets; the most similar confirmed candidate is reported (ties: the earliest).

The index is an SQLite database (in memory without a path). One run is one transaction:
:meth:`DedupIndex.commit` makes it durable; closing without committing, or an exception
inside ``with DedupIndex(...)``, leaves the file as it was before the run. Nothing but the
index lives in memory: candidate lookup and verification are SQL queries.

Rerun semantics (documents are identified by their id): a segment whose (doc, seg) is
already in the index *from an earlier run* with the same text is "already indexed": if it
was kept, it is kept again and not reported as a duplicate of itself; if it was a duplicate,
the recorded verdict (same kept segment, same similarity) is reported again. Re-running a
batch therefore changes neither the index nor the report. If the text of an indexed
(doc, seg) changed, its old version and verdict are dropped and the new text is checked like
any other segment; so are the verdicts that named the old version as the kept segment. A
verdict is only repeated while it still holds: near, at or above this run's threshold, and
its kept segment still indexed (for an exact one, with the same text). A segment that an
exact run indexed (no signature) gets one when a near run meets it again. Within one run, a
(doc, seg) given twice is checked twice (the second is an exact duplicate of the first, or
an error if its text differs).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import os
import re
import sqlite3
import struct
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Concatenate, Literal, NamedTuple, ParamSpec, TypeVar

from glossnorm.clean import full_nfkc
from glossnorm.errors import InputError, UsageError


def _lazy(name: str) -> ModuleType:
    """``name`` imported on first use (the importlib documentation's recipe)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from glossnorm import minhash as mh
else:
    # numpy takes ~0.06 s to import, a quarter of the command's start-up, and only near
    # dedup needs it: exact and off runs, and every other command, start without it.
    np = _lazy("numpy")
    mh = _lazy("glossnorm.minhash")

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _index_errors(
    method: Callable[Concatenate[DedupIndex, _P], _R],
) -> Callable[Concatenate[DedupIndex, _P], _R]:
    """SQLite errors in the middle of a run (a page damaged after the ones read at open, a
    full disk) as one clear message instead of a traceback; the run leaves the index as
    it was."""

    @functools.wraps(method)
    def wrapper(self: DedupIndex, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
                raise InputError(
                    f"{self._where}: the dedup index is damaged ({exc}); give another "
                    "--index path or delete the file"
                ) from None
            raise InputError(
                f"{self._where}: the dedup index could not be used ({exc}); it is left as "
                "it was before the run"
            ) from None

    return wrapper


Mode = Literal["exact", "near", "off"]
MODES: tuple[Mode, ...] = ("exact", "near", "off")
# Kept segments remembered per LSH band key. A corpus recombined from a pool of sentences
# gives some keys thousands of segments, and every new segment with such a key would be
# screened against all of them: the check grew with the index (0.3 MB/s at 50 MB). A copy
# is still found through any of its other shared bands (a copy at Jaccard 0.6 shares ~9 of
# 42), so a key yields only its first 64 segments of earlier runs and its first 64 of this
# run (see docs/dedup.md for what this costs).
BUCKET_CAP = 64
_ID = struct.Struct("=q")  # a kept row's id in the band maps: native int64, as numpy reads it
Bucket = bytes | bytearray  # the ids under one band key, joined (see _Lsh.buckets)
_SHINGLES = itemgetter(2)  # of a (doc, seg, shingles) row
# Candidates verified (exact Jaccard) per segment: those that agree most with its signature.
# A copy (Jaccard >= 0.6) agrees far more than the crowd of pairs that share one sentence
# (0.3-0.45), so it is among them; the cost of a check no longer grows with the crowd.
VERIFY_TOP = 16
# Segments of a document prefetched together (check_document), each slice against the
# index as it stands when its turn comes. The rows a slice keeps are looked up one segment
# at a time for the rest of it: a corpus in one file (parts of ~500 segments) took 9.1 s of
# near dedup per 20 MB in slices of 256, 5.5 s in 32 and 4.9 s in 16; a corpus of 4,700
# files (~10 segments a document) is the same in all three.
PREFETCH_BATCH = 16

FORMAT = "glossnorm-dedup"
FORMAT_VERSION = "2"  # 2: MinHash without the additive term

# Invisible characters that survive NFKC and ``str.split`` but must not make copies differ.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


@dataclass(frozen=True)
class DedupConfig:
    """How to deduplicate. Defaults come from ``eval/dedup/run_eval.py`` (see docs/dedup.md).

    ``threshold``: exact Jaccard similarity of the character ``ngram`` sets at or above which
    two segments are near duplicates. ``min_near_chars``: segments shorter than this (folded
    characters) are only ever deduplicated exactly; a one-character change in a headline is
    often a different headline. ``doc_ratio``: share of a document's segments that must
    duplicate one earlier document for a :class:`DocDup`. ``bands``/``rows``: LSH layout,
    0 = derived from ``threshold`` and ``num_perm``.
    """

    mode: Mode = "near"
    threshold: float = 0.5
    ngram: int = 5
    num_perm: int = 128
    min_near_chars: int = 30
    doc_ratio: float = 0.8
    bands: int = 0
    rows: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"--dedup must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 0.0 < self.threshold <= 1.0:
            raise UsageError(f"--dedup-threshold must be in (0, 1], got {self.threshold}")
        if not 0.0 < self.doc_ratio <= 1.0:
            raise UsageError(f"doc_ratio must be in (0, 1], got {self.doc_ratio}")
        if self.ngram < 1 or self.num_perm < 1 or self.min_near_chars < 0:
            raise UsageError("ngram and num_perm must be >= 1 and min_near_chars >= 0")
        if (self.bands or self.rows) and self.bands * self.rows > self.num_perm:
            raise UsageError(f"bands x rows must be <= num_perm ({self.num_perm})")

    @property
    def lsh(self) -> tuple[int, int]:
        """(bands, rows) used when a new index is created."""
        if self.bands and self.rows:
            return self.bands, self.rows
        return choose_bands(self.threshold, self.num_perm)


def candidate_probability(j: float, bands: int, rows: int) -> float:
    """Probability that two sets with Jaccard ``j`` share at least one band."""
    return 1.0 - (1.0 - j**rows) ** bands


@functools.lru_cache(maxsize=64)
def choose_bands(threshold: float, num_perm: int, miss: float = 0.005) -> tuple[int, int]:
    """(bands, rows) with the most rows (fewest spurious candidates) whose chance of missing
    a pair right at ``threshold`` is at most ``miss``; recall matters more than the cost of
    verifying extra candidates, which is one set intersection each."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= 1.0 - miss:
            best = (bands, rows)
    return best


class Fingerprint(NamedTuple):
    """What the index needs to know about one segment; computed in worker processes, and
    sent from them as a plain tuple (``FingerprintRow``)."""

    exact: bytes  # 16-byte BLAKE2b of the folded text
    minhash: bytes | None  # num_perm little-endian uint32 (None: exact only)
    shingles: bytes | None  # sorted unique uint32 n-gram hashes
    length: int  # folded characters
    bands: bytes | None = None  # int64 LSH keys for ``DedupConfig.lsh`` (saves the index work)

    def signature(self) -> mh.U32:
        assert self.minhash is not None
        return np.frombuffer(self.minhash, dtype="<u4").astype(np.uint32)

    def band_keys(self, bands: int, rows: int, cfg: DedupConfig) -> list[int]:
        """LSH keys for this (bands, rows) layout: precomputed if it is the config's."""
        if self.bands is not None and (bands, rows) == cfg.lsh:
            keys = array("q", self.bands)  # plain array: cheaper than numpy for 42 values
            if sys.byteorder == "big":
                keys.byteswap()
            return keys.tolist()
        computed: list[int] = mh.band_keys(self.signature(), bands, rows)[0].tolist()
        return computed

    def shingle_set(self) -> mh.U32:
        assert self.shingles is not None
        return np.frombuffer(self.shingles, dtype="<u4").astype(np.uint32)


@dataclass(frozen=True)
class DupHit:
    """A checked segment duplicates the kept segment ``(doc, seg)``."""

    kind: Literal["exact", "near"]
    doc: str
    seg: int
    similarity: float  # 1.0 for exact


@dataclass(frozen=True)
class DocDup:
    """Document ``doc`` is (mostly) a re-post of the earlier document ``duplicate_of``.

    An extra record: the segments are still reported one by one as :class:`DupHit`.
    ``segments``: indexes of ``doc``'s segments that duplicate ``duplicate_of``; ``total``:
    segments of ``doc`` that were checked; ``similarity``: length-weighted share of ``doc``
    covered by those copies (1.0 = a verbatim re-post).
    """

    doc: str
    duplicate_of: str
    segments: tuple[int, ...]
    total: int
    similarity: float


def fold(text: str) -> str:
    """The text exact hashes and shingles are built from: NFKC, no whitespace at all."""
    return "".join(_INVISIBLE.sub("", full_nfkc(text)).split())


@functools.lru_cache(maxsize=8)
def _perms(num_perm: int) -> mh.U32:
    return mh.permutations(num_perm)


def fingerprint(text: str, cfg: DedupConfig) -> Fingerprint:
    """Fingerprint of one (normalised) segment text. Pure: same text, same bytes."""
    return fingerprints([text], cfg)[0]


def fingerprints(texts: Sequence[str], cfg: DedupConfig) -> list[Fingerprint]:
    """:func:`fingerprint` of many texts; several times faster per text (one numpy pass for
    the whole batch)."""
    make = Fingerprint._make
    return [make(row) for row in fingerprint_rows(texts, cfg)]


# A Fingerprint's fields as a plain tuple: what workers send, one per segment (a NamedTuple
# pickles 4x slower each way: 0.06 s per 20 MB in the workers, 0.05 s in the main process).
FingerprintRow = tuple[bytes, "bytes | None", "bytes | None", int, "bytes | None"]


def fingerprint_rows(texts: Sequence[str], cfg: DedupConfig) -> list[FingerprintRow]:
    """:func:`fingerprints` as plain tuples, built as such (workers call this on their
    chunk of segments)."""
    folded = [fold(t) for t in texts]
    # surrogatepass: a lone surrogate (e.g. from surrogateescape decoding) must not crash.
    exact = [
        hashlib.blake2b(f.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        for f in folded
    ]
    near_min = max(cfg.min_near_chars, 1)
    near = [i for i, f in enumerate(folded) if cfg.mode == "near" and len(f) >= near_min]
    sigs: dict[int, tuple[bytes, bytes, bytes]] = {}
    if near:
        flat, offs = mh.shingle_sets([folded[i] for i in near], cfg.ngram)
        mins = mh.minhashes(flat, offs, _perms(cfg.num_perm))
        keys = mh.band_keys(mins, *cfg.lsh).astype("<i8")
        mins_le, flat_le = mins.astype("<u4"), flat.astype("<u4")
        for row, i in enumerate(near):
            sh = flat_le[offs[row] : offs[row + 1]].tobytes()
            sigs[i] = (mins_le[row].tobytes(), sh, keys[row].tobytes())
    if not sigs:
        return [(h, None, None, len(f), None) for h, f in zip(exact, folded, strict=True)]
    out: list[FingerprintRow] = []
    for i, f in enumerate(folded):
        got = sigs.get(i)
        if got is None:
            out.append((exact[i], None, None, len(f), None))
        else:
            out.append((exact[i], got[0], got[1], len(f), got[2]))
    return out


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segs(
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order = "first occurrence"
    doc TEXT NOT NULL,
    seg INTEGER NOT NULL,
    exact BLOB NOT NULL,
    nsh INTEGER NOT NULL,                  -- shingle count, for the Jaccard length bound
    sig BLOB,                              -- MinHash signature (NULL: exact only)
    shingles BLOB,
    UNIQUE(doc, seg)
);
CREATE INDEX IF NOT EXISTS segs_exact ON segs(exact);
CREATE TABLE IF NOT EXISTS dups(                 -- verdicts, so that a rerun repeats them
    doc TEXT NOT NULL,
    seg INTEGER NOT NULL,
    exact BLOB NOT NULL,
    kind TEXT NOT NULL,
    kept_doc TEXT NOT NULL,
    kept_seg INTEGER NOT NULL,
    similarity REAL NOT NULL,
    PRIMARY KEY(doc, seg)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dups_kept ON dups(kept_doc, kept_seg);
"""


class _Lsh:
    """LSH over the kept segments' signatures, in memory (rebuilt from ``segs.sig`` on open).

    Loaded band keys sit in one sorted int64 array (16 bytes per band per segment, loaded
    with one argsort); keys added during this run go to a dict. Candidates are then cut
    down by their estimated similarity (signature agreement) before the exact check, so a
    same-story corpus, where many paragraphs share a band, stays cheap.
    """

    def __init__(self, num_perm: int, bands: int, rows: int, threshold: float) -> None:
        self.bands, self.rows = bands, rows
        # row = segs.id: the low byte of each MinHash value. The screen only estimates
        # agreement, and a chance agreement of one byte in 256 moves the estimate by 0.4%
        # of (1 - J); a quarter of the memory and of the bytes compared per candidate.
        # Rows are padded with zeros to whole 64-bit words, which ``screen`` counts in.
        self.pad = -num_perm % 8
        self.sigs = np.zeros((0, num_perm + self.pad), dtype=np.uint8)
        self.nsh = np.zeros(0, dtype=np.int64)  # 0 = no such id (deleted, or exact only)
        self.keys = np.empty(0, dtype=np.int64)
        self.ids = np.empty(0, dtype=np.int64)
        # band key -> the ids added under it this session (up to BUCKET_CAP), as native
        # int64 bytes (``_ID``): a lookup joins a query's buckets in C, and a batch of
        # queries becomes one array with no int object per id (a recombined corpus gathers
        # 10 million ids per 20 MB). One probe per key: the maps hold millions of keys,
        # every probe a cache miss. A key not shared (most of them) holds its row's one
        # 8-byte string; a shared one a bytearray of its own, extended in place.
        self.buckets: dict[int, Bucket] = {}
        # The same for the ids indexed since ``track()`` (by a slice of a document): a small
        # map, so looking those rows up costs no cache miss in the big one.
        self.recent: dict[int, Bucket] | None = None
        self.removed = 0  # rows removed so far (a prefetch is stale once this moves)
        # 3.5 standard deviations: a pair right at the threshold is dropped with probability
        # ~2e-4 (one at the weakest copies measured, J = 0.6, ~1e-9), while same-story pairs
        # that share a sentence (J ~ 0.3) mostly stop here instead of being verified.
        est = threshold - 3.5 * float(np.sqrt(threshold * (1 - threshold) / num_perm))
        self.min_agree = int(np.floor(est * num_perm)) - 1

    def _grow(self, top: int) -> None:
        if top < len(self.nsh):
            return
        size = max(top + 1, 2 * len(self.nsh), 1024)
        sigs = np.zeros((size, self.sigs.shape[1]), dtype=np.uint8)
        sigs[: len(self.sigs)] = self.sigs
        nsh = np.zeros(size, dtype=np.int64)
        nsh[: len(self.nsh)] = self.nsh
        self.sigs, self.nsh = sigs, nsh

    def load(self, ids: npt.NDArray[np.int64], nsh: npt.NDArray[np.int64], sigs: mh.U32) -> None:
        if len(ids) == 0:
            return
        self._grow(int(ids.max()))
        self.sigs[ids, : sigs.shape[1]] = sigs  # (assignment casts: the low bytes)
        self.nsh[ids] = nsh
        flat = mh.band_keys(sigs, self.bands, self.rows).ravel()
        order = np.argsort(flat, kind="stable")
        self.keys = flat[order]
        self.ids = np.repeat(ids, self.bands)[order]

    def add(self, rid: int, sig: bytes, nsh: int, keys: list[int]) -> None:
        """Index ``rid`` under its band keys (but those whose bucket is full)."""
        self._grow(rid)
        self.sigs[rid, : len(sig) // 4] = np.frombuffer(sig, dtype="<u4")  # (low bytes)
        self.nsh[rid] = nsh
        buckets, recent = self.buckets, self.recent
        me = _ID.pack(rid)
        # Most rows of a real corpus share no key; the check runs in C and stops at the
        # first shared key (in a recombined corpus, nearly every row shares one).
        if buckets.keys().isdisjoint(keys):
            buckets.update(dict.fromkeys(keys, me))
            if recent is not None:  # (keys new to buckets are new here too)
                recent.update(dict.fromkeys(keys, me))
            return
        full = BUCKET_CAP * _ID.size
        added: list[int] = []
        for k in keys:
            ids = buckets.get(k)
            if ids is None:
                buckets[k] = me
            elif len(ids) >= full:
                continue
            elif type(ids) is bytes:  # its second id: a buffer of its own from now on
                buckets[k] = bytearray(ids + me)
            else:
                ids += me  # (in place)
            added.append(k)
        if recent is None:
            return
        # The rows of one document rarely share a key with each other: one check in C.
        if recent.keys().isdisjoint(added):
            recent.update(dict.fromkeys(added, me))
            return
        for k in added:
            mine = recent.get(k)
            if mine is None:
                recent[k] = me
            elif type(mine) is bytes:
                recent[k] = bytearray(mine + me)
            else:
                mine += me

    def low_bytes(self, sigs: mh.U32) -> npt.NDArray[np.uint8]:
        """Signatures ``(k, num_perm)`` as rows of ``self.sigs``: the low byte of each
        value, then the padding."""
        low: npt.NDArray[np.uint8] = sigs.astype(np.uint8)
        return np.pad(low, ((0, 0), (0, self.pad))) if self.pad else low

    def track(self, on: bool) -> None:
        """Start (with an empty map) or stop recording the ids indexed from now on."""
        self.recent = {} if on else None

    def remove(self, rid: int) -> None:
        if rid < len(self.nsh):
            self.nsh[rid] = 0
            self.removed += 1

    def band_ids(self, klist: list[int]) -> bytes:
        """Ids (native int64 bytes, see ``ids_of``) of the kept segments that share a band
        key with ``klist``; an id appears once per shared key (callers deduplicate with
        numpy, cheaper than a set here)."""
        out = _shared(self.buckets, klist)
        if len(self.keys):
            keys = np.array(klist, dtype=np.int64)
            left = np.searchsorted(self.keys, keys, side="left")
            right = np.searchsorted(self.keys, keys, side="right")
            right = np.minimum(right, left + BUCKET_CAP)
            got = [self.ids[left[i] : right[i]].tobytes() for i in np.flatnonzero(right > left)]
            if got:
                out = b"".join([out, *got])
        return out

    def band_ids_recent(self, klist: list[int]) -> bytes:
        """``band_ids`` among the ids indexed since ``track(True)``."""
        return _shared(self.recent, klist) if self.recent else b""

    def screen(
        self,
        cand: npt.NDArray[np.int64],
        qpos: npt.NDArray[np.int64],
        sigs: npt.NDArray[np.uint8],
        lo: npt.NDArray[np.int64],
        hi: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.int64]:
        """Signature agreement of each candidate with its query, or -1 where the candidate
        is of implausible size or agrees too rarely. Candidate ``i`` belongs to query
        ``qpos[i]``: its row of ``sigs`` (see ``low_bytes``) and its bounds ``lo``..``hi``
        on the candidate's shingle count."""
        n = self.nsh[cand]
        agree = np.full(len(cand), -1, dtype=np.int64)
        ok = np.flatnonzero((n >= np.maximum(lo, 1)[qpos]) & (n <= hi[qpos]))
        if len(ok):
            # Millions of pairs per 20 MB: each row is gathered once and compared in place.
            same = np.take(self.sigs, cand[ok], axis=0)
            np.equal(same, np.take(sigs, qpos[ok], axis=0), out=same.view(np.bool_))
            # Each byte of ``same`` is 0 or 1: counting bits eight bytes at a time is
            # twice as fast as count_nonzero along the rows. The padding always agrees.
            got = np.bitwise_count(same.view(np.uint64)).sum(axis=1, dtype=np.int64)
            got -= self.pad
            agree[ok] = np.where(got >= self.min_agree, got, -1)
        return agree

    def candidates(
        self, klist: list[int], sig: bytes, lo: int, hi: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(ids ascending, agreement) of the kept segments sharing a band that pass
        ``screen``."""
        return self.candidates_among(self.band_ids(klist), sig, lo, hi)

    def candidates_among(
        self, ids: bytes, sig: bytes, lo: int, hi: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Those of ``ids`` (``band_ids``) that pass ``screen``: (ids ascending, agreement)."""
        cand = _sorted_unique(ids_of(ids))
        mine = self.low_bytes(np.frombuffer(sig, dtype="<u4")[None])[0]
        agree = self.screen(
            cand, np.zeros(len(cand), dtype=np.int64), mine[None], np.array([lo]), np.array([hi])
        )
        ok = agree >= 0
        return cand[ok], agree[ok]


def _shared(buckets: dict[int, Bucket], klist: list[int]) -> bytes:
    """The ids ``buckets`` holds under the keys of ``klist``, an id once per key, joined.
    (filter() drops the misses in C, and a bucket is never empty: on text without near
    copies nearly every key misses.)"""
    return b"".join(filter(None, map(buckets.get, klist)))


def ids_of(ids: bytes) -> npt.NDArray[np.int64]:
    """Ids as ``band_ids`` gives them, as an array."""
    return np.frombuffer(ids, dtype=np.int64)


def _sorted_unique(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` by sorting (numpy's hash-based unique is slower on these arrays)."""
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


def _best_first(agree: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """Positions of the ``VERIFY_TOP`` candidates that agree most (ties: lowest id), in
    ascending id order."""
    if len(ids) <= VERIFY_TOP:
        return np.argsort(ids, kind="stable")
    top = np.lexsort((ids, -agree))[:VERIFY_TOP]
    out: npt.NDArray[np.intp] = top[np.argsort(ids[top], kind="stable")]
    return out


# (candidate ids ascending, signature agreement, exact similarity or NaN if not verified,
# the verdict if the document changes nothing: the best verified (id, similarity) at or
# above the threshold, or None; the query's band keys)
if TYPE_CHECKING:  # (annotations only: the alias would import numpy)
    _Prefetched = tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
        "tuple[int, float] | None",
        list[int],
    ]


@dataclass
class _DocState:
    total: int = 0
    length: int = 0
    hits: dict[str, list[tuple[int, float, int]]] = field(default_factory=dict)


class DedupIndex:
    """Sequential duplicate checker backed by SQLite (a file with ``path``, else in memory)."""

    lock_timeout = 5.0  # seconds to wait for another run holding the index
    _lsh: _Lsh  # near mode only (it needs numpy, which the other modes never import)

    def __init__(self, cfg: DedupConfig, path: str | os.PathLike[str] | None = None) -> None:
        self.cfg = cfg
        self.path = os.fspath(path) if path is not None else None
        self._where = self.path or "in-memory index"
        # Without a file nothing ever reads the rows back: exact lookups of this run use a
        # dict and near checks keep the shingle sets in one (``_buf_sh`` is never flushed).
        self._store_rows = self.path is not None
        self._docs: dict[str, _DocState] = {}
        self._closed = False
        try:
            self._db = sqlite3.connect(
                self.path or ":memory:", isolation_level=None, timeout=self.lock_timeout
            )
        except sqlite3.Error as exc:
            raise InputError(f"{self._where}: cannot open the dedup index ({exc})") from None
        try:
            self._open()
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" in str(exc):
                raise InputError(
                    f"{self._where}: the dedup index is in use by another run; wait for it "
                    "to finish"
                ) from None
            raise InputError(f"{self._where}: cannot use the dedup index ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise InputError(
                f"{self._where}: not a glossnorm dedup index ({exc}); give another --index "
                "path or delete the file"
            ) from None
        except InputError:
            self._db.close()
            raise

    # -- setup ---------------------------------------------------------------------------

    def _open(self) -> None:
        db = self._db
        # The write lock is taken now, so two runs never interleave their batches.
        db.execute("BEGIN IMMEDIATE")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        ours = {"meta", "segs", "dups", "sqlite_sequence"}
        empty_meta = "meta" in tables and not db.execute("SELECT 1 FROM meta LIMIT 1").fetchone()
        if tables and ("meta" not in tables or (empty_meta and tables - ours)):
            raise InputError(
                f"{self._where}: an SQLite database, but not a glossnorm dedup index; give "
                "another --index path"
            )
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        bands, rows = self.cfg.lsh
        want = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "ngram": str(self.cfg.ngram),
            "num_perm": str(self.cfg.num_perm),
        }
        if not meta:
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [*want.items(), ("bands", str(bands)), ("rows", str(rows))],
            )
            # The empty schema is committed at once: a crash later leaves a valid empty index.
            db.execute("COMMIT")
            db.execute("BEGIN IMMEDIATE")
        else:
            if meta.get("format") != FORMAT:
                raise InputError(f"{self._where}: not a glossnorm dedup index")
            if meta.get("version") != FORMAT_VERSION:
                raise InputError(
                    f"{self._where}: dedup index format {meta.get('version')} is not supported "
                    f"(this glossnorm writes {FORMAT_VERSION}); start a new index"
                )
            for key in ("ngram", "num_perm"):
                if meta.get(key) != want[key]:
                    raise InputError(
                        f"{self._where}: the index was built with {key}={meta.get(key)}, "
                        f"this run uses {want[key]}; use the same setting or a new index"
                    )
            if meta.get("bands") != str(bands) or meta.get("rows") != str(rows):
                # The band keys are computed from the stored signatures at every open, so
                # each run uses the layout its own threshold needs (a layout kept from a
                # run at 0.9 missed most copies at 0.5); meta records the last one.
                db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("bands", str(bands)), ("rows", str(rows))],
                )
        self.bands, self.rows = bands, rows  # (the layout the fingerprints' keys are in)
        if self.cfg.mode == "near":
            self._lsh = _Lsh(self.cfg.num_perm, bands, rows, self.cfg.threshold)
            got = db.execute("SELECT id, nsh, sig FROM segs WHERE sig IS NOT NULL").fetchall()
            sig_bytes = 4 * self.cfg.num_perm
            if any(len(r[2]) != sig_bytes for r in got):
                raise InputError(
                    f"{self._where}: the dedup index is damaged (a signature of the wrong "
                    "length); give another --index path or delete the file"
                )
            if got:
                self._lsh.load(
                    np.array([r[0] for r in got], dtype=np.int64),
                    np.array([r[1] for r in got], dtype=np.int64),
                    np.frombuffer(b"".join(r[2] for r in got), dtype="<u4")
                    .reshape(len(got), self.cfg.num_perm)
                    .astype(np.uint32),
                )
        self._start_run()

    def _start_run(self) -> None:
        """Per-run state: rows kept by this run live in memory until flushed, and are
        looked up there, so a fresh index costs no SQL query per segment."""
        db = self._db
        top = db.execute("SELECT COALESCE(MAX(id), 0) FROM segs").fetchone()[0]
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'segs'").fetchone()
        self._next_id = max(int(top), int(seq[0]) if seq else 0) + 1
        self._prior = int(top) > 0  # earlier runs exist: check for reruns, query SQL
        self._run_exact: dict[bytes, tuple[str, int]] = {}
        self._run_keys: set[tuple[str, int]] = set()
        self._buf: list[tuple[object, ...]] = []
        self._buf_sh: dict[int, tuple[str, int, bytes]] = {}
        # Without a file: each row's shingles by id (from ``_sh_base``; b"" for a row
        # without), for verification, which looks up half a million rows per 20 MB of a
        # recombined corpus (a list index, where a dict of tuples took 0.4 s).
        self._run_sh: list[bytes] = []
        self._sh_base = self._next_id
        self._dup_buf: list[tuple[str, int, bytes, str, str, int, float]] = []
        # check_document: verified near candidates of the current segment from the index
        # as it stood before its slice, and the rows its slice added since. (Those are
        # tracked by the LSH, looked up by band key, not scanned, so that a document of
        # 50,000 segments stays linear.)
        self._pre: _Prefetched | None = None
        self._removed_at = 0
        # A document's rows from earlier runs are its old version (see _open_document):
        # per document, seg -> (id, nsh, has a signature), until confirmed or swept.
        self._opened: set[str] = set()
        self._stale: dict[str, dict[int, tuple[int, int, bool]]] = {}
        self._confirmed: dict[str, list[tuple[int, int, bool]]] = {}
        self._stale_ids: set[int] = set()  # no candidates until their document ends

    # -- checking ------------------------------------------------------------------------

    @_index_errors
    def check_document(
        self, doc: str, segs: Sequence[tuple[int, Fingerprint]]
    ) -> list[DupHit | None]:
        """``check`` for each segment of one document, in order: the same verdicts.

        The near candidates among the segments kept before a slice of the document
        (PREFETCH_BATCH segments) are found, screened and verified for all its segments in
        one vectorised pass; only those the slice itself adds are checked segment by
        segment.
        """
        if self.cfg.mode != "near" or len(segs) < 2:
            return [self._check(doc, seg, fp) for seg, fp in segs]
        if self._prior:
            self._open_document(doc)  # (before the prefetch: its old rows are not candidates)
        out: list[DupHit | None] = []
        try:
            for start in range(0, len(segs), PREFETCH_BATCH):
                part = segs[start : start + PREFETCH_BATCH]
                pre = self._prefetch([fp for _, fp in part])
                self._removed_at = self._lsh.removed
                self._lsh.track(True)
                for (seg, fp), got in zip(part, pre, strict=True):
                    self._pre = got
                    out.append(self._check(doc, seg, fp))
            return out
        finally:
            self._pre = None
            self._lsh.track(False)

    @_index_errors
    def check(self, doc: str, seg: int, fp: Fingerprint) -> DupHit | None:
        """Is segment ``(doc, seg)`` a duplicate of a kept one? If not, keep (index) it.

        Segments whose folded text is empty are never duplicates and never indexed.
        """
        return self._check(doc, seg, fp)

    def _check(self, doc: str, seg: int, fp: Fingerprint) -> DupHit | None:
        if self.cfg.mode == "off" or fp.length == 0:
            return None
        if self._prior:
            self._open_document(doc)
        key = (doc, seg)
        if key in self._run_keys:  # the same (doc, seg) twice in one run
            hit = self._find(fp)
            if hit is None:
                raise InputError(
                    f"segment {seg} of document {doc!r} was given twice with different text; "
                    "document ids must be unique within a run"
                )
            self._count(doc, seg, fp, hit)
            return hit
        if self._prior:
            row = self._db.execute(
                "SELECT id, exact, sig IS NULL FROM segs WHERE doc = ? AND seg = ?", key
            ).fetchone()
            if row is not None:
                confirmed = row[1] == fp.exact
                self._unstale(doc, seg, restore=confirmed)
                if confirmed:
                    if row[2] and fp.minhash is not None and self.cfg.mode == "near":
                        self._add_signature(row[0], fp)
                    self._count(doc, seg, fp, None)
                    return None  # already indexed by an earlier run: not a copy of itself
                self._drop_version(row[0], key)  # its text changed
            old = self._db.execute(
                "SELECT exact, kind, kept_doc, kept_seg, similarity FROM dups "
                "WHERE doc = ? AND seg = ?",
                key,
            ).fetchone()
            if old is not None and not self._holds(old, fp):
                self._db.execute("DELETE FROM dups WHERE doc = ? AND seg = ?", key)
            elif old is not None:
                hit = DupHit(old[1], old[2], int(old[3]), float(old[4]))
                self._count(doc, seg, fp, hit)
                return hit  # the verdict of the earlier run, even if better matches came later
        self._klist: list[int] = []  # band keys, once _find computed them
        hit = self._find(fp)
        if hit is None:
            self._add(doc, seg, fp)
        elif self._store_rows:
            self._dup_buf.append((doc, seg, fp.exact, hit.kind, hit.doc, hit.seg, hit.similarity))
            if len(self._dup_buf) >= 2048:
                self._flush()
        self._count(doc, seg, fp, hit)
        return hit

    def _open_document(self, doc: str) -> None:
        """The first time this run meets ``doc``: its rows from earlier runs are its old
        version, and no candidates while the document is checked (a paragraph that moved,
        a line deleted above it, was called a copy of its own old place, which the next
        segment then replaced: the paragraph was lost). When the document ends, the rows
        its segments confirmed (same place, same text) are candidates again and the
        others are dropped (``end_document``). Nothing changes in the middle of the
        document, so checking it at once or segment by segment gives the same verdicts."""
        if doc in self._opened:
            return
        self._opened.add(doc)
        rows = self._db.execute(
            "SELECT id, seg, nsh, sig IS NOT NULL FROM segs WHERE doc = ?", (doc,)
        ).fetchall()
        if not rows:
            return
        self._stale[doc] = {
            int(seg): (int(rid), int(nsh), bool(sig)) for rid, seg, nsh, sig in rows
        }
        self._stale_ids.update(int(r[0]) for r in rows)
        if self.cfg.mode == "near":
            for rid, _, _, sig in rows:
                if sig:
                    self._lsh.remove(int(rid))

    def _unstale(self, doc: str, seg: int, restore: bool) -> None:
        """Row ``(doc, seg)`` of an earlier run is settled: confirmed (``restore``: a
        candidate again when its document ends) or about to be replaced."""
        got = self._stale.get(doc, {}).pop(seg, None)
        if got is None:
            return
        if restore:
            self._confirmed.setdefault(doc, []).append(got)
        else:
            self._stale_ids.discard(got[0])

    def _close_document(self, doc: str) -> None:
        """``doc`` ends: its confirmed old rows are candidates again, the others go."""
        for rid, nsh, sig in self._confirmed.pop(doc, []):
            self._stale_ids.discard(rid)
            if sig and self.cfg.mode == "near":
                self._lsh.nsh[rid] = nsh
        for seg, (rid, _, _) in sorted(self._stale.pop(doc, {}).items()):
            self._stale_ids.discard(rid)
            self._drop_version(rid, (doc, seg))

    def _drop_version(self, rid: int, key: tuple[str, int]) -> None:
        """Forget an earlier run's version of ``key``, and the verdicts that named it as
        the kept segment: those segments are checked again when they come (else a copy
        of the old text would stay a duplicate of text that no longer exists)."""
        self._flush()  # this run's verdicts too
        self._db.execute("DELETE FROM segs WHERE id = ?", (rid,))
        self._db.execute("DELETE FROM dups WHERE kept_doc = ? AND kept_seg = ?", key)
        if self.cfg.mode == "near":
            self._lsh.remove(rid)

    def _add_signature(self, rid: int, fp: Fingerprint) -> None:
        """An exact run indexed this segment without a signature: a near run that meets
        it again adds one, so that near copies of it are found from now on."""
        assert fp.minhash is not None and fp.shingles is not None
        nsh = len(fp.shingles) // 4
        self._db.execute(
            "UPDATE segs SET nsh = ?, sig = ?, shingles = ? WHERE id = ?",
            (nsh, fp.minhash, fp.shingles, rid),
        )
        self._lsh.add(rid, fp.minhash, nsh, self._band_keys(fp))

    def _holds(self, old: tuple[bytes, str, str, int, float], fp: Fingerprint) -> bool:
        """Does an earlier run's verdict (exact, kind, kept doc, kept seg, similarity)
        still hold for ``fp`` in this run?"""
        exact, kind, kept_doc, kept_seg, similarity = old
        if exact != fp.exact or (
            kind == "near" and (self.cfg.mode != "near" or similarity < self.cfg.threshold)
        ):
            return False
        kept = self._db.execute(
            "SELECT exact FROM segs WHERE doc = ? AND seg = ?", (kept_doc, kept_seg)
        ).fetchone()
        return kept is not None and (kind != "exact" or kept[0] == fp.exact)

    def _find(self, fp: Fingerprint) -> DupHit | None:
        kept = self._run_exact.get(fp.exact)
        if kept is None and self._prior:
            found = self._db.execute(
                "SELECT id, doc, seg FROM segs WHERE exact = ? ORDER BY id", (fp.exact,)
            )
            kept = next(((d, sg) for rid, d, sg in found if rid not in self._stale_ids), None)
        if kept is not None:
            return DupHit("exact", kept[0], int(kept[1]), 1.0)
        if self.cfg.mode != "near" or fp.minhash is None or fp.shingles is None:
            return None
        n = len(fp.shingles) // 4
        t = self.cfg.threshold
        # |A ∩ B| / |A ∪ B| >= t needs t*|A| <= |B| <= |A|/t.
        lo, hi = math.floor(n * t - 1e-9), math.ceil(n / t + 1e-9)
        if self._pre is not None:
            ids, agree, sims, best, self._klist = self._pre
            since = self._lsh.band_ids_recent(self._klist)
            if not since and self._lsh.removed == self._removed_at:
                # Nothing done since the prefetch touches its candidates: the prefetch's
                # verdict is the one the steps below would reach.
                if best is None:
                    return None
                cdoc, cseg, _ = self._rows([best[0]])[0]
                return DupHit("near", cdoc, int(cseg), best[1])
            alive = self._lsh.nsh[ids] > 0  # a row replaced since the prefetch
            ids, agree, sims = ids[alive], agree[alive], sims[alive]
            if since:  # kept earlier in this slice (an id once per shared key)
                more_ids, more_agree = self._lsh.candidates_among(since, fp.minhash, lo, hi)
                ids = np.concatenate((ids, more_ids))
                agree = np.concatenate((agree, more_agree))
                sims = np.concatenate((sims, np.full(len(more_ids), np.nan)))
        else:
            self._klist = self._band_keys(fp)
            ids, agree = self._lsh.candidates(self._klist, fp.minhash, lo, hi)
            sims = np.full(len(ids), np.nan)
        if not len(ids):
            return None
        pick = _best_first(agree, ids)
        ids, sims = ids[pick], sims[pick]
        todo = np.flatnonzero(np.isnan(sims))  # not verified by a prefetch
        if len(todo):
            sims[todo] = mh.jaccard_many(fp.shingle_set(), self._blobs(ids[todo]))
        ok = np.flatnonzero(sims >= t)
        if not len(ok):
            return None
        # Ids ascend, so argmax (the first of equals) gives ties to the earliest kept segment.
        i = int(ok[np.argmax(sims[ok])])
        cdoc, cseg, _ = self._rows([int(ids[i])])[0]
        return DupHit("near", cdoc, int(cseg), float(sims[i]))

    def _rows(self, ids: Sequence[int]) -> list[tuple[str, int, bytes]]:
        """(doc, seg, shingles) of kept rows, in the order of ``ids`` (ascending)."""
        buffered = self._buf_sh
        if not self._store_rows:  # no index file: every row of the run is here
            return [buffered[c] for c in ids]
        # Written rows have smaller ids than buffered ones, so this keeps the order.
        stored = [c for c in ids if c not in buffered]
        found: list[tuple[str, int, bytes]] = []
        for start in range(0, len(stored), 500):  # SQLite's parameter limit
            part = stored[start : start + 500]
            found += self._db.execute(
                f"SELECT doc, seg, shingles FROM segs WHERE id IN ({','.join('?' * len(part))})"
                " ORDER BY id",
                part,
            ).fetchall()
        found += [buffered[c] for c in ids if c in buffered]
        return found

    def _blobs(self, ids: npt.NDArray[np.int64]) -> list[bytes]:
        """The shingle sets of kept rows, in the order of ``ids`` (repeats allowed)."""
        if self._store_rows:  # read each row once from the file
            want = ids.tolist()
            uniq = sorted(set(want))
            got = dict(zip(uniq, map(_SHINGLES, self._rows(uniq)), strict=True))
            return list(map(got.__getitem__, want))
        # Every row of the run is in memory: looked up in C.
        return list(map(self._run_sh.__getitem__, (ids - self._sh_base).tolist()))

    def _prefetch(self, fps: Sequence[Fingerprint]) -> list[_Prefetched | None]:
        """For each fingerprint: the kept rows (ascending ids) that pass the size and
        signature screens, their agreement, and the exact Jaccard similarity of those
        ``_best_first`` would verify (NaN for the others). One vectorised pass."""
        out: list[_Prefetched | None] = [None] * len(fps)
        t = self.cfg.threshold
        queries: list[int] = []
        found: list[bytes] = []
        klists: list[list[int]] = []
        for q, fp in enumerate(fps):
            if fp.minhash is None or fp.shingles is None or fp.length == 0:
                continue
            klists.append(klist := self._band_keys(fp))
            found.append(self._lsh.band_ids(klist))
            queries.append(q)
        if not queries:
            return out
        qn = np.array([len(fps[q].shingles or b"") // 4 for q in queries], dtype=np.int64)
        counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found)) // _ID.size
        # (query, candidate) pairs, each once, sorted by query then id
        pairs = _sorted_unique(
            (np.repeat(np.arange(len(queries), dtype=np.int64), counts) << 40)
            | ids_of(b"".join(found))
        )
        qpos, cand = pairs >> 40, pairs & ((1 << 40) - 1)
        sigs = np.frombuffer(b"".join(fps[q].minhash or b"" for q in queries), dtype="<u4")
        sigs = self._lsh.low_bytes(sigs.reshape(len(queries), -1))
        lo = np.floor(qn * t - 1e-9).astype(np.int64)
        hi = np.ceil(qn / t + 1e-9).astype(np.int64)
        agree = self._lsh.screen(cand, qpos, sigs, lo, hi)
        keep = agree >= 0
        qpos, cand, agree = qpos[keep], cand[keep], agree[keep]
        split = np.searchsorted(qpos, np.arange(len(queries) + 1))
        # The pairs each query would verify first (see _best_first), verified together:
        # rank the pairs within their query by agreement (ties: lowest id).
        order = np.lexsort((cand, -agree, qpos))
        rank = np.arange(len(order)) - split[qpos[order]]
        verify = np.zeros(len(cand), dtype=bool)
        verify[order[rank < VERIFY_TOP]] = True
        sims = np.full(len(cand), np.nan)
        vq, vc = qpos[verify], cand[verify]
        if len(vc):
            qsets = [np.frombuffer(fps[q].shingles or b"", dtype="<u4") for q in queries]
            sims[verify] = mh.jaccard_pairs(qsets, vq, self._blobs(vc))
        # Each query's verdict as _find reaches it: among the verified pairs (those it
        # would verify), the most similar at or above the threshold, ties to the lowest id.
        good = np.flatnonzero(sims >= t)  # (NaN: not verified, never good)
        best: dict[int, tuple[int, float]] = {}
        if len(good):
            order = good[np.lexsort((cand[good], -sims[good], qpos[good]))]
            head = order[np.concatenate(([True], qpos[order][1:] != qpos[order][:-1]))]
            best = dict(
                zip(
                    qpos[head].tolist(),
                    zip(cand[head].tolist(), sims[head].tolist(), strict=True),
                    strict=True,
                )
            )
        for j, q in enumerate(queries):
            a, b = split[j], split[j + 1]
            out[q] = (cand[a:b], agree[a:b], sims[a:b], best.get(j), klists[j])
        return out

    def _band_keys(self, fp: Fingerprint) -> list[int]:
        if fp.bands is not None:
            keys = array("q", fp.bands)  # plain array: cheaper than numpy for 42 values
            if sys.byteorder == "big":
                keys.byteswap()
            return keys.tolist()
        return fp.band_keys(self.bands, self.rows, self.cfg)

    def _add(self, doc: str, seg: int, fp: Fingerprint) -> None:
        rid = self._next_id
        self._next_id += 1
        sig, sh = fp.minhash, fp.shingles
        if self.cfg.mode == "near" and sig is not None and sh is not None:
            nsh = len(sh) // 4
            if self._store_rows:
                self._buf.append((rid, doc, seg, fp.exact, nsh, sig, sh))
            self._buf_sh[rid] = (doc, seg, sh)
            self._lsh.add(rid, sig, nsh, self._klist or self._band_keys(fp))
        elif self._store_rows:
            self._buf.append((rid, doc, seg, fp.exact, 0, None, None))
        if not self._store_rows and self.cfg.mode == "near":
            self._run_sh.append(sh if sig is not None and sh is not None else b"")  # (one a row)
        self._run_exact[fp.exact] = (doc, seg)
        self._run_keys.add((doc, seg))
        if len(self._buf) + len(self._dup_buf) >= 2048:
            self._flush()

    def _flush(self) -> None:
        """Write buffered rows (inside the run's transaction: nothing is durable yet)."""
        if self._buf:
            self._db.executemany("INSERT INTO segs VALUES (?, ?, ?, ?, ?, ?, ?)", self._buf)
        if self._dup_buf:
            self._db.executemany(
                "INSERT OR REPLACE INTO dups VALUES (?, ?, ?, ?, ?, ?, ?)", self._dup_buf
            )
        self._buf.clear()
        if self._store_rows:  # written: read back from the file from now on
            self._buf_sh.clear()
        self._dup_buf.clear()

    # -- documents -----------------------------------------------------------------------

    def _count(self, doc: str, seg: int, fp: Fingerprint, hit: DupHit | None) -> None:
        st = self._docs.get(doc)
        if st is None:
            st = self._docs[doc] = _DocState()
        st.total += 1
        st.length += fp.length
        if hit is not None and hit.doc != doc:
            st.hits.setdefault(hit.doc, []).append((seg, hit.similarity, fp.length))

    @_index_errors
    def end_document(self, doc: str) -> DocDup | None:
        """Document-level verdict once all of ``doc``'s segments were checked; the rows of
        its old version that none of them confirmed are dropped."""
        if self._prior and self.cfg.mode != "off":
            self._open_document(doc)
            self._close_document(doc)
        st = self._docs.pop(doc, None)
        if st is None or not st.hits or st.total == 0:
            return None
        # Most duplicated segments wins; ties go to the document hit first (dict order).
        of, hits = max(st.hits.items(), key=lambda kv: len(kv[1]))
        if len(hits) < self.cfg.doc_ratio * st.total:
            return None
        covered = sum(sim * length for _, sim, length in hits) / max(st.length, 1)
        return DocDup(doc, of, tuple(s for s, _, _ in hits), st.total, round(covered, 6))

    # -- lifecycle -----------------------------------------------------------------------

    @_index_errors
    def commit(self) -> None:
        """Make this run durable (and start a new transaction for any further checks)."""
        try:
            self._flush()
            self._db.execute("COMMIT")
            self._db.execute("BEGIN IMMEDIATE")
            # Written: later checks read this run's rows back from the file. Without a file
            # they are only in memory, and stay there (they were lost, and ids reused).
            if self._store_rows:
                self._start_run()
        except sqlite3.Error as exc:
            raise InputError(f"{self._where}: cannot write the dedup index ({exc})") from None

    def close(self) -> None:
        """Close; anything not committed is rolled back. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        finally:
            self._db.close()

    def __enter__(self) -> DedupIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            self.close()

    def __len__(self) -> int:
        """Number of kept (indexed) segments."""
        if not self._store_rows:
            return len(self._run_exact)
        self._flush()
        return int(self._db.execute("SELECT COUNT(*) FROM segs").fetchone()[0])
