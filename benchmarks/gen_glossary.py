"""Pad the shipped glossary to benchmark sizes (100, 10,000, 100,000 entries).

    PYTHONPATH=src python benchmarks/gen_glossary.py [--sizes 100,10000,100000] [--out DIR]

Writes one folder per size, ``DIR/glossary-<size>/``: a copy of every shipped ``.gloss``
file (or, for a size below the shipped glossary's, its first entries re-rendered) plus
``zz-generated.gloss`` with the padding entries, so each folder loads with
``load_glossary(folder)`` and passes the loader's validation (checked after writing).

Generated entries look like what a news glossary holds: katakana person, place and
organisation names built from common morae, each with a Latin form derived from the
reading, two or three Japanese variants made by the same drift machine translation
produces (long vowel lost or added, ヴ→バ row, ティ→チ, small ッ, middle dot lost) and
one or two English spelling variants. Every form is unique across the whole glossary and
at least five characters long, so padding never claims a shipped form, never needs a
context rule, and rarely occurs by accident in real text. Generation is seeded, and the
entries of a smaller size are a prefix of those of a larger one.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from glossnorm.errors import GlossaryError
from glossnorm.glossary import default_glossary_path, load_glossary, render_entry
from glossnorm.model import Entry

WORK = Path(__file__).resolve().parent / "_work"
SIZES = (100, 10_000, 100_000)
SEED = 20220331
MIN_FORM = 5

# (katakana, romanisation) morae; weighted toward the ones frequent in foreign names.
_MORAE: list[tuple[str, str]] = [
    (k, r)
    for k, r in zip(
        "カキクケコサシスセソタテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
        "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ",
        [
            "ka", "ki", "ku", "ke", "ko", "sa", "shi", "su", "se", "so", "ta", "te",
            "to", "na", "ni", "nu", "ne", "no", "ha", "hi", "fu", "he", "ho", "ma",
            "mi", "mu", "me", "mo", "ya", "yu", "yo", "ra", "ri", "ru", "re", "ro",
            "wa", "ga", "gi", "gu", "ge", "go", "za", "ji", "zu", "ze", "zo", "da",
            "de", "do", "ba", "bi", "bu", "be", "bo", "pa", "pi", "pu", "pe", "po",
        ],
        strict=True,
    )
] + [
    ("ヴァ", "va"), ("ヴィ", "vi"), ("ヴォ", "vo"), ("ティ", "ti"), ("ディ", "di"),
    ("ファ", "fa"), ("フィ", "fi"), ("シェ", "she"), ("チェ", "che"), ("ジェ", "je"),
    ("トゥ", "tu"), ("ウォ", "wo"), ("クァ", "kwa"),
]
_CODAS = [("ン", "n"), ("ー", ""), ("ッ", ""), ("", ""), ("", ""), ("", ""), ("", "")]
_PLACE_SUFFIX = [("スク", "sk"), ("グラード", "grad"), ("ブルク", "burg"), ("スタン", "stan"),
                 ("ポリ", "poli"), ("ヴィル", "ville")]
_ORG_SUFFIX = ["ナ", "ア", "ト"]

# Drift rules machine translation applies to katakana names (variant, not canonical).
_DRIFT: list[tuple[str, str]] = [
    ("ヴァ", "バ"), ("ヴィ", "ビ"), ("ヴォ", "ボ"), ("ティ", "チ"), ("ディ", "ジ"),
    ("ファ", "ハ"), ("フィ", "ヒ"), ("シェ", "セ"), ("チェ", "チ"), ("ジェ", "ゼ"),
    ("トゥ", "ツ"), ("ウォ", "オ"), ("ー", ""), ("ッ", ""), ("・", ""), ("ン", "ム"),
]
_VOWEL_END = "アカサタナハマヤラワガザダバパ"


def _name(rng: random.Random) -> tuple[str, str]:
    ja: list[str] = []
    en: list[str] = []
    for i in range(rng.randint(3, 5)):
        k, r = rng.choice(_MORAE)
        ja.append(k)
        en.append(r)
        if i > 0:
            ck, cr = rng.choice(_CODAS)
            ja.append(ck)
            en.append(cr)
    kana = "".join(ja)
    latin = "".join(en)
    return kana, latin[:1].upper() + latin[1:]


def _ja_variants(rng: random.Random, form: str) -> list[str]:
    out: list[str] = []
    for src, dst in rng.sample(_DRIFT, len(_DRIFT)):
        if src in form:
            out.append(form.replace(src, dst, 1))
    # Long vowel added after the first open mora: a common drift too.
    for i, ch in enumerate(form[:-1]):
        if ch in _VOWEL_END and form[i + 1] not in "ーッン":
            out.append(form[: i + 1] + "ー" + form[i + 1 :])
            break
    return out


def _en_variants(latin: str) -> list[str]:
    out = []
    for src, dst in (("k", "c"), ("v", "w"), ("sh", "sch"), ("i", "y"), ("o", "ou"), ("a", "aa")):
        if src in latin[1:]:
            out.append(latin[0] + latin[1:].replace(src, dst, 1))
    if latin[-1] in "aeiou":
        out.append(latin + "h")
    return out


def generated_entries(n: int, taken: set[str], seed: int = SEED) -> Iterator[str]:
    """Yield ``n`` entries as .gloss text blocks; ``taken`` collects every form used."""
    rng = random.Random(seed)
    made = 0
    while made < n:
        kind = rng.choices(("person", "place", "organisation"), (6, 3, 1))[0]
        kana, latin = _name(rng)
        if kind == "person" and rng.random() < 0.3:
            k2, l2 = _name(rng)
            kana, latin = f"{k2}・{kana}", f"{l2} {latin}"
        elif kind == "place":
            ks, ls = rng.choice(_PLACE_SUFFIX)
            kana, latin = kana + ks, latin + ls
        elif kind == "organisation":
            kana += rng.choice(_ORG_SUFFIX) + "連合"
            latin += " Union"
        if len(kana) < MIN_FORM or len(latin) < MIN_FORM or kana in taken or latin in taken:
            continue
        jv = [v for v in dict.fromkeys(_ja_variants(rng, kana)) if len(v) >= MIN_FORM]
        ev = [v for v in dict.fromkeys(_en_variants(latin)) if len(v) >= MIN_FORM]
        jv = [v for v in jv if v not in taken and v != kana][: rng.randint(2, 3)]
        ev = [v for v in ev if v not in taken and v != latin][: rng.randint(1, 2)]
        if not jv:
            continue
        forms = [kana, latin, *jv, *ev]
        if len(set(forms)) != len(forms):
            continue
        taken.update(forms)
        made += 1
        lines = [f"[gen-{made:06d}]", f"type: {kind}", f"ja: {kana}", f"en: {latin}"]
        lines += [f"ja-var: {v}" for v in jv]
        lines += [f"en-var: {v}" for v in ev]
        yield "\n".join(lines) + "\n"


def shipped_entries(path: Path) -> tuple[list[Entry], list[Path]]:
    """The shipped glossary's entries and files ([] when it is missing or invalid)."""
    files = sorted(path.rglob("*.gloss")) if path.is_dir() else []
    if not files:
        print(f"gen_glossary: warning: no shipped glossary in {path}; padding only",
              file=sys.stderr)
        return [], []
    try:
        gl = load_glossary(path)
    except GlossaryError as exc:
        print(f"gen_glossary: warning: shipped glossary invalid ({exc}); padding only",
              file=sys.stderr)
        return [], []
    return list(gl.entries), files


