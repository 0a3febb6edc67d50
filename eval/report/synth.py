"""Synthetic large names glossary, variants and hard negatives (shared by eval and benchmark).

Names are random mora sequences. Variants apply the regular MT drifts (long vowel added or
dropped, ヴ/バ, ティ/チ, ッ, small kana, a vowel change); negatives change one consonant to an
unrelated one or add/drop a whole mora, which makes a different name.
"""

from __future__ import annotations

import random

from glossnorm import kana

CONS = {"": "アイウエオ", "k": "カキクケコ", "s": "サシスセソ", "t": "タチツテト", "n": "ナニヌネノ",  # noqa: E501
        "h": "ハヒフヘホ", "m": "マミムメモ", "r": "ラリルレロ", "g": "ガギグゲゴ", "z": "ザジズゼゾ",  # noqa: E501
        "d": "ダヂヅデド", "b": "バビブベボ", "p": "パピプペポ"}
UNRELATED = {"k": "nmr", "s": "mnr", "t": "mnk", "n": "kst", "h": "mnr", "m": "ktn",
             "r": "kmn", "g": "mnr", "z": "mnr", "d": "mnk", "b": "nkr", "p": "nkr", "": "kmr"}
DRIFT = [("バ", "ヴァ"), ("ビ", "ヴィ"), ("ベ", "ヴェ"), ("ボ", "ヴォ"), ("チ", "ティ"),
         ("ジ", "ディ"), ("イ", "ィ"), ("ツ", "トゥ")]


def mora(rng: random.Random) -> tuple[str, str, int]:
    c = rng.choice(list(CONS))
    v = rng.randrange(5)
    return c, CONS[c][v], v


def name(rng: random.Random) -> str:
    out = []
    for i in range(rng.randint(3, 6)):
        _, m, _ = mora(rng)
        out.append(m)
        r = rng.random()
        if r < 0.15 and i:
            out.append("ー")
        elif r < 0.27:
            out.append("ン")
    return "".join(out)


def variant(rng: random.Random, s: str) -> str:
    for _ in range(10):
        op = rng.random()
        t = s
        if op < 0.3:  # long vowel toggled
            if "ー" in t and rng.random() < 0.5:
                i = rng.choice([i for i, c in enumerate(t) if c == "ー"])
                t = t[:i] + t[i + 1:]
            else:
                i = rng.randrange(1, len(t) + 1)
                if t[i - 1] not in "ーンッ":
                    t = t[:i] + "ー" + t[i:]
        elif op < 0.55:
            pairs = [(a, b) for a, b in DRIFT if a in t] + [(b, a) for a, b in DRIFT if b in t]
            if pairs:
                a, b = rng.choice(pairs)
                t = t.replace(a, b, 1)
        elif op < 0.7:  # ッ before a voiceless mora
            idx = [i for i, c in enumerate(t) if i and c in "カキクケコタチツテトサシスセソパピプペポ"]  # noqa: E501
            if idx:
                i = rng.choice(idx)
                t = t[:i] + "ッ" + t[i:]
        elif op < 0.85:  # vowel drift of one mora (ケン → カーン style)
            idx = [i for i, c in enumerate(t) if any(c in row for row in CONS.values())]
            i = rng.choice(idx)
            row = next(r for r in CONS.values() if t[i] in r)
            t = t[:i] + rng.choice([c for c in row if c != t[i]]) + t[i + 1:]
        else:  # long vowel written with a vowel kana
            if "ー" in t:
                t = t.replace("ー", "ウ" if "o" in kana.phonetic(t) else "ー", 1)
        if t != s:
            return t
    return s + "ー"


def negative(rng: random.Random, s: str) -> str:
    for _ in range(20):
        idx = [i for i, c in enumerate(s) if any(c in row for row in CONS.values())]
        i = rng.choice(idx)
        c = next(k for k, row in CONS.items() if s[i] in row)
        v = CONS[c].index(s[i])
        if rng.random() < 0.7:
            t = s[:i] + CONS[rng.choice(UNRELATED[c])][v] + s[i + 1:]
        elif len(idx) > 3 and rng.random() < 0.5:
            t = s[:i] + s[i + 1:]
        else:
            t = s[:i] + mora(rng)[1] + s[i:]
        if t != s:
            return t
    return s + "ス"


def make(n_entries: int, n_pos: int, n_neg: int, seed: int = 7,
         ) -> tuple[list[str], list[tuple[str, int | None]]]:
    """(glossary names, [(candidate, index of true name or None)])."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n_entries:
        s = name(rng)
        if kana.fold_key(s) not in seen:
            seen.add(kana.fold_key(s))
            names.append(s)
    exact = set(names)
    cands: list[tuple[str, int | None]] = []
    for _ in range(n_pos):
        i = rng.randrange(n_entries)
        v = variant(rng, names[i])
        if v not in exact:
            cands.append((v, i))
    for _ in range(n_neg):
        i = rng.randrange(n_entries)
        t = negative(rng, names[i])
        if kana.fold_key(t) not in seen:
            cands.append((t, None))
    return names, cands
