"""Check that paragraphs.jsonl is valid and that its paragraphs are genuinely distinct.

The paragraphs are hard negatives for near-duplicate detection: paragraphs of one story share
names, dates and numbers, so a dedup stage that merges any two of them is wrong. This script
guards the data itself: every line parses, fields and lengths are as documented, and no two
paragraphs share more than --max-overlap of their character 5-grams, measured as
|A & B| / min(|A|, |B|) (stricter than Jaccard, so a short paragraph contained in a long one
is caught too).

With --seeds DIR it also reports the longest run of characters each checked file shares with
the seed documents, and fails if any run reaches --max-seed-run (the project must not copy
seed sentences). --also adds more files or folders to that seed check (e.g. corpus/); files
that are not UTF-8 are read as CP932.

Run:  python eval/data/check_distinct.py [--seeds /work/shared/seeds --also corpus]
Exit status 0 = all checks passed, 1 = a check failed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = 5
ID_RE = re.compile(r"^p\d{4}$")
KEYS = {"id", "story", "text"}
# Boilerplate must look like the real thing (it is what the cleaner has to recognise), so the
# seed check skips these lines instead of counting them as copied prose.
BOILERPLATE_RE = re.compile(
    r"^(?:— .*\(@\w+\).*|Your email address will not be published.*|Leave a Reply|Source link"
    r"|By \| .*)$"
)


def grams(text: str, n: int = N) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def jaccard(a: set[str], b: set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def load(path: Path, min_len: int, max_len: int) -> tuple[list[dict[str, str]], list[str]]:
    errors: list[str] = []
    records: list[dict[str, str]] = []
    seen_ids: set[str] = set()
    seen_texts: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not JSON ({exc})")
            continue
        if not isinstance(rec, dict) or set(rec) != KEYS:
            errors.append(f"{where}: expected exactly the keys {sorted(KEYS)}")
            continue
        if not all(isinstance(rec[k], str) for k in KEYS):
            errors.append(f"{where}: every field must be a string")
            continue
        if not ID_RE.match(rec["id"]):
            errors.append(f"{where}: bad id {rec['id']!r}")
        if rec["id"] in seen_ids:
            errors.append(f"{where}: duplicate id {rec['id']}")
        seen_ids.add(rec["id"])
        text = rec["text"]
        if not min_len <= len(text) <= max_len:
            errors.append(
                f"{where}: {rec['id']} has {len(text)} characters, not {min_len}-{max_len}"
            )
        if text in seen_texts:
            errors.append(f"{where}: {rec['id']} repeats {seen_texts[text]}")
        seen_texts[text] = rec["id"]
        if "\n" in text:
            errors.append(f"{where}: {rec['id']} contains a newline")
        records.append(rec)
    return records, errors


def longest_shared_run(text: str, reference: str) -> str:
    """Longest substring of text that also occurs in reference (simple, data is small)."""
    best = ""
    for i in range(len(text)):
        k = len(best) + 1
        while i + k <= len(text) and text[i : i + k] in reference:
            best = text[i : i + k]
            k += 1
    return best


def read_any(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")


def _lines(path: Path) -> list[str]:
    """Lines of a text file; for JSONL, the lines of every string value of every record."""
    text = read_any(path)
    if path.suffix != ".jsonl":
        return text.splitlines()
    out: list[str] = []
    for raw in text.splitlines():
        rec = json.loads(raw)
        for value in rec.values():
            if isinstance(value, str):
                out.extend(value.splitlines())
    return out


def seed_check(
    records: list[dict[str, str]], seeds: Path, also: list[Path], max_run: int
) -> list[str]:
    reference = "\n".join(read_any(p) for p in sorted(seeds.iterdir()) if p.is_file())
    errors: list[str] = []
    worst = ("", "")
    for rec in records:
        run = longest_shared_run(rec["text"], reference)
        if len(run) > len(worst[1]):
            worst = (rec["id"], run)
        if len(run) >= max_run:
            errors.append(f"{rec['id']} shares {len(run)} characters with a seed: {run!r}")
    print(
        f"seed check: longest run shared by a paragraph: {len(worst[1])} chars "
        f"({worst[0]}: {worst[1]!r})"
    )
    files = [f for p in also for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()]
    for f in files:
        if f.suffix == ".md":
            continue  # READMEs may quote variant forms, which the seeds also contain
        # Check line by line: a copied sentence would be one line, and lines keep this fast.
        best = ""
        for line in _lines(f):
            if BOILERPLATE_RE.match(line.strip()):
                continue
            run = longest_shared_run(line, reference)
            if len(run) > len(best):
                best = run
        status = "FAIL" if len(best) >= max_run else "ok"
        print(f"seed check: {f}: longest shared run {len(best)} chars {best!r} [{status}]")
        if len(best) >= max_run:
            errors.append(f"{f} shares {len(best)} characters with a seed: {best!r}")
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", type=Path, default=HERE / "paragraphs.jsonl")
    ap.add_argument("--max-overlap", type=float, default=0.40)
    ap.add_argument("--min-len", type=int, default=60)
    ap.add_argument("--max-len", type=int, default=250)
    ap.add_argument("--seeds", type=Path, help="folder of seed documents to check against")
    ap.add_argument(
        "--also", type=Path, nargs="*", default=[], help="more files/folders for --seeds"
    )
    ap.add_argument("--max-seed-run", type=int, default=20)
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)

    records, errors = load(args.path, args.min_len, args.max_len)
    stories: dict[str, int] = {}
    for rec in records:
        stories[rec["story"]] = stories.get(rec["story"], 0) + 1
    lengths = [len(r["text"]) for r in records]
    print(
        f"{len(records)} paragraphs, {len(stories)} stories, "
        f"length {min(lengths)}-{max(lengths)} (mean {sum(lengths) / len(lengths):.0f})"
    )
    for story, count in stories.items():
        print(f"  {story}: {count}")

    gram_sets = [grams(r["text"]) for r in records]
    scored = []
    for i, j in itertools.combinations(range(len(records)), 2):
        scored.append(
            (overlap(gram_sets[i], gram_sets[j]), jaccard(gram_sets[i], gram_sets[j]), i, j)
        )
    scored.sort(reverse=True)
    same_story = [s for s in scored if records[s[2]]["story"] == records[s[3]]["story"]]
    print(
        f"{len(scored)} pairs; max 5-gram overlap {scored[0][0]:.3f} "
        f"(max Jaccard {max(s[1] for s in scored):.3f}); "
        f"within a story: max overlap {same_story[0][0]:.3f}, "
        f"mean {sum(s[0] for s in same_story) / len(same_story):.3f}"
    )
    print(f"top {args.top} pairs by overlap:")
    for ov, jac, i, j in scored[: args.top]:
        print(
            f"  {ov:.3f} (jaccard {jac:.3f}) {records[i]['id']} {records[j]['id']} "
            f"[{records[i]['story']} / {records[j]['story']}]"
        )
    over = [s for s in scored if s[0] > args.max_overlap]
    for ov, _, i, j in over:
        errors.append(f"{records[i]['id']} and {records[j]['id']} share {ov:.0%} of their 5-grams")

    if args.seeds:
        errors += seed_check(records, args.seeds, args.also, args.max_seed_run)

    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    print("FAIL" if errors else "OK: all checks passed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
