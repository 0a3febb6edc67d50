"""Vectorised character n-gram shingling, MinHash and LSH banding for ``dedup``.

datasketch hashes every shingle with SHA-1 in Python (0.1-0.8 MB/s here); this module does
the same job with a handful of numpy calls per *batch* of segments:

1. the folded text becomes a UTF-32 code-point array;
2. each n-gram gets a polynomial hash (uint64, wrapping) finished with the splitmix64 mixer,
   truncated to 32 bits, then a sort gives the sorted unique shingle set;
3. MinHash is ``min(a_i * x mod 2**32)`` (``a_i`` odd: a bijection of the already
   well-mixed 32-bit shingle hashes) over a (num_perm x n) uint32 matrix: one multiply and
   one min per cell, in 32-bit SIMD lanes (uint64 multiplies are ~3x slower here; the usual
   ``+ b_i`` term cost a quarter of the time and changed nothing measurable). A simulation
   gave match rates unbiased for J with binomial variance, as MinHash should.

Every function has a pure-Python twin (``*_reference``) that the tests compare against; the
shingle sets also serve as the exact-similarity check behind LSH, so banding collisions never
decide anything on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T", bound=np.generic)
U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1
_BASE = 0x100000001B3  # FNV-64 prime: odd, so the polynomial keeps every code-point bit
_SEED = 0x5EED_61055  # fixed: fingerprints must be identical across processes and runs


def _splitmix64(x: U64) -> U64:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits (in place)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _splitmix64_py(x: int) -> int:
    x &= _M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    return x


def sorted_unique(x: npt.NDArray[T]) -> npt.NDArray[T]:
    """``np.unique`` without its hashing pass (sort + neighbour compare is faster here)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def shingles(text: str, n: int) -> U32:
    """Sorted unique 32-bit hashes of the character n-grams of ``text``.

    A text shorter than ``n`` (but not empty) is one shingle: itself.
    """
    if not text:
        return np.empty(0, dtype=np.uint32)
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    n = min(n, len(cp))
    m = len(cp) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    for k in range(n):  # Horner over the n positions; n is small, m is long
        h *= np.uint64(_BASE)
        h += cp[k : k + m]
    h += np.uint64(n)  # keep 2-grams and 3-grams of the same text apart
    _splitmix64(h)
    return sorted_unique((h >> np.uint64(32)).astype(np.uint32))


def shingle_sets(texts: list[str], n: int) -> tuple[U32, npt.NDArray[np.intp]]:
    """:func:`shingles` of many texts at once: a flat array and ``k + 1`` offsets.

    Text ``i``'s set is ``flat[offsets[i]:offsets[i + 1]]``. Batching removes the per-call
    numpy overhead that dominates on paragraph-sized texts.
    """
    k = len(texts)
    if any(len(t) < n for t in texts):  # rare: short texts take the one-by-one path
        parts = [shingles(t, n) for t in texts]
        offs = np.zeros(k + 1, dtype=np.intp)
        np.cumsum([len(p) for p in parts], out=offs[1:])
        flat = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
        return flat.astype(np.uint32), offs
    lens = np.array([len(t) for t in texts], dtype=np.int64)
    joined = "".join(texts).encode("utf-32-le", "surrogatepass")
    cp = np.frombuffer(joined, dtype=np.uint32).astype(np.uint64)
    total = len(cp)
    m = total - n + 1
    if k == 0 or m <= 0:
        return np.empty(0, dtype=np.uint32), np.zeros(k + 1, dtype=np.intp)
    h = np.zeros(m, dtype=np.uint64)
    for j in range(n):
        h *= np.uint64(_BASE)
        h += cp[j : j + m]
    h += np.uint64(n)
    _splitmix64(h)
    # Keep windows that lie inside one text; tag each hash with its text index and sort.
    seg = np.repeat(np.arange(k, dtype=np.uint64), lens)[:m]
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    pos = np.arange(m, dtype=np.int64) - np.repeat(starts, lens)[:m]
    valid = pos <= np.repeat(lens - n, lens)[:m]
    keys = sorted_unique((seg[valid] << np.uint64(32)) | (h[valid] >> np.uint64(32)))
    offs = np.searchsorted(keys >> np.uint64(32), np.arange(k + 1, dtype=np.uint64))
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), offs.astype(np.intp)


def minhashes(flat: U32, offsets: npt.NDArray[np.intp], a: U32, chunk: int = 16384) -> U32:
    """:func:`minhash` of many non-empty sets: a (k, num_perm) array, one row per set."""
    k = len(offsets) - 1
    out = np.empty((k, len(a)), dtype=np.uint32)
    i = 0
    while i < k:
        # Sets [i, j) whose shingles fit one (num_perm x chunk) matrix (at least one set).
        j = max(i + 1, int(np.searchsorted(offsets, offsets[i] + chunk, side="right")) - 1)
        j = min(j, k)
        lo, hi = offsets[i], offsets[j]
        mat = np.multiply.outer(a, flat[lo:hi])
        red = np.minimum.reduceat(mat, offsets[i:j] - lo, axis=1)
        out[i:j] = red.T
        i = j
    return out


def shingles_reference(text: str, n: int) -> list[int]:
    """Pure-Python twin of :func:`shingles` (for tests)."""
    if not text:
        return []
    n = min(n, len(text))
    out = set()
    for i in range(len(text) - n + 1):
        h = 0
        for ch in text[i : i + n]:
            h = (h * _BASE + ord(ch)) & _M64
        out.add(_splitmix64_py(h + n) >> 32)
    return sorted(out)


