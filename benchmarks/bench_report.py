"""Benchmark: report linking on a large synthetic names glossary vs plain rapidfuzz extractOne.

    PYTHONPATH=src python benchmarks/bench_report.py [--entries 60000] [--candidates 3000]

Both run in this process on the same candidates; prints times, the ratio and peak memory.
Never used as a test (timings are machine-dependent).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval" / "report"))
from synth import make

from glossnorm.model import Entry, EntryType
from glossnorm.report import Candidate, GlossaryIndex, ReportOptions, build_report_from_candidates


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=60000)
    ap.add_argument("--candidates", type=int, default=3000)
    ap.add_argument("--memory", action="store_true", help="also trace peak memory (slower)")
    a = ap.parse_args()
    names, cands = make(a.entries, a.candidates // 2, a.candidates // 2)
    entries = [Entry(f"e{i}", EntryType.PERSON, n, f"E{i}") for i, n in enumerate(names)]
    cs = [Candidate(s, "katakana") for s, _ in cands]
    if a.memory:  # tracemalloc slows Python code several-fold: separate run
        tracemalloc.start()
    t0 = time.perf_counter()
    idx = GlossaryIndex(entries, readings=False)
    t_index = time.perf_counter() - t0
    rep = build_report_from_candidates(idx, cs, ReportOptions())
    t_ours = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t0 = time.perf_counter()
    for s, _ in cands:
        process.extractOne(s, names, scorer=fuzz.ratio, score_cutoff=67)
    t_base = time.perf_counter() - t0
    print(f"{len(names)} entries, {len(cs)} candidates")
    print(f"glossnorm report: {t_ours:.2f} s (index {t_index:.2f} s), "
          f"{len(rep.suggestions)} suggestions, {len(rep.clusters)} clusters"
          + (f", peak traced memory {peak / 1e6:.0f} MB" if a.memory else ""))
    print(f"rapidfuzz extractOne: {t_base:.2f} s")
    print(f"ratio report/extractOne: {t_ours / t_base:.2f}")


if __name__ == "__main__":
    main()