def write_sizes(sizes: list[int], out: Path, shipped: Path, check: bool = True) -> dict[int, Path]:
    entries, files = shipped_entries(shipped)
    taken: set[str] = {f for e in entries for f in e.forms()}
    pad = [max(0, s - len(entries)) for s in sizes]
    blocks = list(generated_entries(max(pad, default=0), taken))
    result: dict[int, Path] = {}
    for size, n in zip(sizes, pad, strict=True):
        folder = out / f"glossary-{size}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if size < len(entries):
            # Smaller than the shipped glossary: its first ``size`` entries, re-rendered.
            text = "\n\n".join("\n".join(render_entry(e)) for e in entries[:size])
            (folder / "shipped-subset.gloss").write_text(text + "\n", encoding="utf-8")
        else:
            for f in files:
                rel = f.relative_to(shipped)
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, folder / rel)
        with open(folder / "zz-generated.gloss", "w", encoding="utf-8") as fh:
            fh.write("# Generated by benchmarks/gen_glossary.py: padding, not real names.\n\n")
            fh.write("\n".join(blocks[:n]))
        if check:
            gl = load_glossary(folder)
            own = min(size, len(entries))
            print(f"{folder}: {len(gl)} entries ({own} shipped + {n} generated)")
        result[size] = folder
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--out", type=Path, default=WORK)
    ap.add_argument("--shipped", type=Path, default=default_glossary_path())
    args = ap.parse_args(argv)
    write_sizes([int(s) for s in args.sizes.split(",")], args.out, args.shipped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