def permutations(num_perm: int) -> U32:
    """The fixed odd multipliers of the ``num_perm`` hash functions."""
    rng = np.random.default_rng(_SEED)
    a: U32 = rng.integers(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a | np.uint32(1)


def minhash(sh: U32, a: U32) -> U32:
    """MinHash signature of a shingle set under the hash functions ``a``."""
    if len(sh) == 0:
        return np.full(len(a), 0xFFFFFFFF, dtype=np.uint32)
    m: U32 = np.multiply.outer(a, sh)
    out: U32 = m.min(axis=1)
    return out


def minhash_reference(sh: list[int], a: list[int]) -> list[int]:
    """Pure-Python twin of :func:`minhash`."""
    if not sh:
        return [0xFFFFFFFF] * len(a)
    return [min((ai * x) & _M32 for x in sh) for ai in a]


def jaccard(x: U32, y: U32) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    if len(x) == 0 and len(y) == 0:
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits index the table
# Tagged keys have a query position below 2**32 - 2 in their high half, so neither value
# below is ever a key: _EMPTY fills free slots, _CLASH those that two keys hash to.
_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
_CLASH = np.uint64(0xFFFFFFFEFFFFFFFF)
TABLE_SLACK = 3  # table slots per key: 8-16 (a key is in a clash ~1/16 to 1/8 of the time)


def jaccard_pairs(
    qsets: Sequence[U32], pair_query: npt.NDArray[np.int64], blobs: list[bytes]
) -> npt.NDArray[np.float64]:
    """Exact Jaccard of each pair (``qsets[pair_query[i]]``, ``blobs[i]``), in one
    vectorised pass. Sets are sorted and unique (blobs: little-endian uint32).

    Every shingle is tagged with its query's position (high 32 bits): the query shingles go
    into a hash table, and each blob shingle, tagged with its pair's query, is looked up
    with one gather (a binary search per shingle took 1.6x as long; tens of millions of
    shingles are verified per 20 MB). Shingles in a clashed slot are looked up by binary
    search among the clashing keys. The matches are counted per pair."""
    if not blobs:
        return np.zeros(0)
    qn = np.array([len(x) for x in qsets], dtype=np.int64)
    qkeys = np.repeat(np.arange(len(qsets), dtype=np.uint64) << np.uint64(32), qn) | (
        np.concatenate(qsets).astype(np.uint64)
    )
    lens = np.array(list(map(len, blobs)), dtype=np.int64) >> 2
    ends = np.cumsum(lens)
    inter = np.zeros(len(blobs), dtype=np.int64)
    if len(qkeys) and int(ends[-1]):
        bits = max(8, len(qkeys).bit_length() + TABLE_SLACK)
        shift = np.uint64(64 - bits)
        table = np.full(1 << bits, _EMPTY, dtype=np.uint64)
        qslot = (qkeys * _GOLDEN) >> shift
        table[qslot] = qkeys  # of keys sharing a slot, one stays
        lost = table[qslot] != qkeys
        clashing = qkeys[:0]
        if lost.any():
            table[qslot[lost]] = _CLASH
            clashing = qkeys[table[qslot] == _CLASH]  # sorted, as qkeys is
        flat = np.frombuffer(b"".join(blobs), dtype="<u4").astype(np.uint64)
        tagged = (np.repeat(pair_query.astype(np.uint64), lens) << np.uint64(32)) | flat
        slot = tagged * _GOLDEN
        slot >>= shift
        found = table[slot]
        hit = found == tagged
        if len(clashing):
            maybe = np.flatnonzero(found == _CLASH)
            x = tagged[maybe]
            pos = np.minimum(np.searchsorted(clashing, x), len(clashing) - 1)
            hit[maybe] = clashing[pos] == x
        seen = np.zeros(len(tagged) + 1, dtype=np.int64)
        np.cumsum(hit, out=seen[1:])
        inter = seen[ends] - seen[ends - lens]
    union = qn[pair_query] + lens - inter
    out: npt.NDArray[np.float64] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out


def jaccard_many(x: U32, blobs: list[bytes]) -> npt.NDArray[np.float64]:
    """Exact Jaccard of ``x`` with each shingle set in ``blobs`` (see ``jaccard_pairs``)."""
    return jaccard_pairs([x], np.zeros(len(blobs), dtype=np.int64), blobs)


def jaccard_reference(x: list[int], y: list[int]) -> float:
    sx, sy = set(x), set(y)
    if not sx and not sy:
        return 1.0
    return len(sx & sy) / len(sx | sy)


def band_keys(sigs: U32, bands: int, rows: int) -> npt.NDArray[np.int64]:
    """LSH band keys of signatures ``(k, num_perm)``: a ``(k, bands)`` array of signed 64-bit
    keys (band index mixed in, so one key space serves every band)."""
    sigs = np.atleast_2d(sigs)
    m = sigs[:, : bands * rows].astype(np.uint64).reshape(len(sigs), bands, rows)
    h = np.empty(m.shape[:2], dtype=np.uint64)
    h[:] = np.arange(bands, dtype=np.uint64) + np.uint64(_SEED)
    for j in range(rows):
        h *= np.uint64(_BASE)
        h += m[:, :, j]
    _splitmix64(h)
    return h.view(np.int64)
