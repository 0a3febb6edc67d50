"""Generate a benchmark corpus of N MB from the shipped sample corpus (``corpus/``).

    PYTHONPATH=src python benchmarks/gen_corpus.py [--mb 50] [--glossary DIR] [--out DIR]

Sentences from ``corpus/news/*.txt`` and ``corpus/feeds/digest.jsonl`` are recombined into
news-like documents (a headline, then paragraphs of 2-4 sentences, 2-6 KB per document).
The sample corpus is far denser in glossary forms than wire copy (one mention per 21
characters), so sentences are drawn from its sparser ones whenever the running density
is above one mention per 40 characters, and mentions are inserted where a paragraph has
fewer; about half of the katakana and Latin name mentions are swapped for drawn ones. A third
of the drawn mentions are variants, one in seven is on the English side. Mentions come from
the benchmark glossary (default: the 10,000-entry one made by gen_glossary.py): 90% from
its first 100 entries (Zipf-weighted: the shipped, real names), 10% from the rest, so every
glossary size has the same head to find and the larger ones a long tail to find as well.

Every paragraph ends with a serial token, so lines are unique and exact dedup cannot hide
the work; 2% of paragraphs are re-posted verbatim (realistic, and it exercises the dedup
index). Seeded: the same arguments and inputs give the same bytes.

One document per ``.txt`` file, ``OUT/doc-NNNNNN.txt`` in generation order, so the first
files of a 50 MB corpus are a 10 MB corpus (the benchmark takes prefixes).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from bisect import bisect
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import daachorse

from glossnorm.glossary import load_glossary
from glossnorm.model import Entry, Lang

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(__file__).resolve().parent / "_work"
SEED = 7
CHARS_PER_MENTION = 40
VARIANT_SHARE = 1 / 3
EN_SHARE = 1 / 7
HEAD = 100
TAIL_SHARE = 0.1
REPOST = 0.02

_SENT = re.compile(r"[^。！？]*[。！？」]+|[^。！？]+$")
_JA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_KANA_NAME = re.compile(r"[\u30a1-\u30fa\u30fc・]+")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .'-]*")
_KANA_EDGE = re.compile(r"[\u30a1-\u30fa\u30fc]")
_LATIN_EDGE = re.compile(r"[A-Za-z0-9]")

JA_TEMPLATES = [
    "{m}によると、", "{m}をめぐっては、", "{m}の関係者は、", "{m}側の発表では、",
    "{m}と協議した上で、", "{m}の声明を受け、", "{m}は同日、", "{m}に近い筋は、",
]
HEADLINE_TEMPLATES = ["{m}、", "{m}氏が会見 ", "【{m}】"]
EN_TEMPLATES = [
    "{m} said on Monday that talks with {n} would continue.",
    "Officials close to {m} declined to comment on the report.",
    "{m} and {n} are expected to meet again next week, a spokesperson said.",
    "According to {m}, the situation near {n} remains tense.",
]


def _read(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def source_text(corpus: Path) -> tuple[list[str], list[str]]:
    """(headlines, sentences) from the shipped sample corpus."""
    texts: list[tuple[str, str]] = []  # (headline, body)
    for f in sorted((corpus / "news").glob("*.txt")):
        lines = _read(f).strip().splitlines()
        texts.append((lines[0] if lines else "", "\n".join(lines[1:])))
    for f in sorted((corpus / "feeds").glob("*.jsonl")):
        for line in _read(f).splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                texts.append((str(rec.get("title", "")), str(rec.get("text", ""))))
    heads: list[str] = []
    sents: list[str] = []
    for head, body in texts:
        if head.strip() and len(head) <= 80 and _JA.search(head) and "http" not in head:
            heads.append(head.strip())
        for line in body.splitlines():
            line = line.strip()
            # Content sentences only: URL, attribution and English lines are added apart.
            if (not line or "http" in line or line.startswith(("—", "-", "#"))
                    or not _JA.search(line)):
                continue
            sents.extend(s.strip() for s in _SENT.findall(line) if len(s.strip()) >= 12)
    if not sents:
        raise SystemExit(f"gen_corpus: no sentences found under {corpus}")
    return heads or ["速報"], sents


class Mentions:
    """Draws glossary mentions: head entries Zipf-weighted, a share from the tail."""

    def __init__(self, entries: list[Entry], rng: random.Random) -> None:
        self.rng = rng
        self.head = entries[:HEAD]
        self.tail = entries[HEAD:]
        self.cum = list(accumulate(1 / (r + 1) for r in range(len(self.head))))
        forms = list(dict.fromkeys(f for e in entries for f in e.forms()))
        self.langs = [Lang.JA if _KANA_NAME.fullmatch(f)
                      else Lang.EN if _LATIN_NAME.fullmatch(f) else None
                      for f in forms]  # fmt: skip
        self.auto = daachorse.CharwiseDoubleArrayAhoCorasick(
            forms, daachorse.MATCH_KIND_LEFTMOST_LONGEST
        )

    def entry(self) -> Entry:
        if self.tail and self.rng.random() < TAIL_SHARE:
            return self.rng.choice(self.tail)
        return self.head[bisect(self.cum, self.rng.random() * self.cum[-1])]

    def form(self, lang: Lang) -> str:
        e = self.entry()
        if self.rng.random() < VARIANT_SHARE:
            # Only variants that apply anywhere: context-ruled ones would rarely fire here.
            for _ in range(8):  # redraw entries that have no such variant
                vs = [v.form for v in e.variants
                      if v.lang is lang and v.rule.is_empty and not v.keep]
                if vs:
                    return self.rng.choice(vs)
                e = self.entry()
        return e.canonical(lang)

    def count(self, text: str) -> int:
        """Approximate mentions already in ``text`` (no boundary checks)."""
        return len(self.auto.find(text))

    def swap(self, text: str) -> str:
        """Replace about half of the katakana/Latin name mentions with drawn ones.

        The sample corpus is already dense in names (about one per 25 characters), so the
        variants and the long tail are brought in by substitution, not only by insertion.
        """
        parts: list[str] = []
        pos = 0
        for start, end, fi in self.auto.find(text):
            lang = self.langs[fi]
            if lang is None or end - start < 3 or self.rng.random() < 0.5:
                continue
            edge = _KANA_EDGE if lang is Lang.JA else _LATIN_EDGE
            if (start > 0 and edge.match(text[start - 1])) or (
                end < len(text) and edge.match(text[end])
            ):
                continue
            parts.append(text[pos:start])
            parts.append(self.form(lang))
            pos = end
        parts.append(text[pos:])
        return "".join(parts)


class Density:
    """Keeps the running mention density near one per ``CHARS_PER_MENTION`` characters.

    The sample corpus is written to show off the phenomena, so most of its sentences are
    far denser in glossary forms than wire copy; while the running density is too high,
    sentences are drawn from the sparse ones only.
    """

    def __init__(self, sents: list[str], men: Mentions) -> None:
        self.sents = sents
        self.sparse = [s for s in sents if men.count(s) * CHARS_PER_MENTION <= len(s)] or sents
        self.chars = 0
        self.mentions = 0

    def pick(self, rng: random.Random) -> str:
        dense = self.mentions * CHARS_PER_MENTION > self.chars
        return rng.choice(self.sparse if dense else self.sents)

    def add(self, chars: int, mentions: int) -> None:
        self.chars += chars
        self.mentions += mentions


def paragraph(rng: random.Random, dens: Density, men: Mentions) -> str:
    if rng.random() < EN_SHARE / 2:
        parts = [
            rng.choice(EN_TEMPLATES).format(m=men.form(Lang.EN), n=men.form(Lang.EN))
            for _ in range(rng.randint(1, 3))
        ]
        text = " ".join(parts)
        dens.add(len(text), men.count(text))
        return text
    chosen = [men.swap(dens.pick(rng)) for _ in range(rng.randint(2, 4))]
    n = sum(men.count(s) for s in chosen)
    size = sum(map(len, chosen))
    while n * CHARS_PER_MENTION < size:
        i = rng.randrange(len(chosen))
        lang = Lang.EN if rng.random() < EN_SHARE / 2 else Lang.JA
        add = rng.choice(JA_TEMPLATES).format(m=men.form(lang))
        chosen[i] = add + chosen[i]
        n += 1
        size += len(add)
    dens.add(size, n)
    return "".join(chosen)


def generate(mb: float, out: Path, glossary: Path, corpus: Path, seed: int = SEED) -> int:
    """Write the corpus; returns the number of UTF-8 bytes written."""
    rng = random.Random(seed)
    heads, sents = source_text(corpus)
    gl = load_glossary(glossary)
    men = Mentions(list(gl.entries), rng)
    dens = Density(sents, men)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    target = int(mb * 1_000_000)
    total = 0
    doc = 0
    posted: list[str] = []
    while total < target:
        doc += 1
        head = rng.choice(HEADLINE_TEMPLATES).format(m=men.form(Lang.JA)) + rng.choice(heads)
        paras = [f"{head}（{doc}）"]
        size = len(paras[0].encode())
        limit = rng.randint(2000, 6000)
        k = 0
        while size < limit:
            k += 1
            if posted and rng.random() < REPOST:
                para = rng.choice(posted)
            else:
                para = f"{paragraph(rng, dens, men)}（{doc}-{k}）"
                if len(posted) < 10_000:
                    posted.append(para)
                else:
                    posted[rng.randrange(len(posted))] = para
            paras.append(para)
            size += len(para.encode()) + 2
        data = ("\n\n".join(paras) + "\n").encode()
        (out / f"doc-{doc:06d}.txt").write_bytes(data)
        total += len(data)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=50.0, help="size in MB of UTF-8 text")
    ap.add_argument("--glossary", type=Path, default=WORK / "glossary-10000",
                    help="glossary to draw mentions from (run gen_glossary.py first)")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--out", type=Path, default=None, help="default: _work/corpus-<mb>mb")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    out = args.out or WORK / f"corpus-{args.mb:g}mb"
    n = generate(args.mb, out, args.glossary, args.corpus, args.seed)
    print(f"{out}: {n / 1e6:.1f} MB in {len(list(out.glob('*.txt')))} documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
