"""Near-duplicate pass throughput: glossnorm.dedup vs datasketch, same process, same text.

    PYTHONPATH=src python benchmarks/bench_dedup.py [--mb 5] [--num-perm 128]

Both sides get the same folded segments, the same character n-grams and num_perm, and do
the same job: fingerprint every segment, query the LSH index, insert it if new. glossnorm
also verifies every candidate with the exact Jaccard (datasketch does not), and writes to
its SQLite index. The text is generated (no corpus text is shipped): news-like paragraphs
on 200 stories (each story's paragraphs share its names), 10% re-posted with an edit.
Prints MB/s (UTF-8 bytes of input) and the ratio. Timings are never asserted anywhere.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from glossnorm.dedup import DedupConfig, DedupIndex, fingerprints, fold

PARTICLES = ["は", "が", "を", "に", "で", "と", "の", "から", "について", "に対し"]
ENDINGS = ["と述べた。", "と強調した。", "を明らかにした。", "との見方を示した。", "と警告した。",
           "を発表した。", "に合意した。", "を確認した。"]


def _word(rng: random.Random) -> str:
    if rng.random() < 0.3:  # katakana name-like word
        return "".join(chr(0x30A2 + rng.randrange(80)) for _ in range(rng.randint(3, 6)))
    return "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(rng.randint(2, 3)))


def corpus(mb: float, seed: int = 7) -> list[str]:
    """News-like paragraphs: 200 stories, each with its own names that its paragraphs
    share, over a common 5,000-word lexicon; 10% of paragraphs are re-posts with an edit."""
    rng = random.Random(seed)
    lexicon = [_word(rng) for _ in range(5000)]
    stories = [[_word(rng) for _ in range(6)] for _ in range(200)]
    out: list[str] = []
    size = 0
    while size < mb * 1e6:
        if out and rng.random() < 0.1:
            text = list(rng.choice(out))
            text[rng.randrange(len(text))] = "の"  # a one-character edit
            para = "".join(text)
        else:
            names = rng.choice(stories)
            sents = []
            for _ in range(rng.randint(2, 5)):
                words = [rng.choice(names if rng.random() < 0.3 else lexicon)
                         + rng.choice(PARTICLES) for _ in range(rng.randint(4, 9))]
                day = f"{rng.randint(1, 28)}日、"
                sents.append(words[0] + day + "".join(words[1:]) + rng.choice(ENDINGS))
            para = "".join(sents)
        out.append(para)
        size += len(para.encode("utf-8"))
    return out


def run_glossnorm(
    texts: list[str], cfg: DedupConfig, path: Path | None = None, chunk: int = 512,
    workers: int = 0,
) -> int:
    """Fingerprint chunks (in ``workers`` processes, as the pipeline does, or inline when 0)
    and check them in input order in this process."""
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    dups = n = 0
    with DedupIndex(cfg, path) as idx, ProcessPoolExecutor(max(workers, 1)) as pool:
        results = (
            pool.map(fingerprints, chunks, [cfg] * len(chunks)) if workers
            else (fingerprints(c, cfg) for c in chunks)
        )
        for fps in results:
            for fp in fps:
                dups += idx.check(f"d{n}", 0, fp) is not None
                n += 1
    return dups


def run_datasketch(texts: list[str], cfg: DedupConfig, batch: bool = False) -> int:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
    proto = MinHash(num_perm=cfg.num_perm)  # permutations shared: only hashing is timed
    dups = 0
    for i, text in enumerate(texts):
        folded = fold(text)
        m = MinHash(num_perm=cfg.num_perm, permutations=proto.permutations, scheme=proto.scheme)
        grams = [folded[j : j + cfg.ngram].encode("utf-8")
                 for j in range(max(len(folded) - cfg.ngram + 1, 1))]
        if batch:
            m.update_batch(grams)
        else:
            for g in grams:
                m.update(g)
        if lsh.query(m):
            dups += 1
        else:
            lsh.insert(f"d{i}", m)
    return dups


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--num-perm", type=int, default=DedupConfig().num_perm)
    ap.add_argument("--workers", type=int, default=0,
                    help="fingerprint in N worker processes, as the pipeline does (0: inline)")
    args = ap.parse_args()
    cfg = DedupConfig(num_perm=args.num_perm)
    texts = corpus(args.mb)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"{len(texts)} segments, {mb:.2f} MB; ngram={cfg.ngram} num_perm={cfg.num_perm}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        w0, c0 = time.perf_counter(), time.process_time()
        ours = run_glossnorm(texts, cfg, path, workers=args.workers)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        r0 = time.perf_counter()
        DedupIndex(cfg, path).close()
        reopen = time.perf_counter() - r0
        size = path.stat().st_size / 1e6
    # datasketch is ~10x slower: time it on a slice and report its rate.
    part = texts[: max(len(texts) // 5, 1)]
    part_mb = sum(len(t.encode("utf-8")) for t in part) / 1e6
    w0, c0 = time.perf_counter(), time.process_time()
    theirs = run_datasketch(part, cfg)
    twall, tcpu = time.perf_counter() - w0, time.process_time() - c0
    w0, c0 = time.perf_counter(), time.process_time()
    run_datasketch(part, cfg, batch=True)
    bwall, bcpu = time.perf_counter() - w0, time.process_time() - c0
    # CPU time is printed too: on a shared machine wall time mostly measures the neighbours.
    where = f"fingerprints in {args.workers} workers" if args.workers else "one process"
    print(f"glossnorm.dedup : {mb / wall:7.2f} MB/s wall, {mb / cpu:7.2f} MB/s CPU of this "
          f"process ({ours} duplicates; {where})")
    print(f"datasketch      : {part_mb / twall:7.2f} MB/s wall, {part_mb / tcpu:7.2f} MB/s CPU "
          f"(on {part_mb:.2f} MB, {theirs} duplicates)")
    print(f"  update_batch  : {part_mb / bwall:7.2f} MB/s wall, {part_mb / bcpu:7.2f} MB/s CPU")
    print(f"ratio           : {(mb / wall) / (part_mb / twall):7.1f}x wall, "
          f"{(mb / cpu) / (part_mb / tcpu):.1f}x CPU (vs update_batch: "
          f"{(mb / wall) / (part_mb / bwall):.1f}x wall, {(mb / cpu) / (part_mb / bcpu):.1f}x CPU)")
    print(f"index file      : {size:.1f} MB, reopened (loading the LSH) in {reopen * 1000:.0f} ms")

if __name__ == "__main__":
    main()
