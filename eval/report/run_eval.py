"""Precision/recall/F1 of the report's linker against plain rapidfuzz ratio.

    PYTHONPATH=src python eval/report/run_eval.py [--entries 60000] [--small]

Sets:
  names     hand-written transliteration variants (variants.tsv) and hard negatives
            (negatives.tsv, both directions), linked against a glossary of their canonicals.
  sudachi   variant spellings SudachiDict itself knows: ヴ/ー/ィ variants of probe words kept
            when their normalized_form agrees with the base word's (compared *without*
            using normalized_form, so only the phonetic scorer is measured).
  synth     a large synthetic names glossary (synth.py) with drift variants and negatives.
The baseline is rapidfuzz process.extractOne(fuzz.ratio) with the best threshold chosen
after the fact; for the linker the F1-best min_score is printed too.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz, process

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from synth import make  # noqa: E402

from glossnorm import kana  # noqa: E402
from glossnorm.model import Entry, EntryType  # noqa: E402
from glossnorm.report import Candidate, GlossaryIndex, ReportOptions  # noqa: E402

PROBE = ["ヴァイオリン", "ヴィーナス", "ヴェネチア", "ヴォルガ", "ソヴィエト", "ヴェトナム", "ヴァチカン", "ヴィクトリア", "ヴィタミン", "ヴァージニア", "ヴェルサイユ", "ボランティア", "パーティー", "コンピューター", "プリンター", "エレベーター", "スリッパ", "ウィーン", "ウィスキー", "ウィンドウ", "メロディー", "ディズニー", "ティッシュ", "ヴァンクーヴァー", "ドストエフスキー", "チャイコフスキー", "ハンガリー", "ヴェネズエラ", "セーター", "モーツァルト", "ベートーヴェン", "ヴェルディ", "ヴィヴァルディ", "ヴォルテール", "ルーヴル", "ヴィザ", "ウォッカ", "キャラバン", "サーヴィス", "ヴァリエーション", "インタヴュー", "テレヴィ", "ヴィデオ"]  # noqa: E501


def sudachi_pairs() -> list[tuple[str, str]]:
    from sudachipy import Dictionary, SplitMode

    tok = Dictionary(dict="core").tokenizer(mode=SplitMode.C)

    def single(s: str) -> str | None:
        ms = tok.tokenize(s)
        return ms[0].normalized_form() if len(ms) == 1 and not ms[0].is_oov() else None

    pairs = []
    for w in PROBE:
        norm = single(w)
        if norm is None:
            continue
        alts = {w.replace("ヴァ", "バ").replace("ヴィ", "ビ").replace("ヴェ", "ベ").replace(
            "ヴォ", "ボ").replace("ヴ", "ブ"), w.replace("ー", ""), w.rstrip("ー"), w + "ー",
            w.replace("ィ", "イ"), w.replace("ウィ", "ウイ"), w.replace("ティ", "チ")}
        for a in alts - {w}:
            if single(a) == norm:
                pairs.append((a, w))
    return pairs


def tsv(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            a, b = line.split("\t")
            rows.append((a, b))
    return rows


def entries_of(names: list[str]) -> list[Entry]:
    return [Entry(f"e{i}", EntryType.OTHER, n, f"E{i}") for i, n in enumerate(names)]


def evaluate(names: list[str], cands: list[tuple[str, int | None]], label: str) -> None:
    n_pos = sum(1 for _, t in cands if t is not None)
    t0 = time.perf_counter()
    idx = GlossaryIndex(entries_of(names), readings=False)
    opts = ReportOptions(min_score=0.5)
    ours = []
    for s, _ in cands:
        sg = idx.link(Candidate(s, "latin" if kana.is_latin(s) else "katakana"), opts)
        ours.append((int(sg.entry[1:]), sg.score, sg.decision) if sg else None)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    base = [process.extractOne(s, names, scorer=fuzz.ratio, score_cutoff=50) for s, _ in cands]
    t_base = time.perf_counter() - t0

    def prf(pred: list[tuple[int, float] | None]) -> tuple[float, float, float, int]:
        tp = sum(1 for p, (_, t) in zip(pred, cands, strict=True) if p and p[0] == t)
        fp = sum(1 for p, (_, t) in zip(pred, cands, strict=True) if p and p[0] != t)
        hn = sum(1 for p, (_, t) in zip(pred, cands, strict=True) if p and t is None)
        pr = tp / (tp + fp) if tp + fp else 1.0
        rc = tp / n_pos if n_pos else 1.0
        return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0), hn

    best_b = max(((prf([(b[2], b[1]) if b and b[1] >= t else None for b in base]), t)
                  for t in range(50, 101)), key=lambda x: x[0][2])
    sweep = {t / 100: prf([(o[0], o[1]) if o and o[1] >= t / 100 else None for o in ours])
             for t in range(60, 96, 5)}
    best_o = max(sweep.items(), key=lambda x: x[1][2])
    d = ReportOptions().min_score
    dflt = prf([(o[0], o[1]) if o and o[1] >= d else None for o in ours])
    auto = prf([(o[0], o[1]) if o and o[1] >= d and o[2] == "auto" else None for o in ours])
    print(f"\n## {label}: {len(names)} entries, {n_pos} variants, {len(cands) - n_pos} negatives")
    print("| method | threshold | precision | recall | F1 | hard negatives paired | time s |")
    print("|---|---|---|---|---|---|---|")
    (p, r, f, h), t = best_b
    print(f"| rapidfuzz ratio (best after the fact) | {t} | {p:.3f} | {r:.3f} | {f:.3f} | {h} "
          f"| {t_base:.2f} |")
    p, r, f, h = dflt
    print(f"| glossnorm report (default) | {d} | {p:.3f} | {r:.3f} | {f:.3f} | {h} "
          f"| {t_ours:.2f} |")
    p, r, f, h = auto
    print(f"| glossnorm report, auto only | {ReportOptions().auto_score} | {p:.3f} | {r:.3f} "
          f"| {f:.3f} | {h} | |")
    (t2, (p, r, f, h)) = best_o
    print(f"| glossnorm report (best min_score) | {t2} | {p:.3f} | {r:.3f} | {f:.3f} | {h} | |")
    print("sweep min_score → P/R/F1: " + ", ".join(
        f"{t:.2f}: {v[0]:.2f}/{v[1]:.2f}/{v[2]:.2f}" for t, v in sweep.items()))
    misses = [s for (s, t), o in zip(cands, ours, strict=True)
              if t is not None and (o is None or o[0] != t or o[1] < d)]
    wrong = [s for (s, t), o in zip(cands, ours, strict=True)
             if t is None and o is not None and o[1] >= d]
    print(f"missed (first 12): {' '.join(misses[:12])}")
    print(f"negatives paired (first 12): {' '.join(wrong[:12])}")


def hand_set(pairs: list[tuple[str, str]], negs: list[tuple[str, str]],
             ) -> tuple[list[str], list[tuple[str, int | None]]]:
    names: list[str] = []
    for _, c in pairs:
        if c not in names:
            names.append(c)
    for a, _ in negs:
        if a not in names:
            names.append(a)
    cands: list[tuple[str, int | None]] = [(v, names.index(c)) for v, c in pairs if v not in names]
    cands += [(b, None) for _, b in negs if b not in names]
    return names, cands


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=60000)
    ap.add_argument("--candidates", type=int, default=3000)
    ap.add_argument("--small", action="store_true", help="2,000 entries, quick")
    a = ap.parse_args()
    pairs, negs = tsv("variants.tsv"), tsv("negatives.tsv")
    evaluate(*hand_set(pairs, negs), "names (hand lists, glossary has side a)")
    evaluate(*hand_set(pairs, [(b, a) for a, b in negs]), "names (hand lists, glossary has b)")
    sp = sudachi_pairs()
    evaluate(*hand_set(sp, []), f"sudachi ({len(sp)} normalized_form pairs)")
    n = 2000 if a.small else a.entries
    names, cands = make(n, a.candidates // 2, a.candidates // 2)
    evaluate(names, cands, "synth (large names glossary)")


if __name__ == "__main__":
    main()
