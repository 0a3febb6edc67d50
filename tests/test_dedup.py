"""glossnorm.dedup / glossnorm.minhash: exact and near duplicates, the SQLite index."""

from __future__ import annotations

import pickle
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm import dedup
from glossnorm import minhash as mh
from glossnorm.dedup import (
    DedupConfig,
    DedupIndex,
    DocDup,
    DupHit,
    fingerprint,
    fingerprints,
    fold,
)
from glossnorm.errors import InputError, UsageError

CFG = DedupConfig()

# Written for these tests: one story, shared names, dates and numbers (hard negatives).
P1 = ("ブリンケン米国務長官は3月4日、ブリュッセルで開かれたNATO外相会合に出席し、"
      "東欧の加盟国に約3000人の部隊を追加で派遣する方針を説明した。")
P2 = ("NATO外相会合は3月4日、ブリュッセルの本部で始まり、ブリンケン米国務長官のほか"
      "30か国の外相が出席して東欧の防衛態勢の強化を協議した。")
P3 = ("会合の後、ストルテンベルグ事務総長は記者会見で、同盟は挑発には乗らないが、"
      "加盟国の領土は一寸たりとも譲らないと述べ、結束を強調した。")
P4 = ("ロシア外務省は同日、NATOの部隊派遣は地域の緊張を高めるだけだとする声明を出し、"
      "米国に対して対話の再開を改めて求めた。")
HEADLINE = "NATO外相会合が開幕"


def run(items: list[tuple[str, int, str]], idx: DedupIndex) -> list[DupHit | None]:
    fps = fingerprints([t for _, _, t in items], idx.cfg)
    return [idx.check(d, s, fp) for (d, s, _), fp in zip(items, fps, strict=True)]


def edit(text: str, i: int, ch: str) -> str:
    return text[:i] + ch + text[i + 1 :]


# -- exact ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "copy",
    [
        P1,
        P1.replace("NATO", "ＮＡＴＯ").replace("3000", "３０００"),  # full width
        P1.replace("、", "、 ").replace("。", "。\n"),  # spaces and line breaks
        "\u3000" + P1[:20] + " \u200b" + P1[20:] + "  ",  # ideographic and zero-width space
    ],
)
def test_exact_hit_across_width_and_whitespace(copy: str) -> None:
    with DedupIndex(CFG) as idx:
        hits = run([("a", 0, P1), ("b", 0, copy)], idx)
    assert hits == [None, DupHit("exact", "a", 0, 1.0)]


def test_fold_is_width_and_whitespace_insensitive() -> None:
    assert fold("ＮＡＴＯ　首脳\n会議 ") == fold("NATO首脳会議") == "NATO首脳会議"


def test_short_headline_is_exact_only() -> None:
    # A one-character change in a headline is often another headline: no near match there.
    with DedupIndex(CFG) as idx:
        hits = run([("a", 0, HEADLINE), ("b", 0, edit(HEADLINE, 8, "閉")),
                    ("c", 0, "ＮＡＴＯ外相会合が開幕")], idx)
    assert hits == [None, None, DupHit("exact", "a", 0, 1.0)]
    assert fingerprint(HEADLINE, CFG).minhash is None


# -- near ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "copy",
    [
        edit(P1, 10, "の"),  # one character substituted
        edit(edit(P1, 10, "の"), 40, "大"),  # two
        P1[:30] + P1[31:],  # one deleted
        P1.replace("ブリンケン", "ブリンカーン"),  # a variant the glossary did not know
    ],
)
def test_near_hit_on_light_edits(copy: str) -> None:
    with DedupIndex(CFG) as idx:
        hits = run([("a", 0, P1), ("b", 0, copy)], idx)
    assert hits[0] is None
    hit = hits[1]
    assert hit is not None and hit.kind == "near" and (hit.doc, hit.seg) == ("a", 0)
    assert CFG.threshold <= hit.similarity < 1.0


def test_same_story_paragraphs_are_not_merged() -> None:
    with DedupIndex(CFG) as idx:
        assert run([(f"d{i}", 0, p) for i, p in enumerate((P1, P2, P3, P4))], idx) == [None] * 4


def test_reported_similarity_is_the_real_jaccard() -> None:
    copy = edit(P1, 10, "の")
    with DedupIndex(CFG) as idx:
        hit = run([("a", 0, P1), ("b", 0, copy)], idx)[1]
    a, b = (mh.shingles(fold(t), CFG.ngram) for t in (P1, copy))
    assert hit is not None and hit.similarity == pytest.approx(mh.jaccard(a, b))


def test_most_similar_kept_segment_is_reported() -> None:
    far = edit(edit(edit(P1, 10, "の"), 30, "の"), 50, "の")
    near = edit(P1, 60, "の")
    with DedupIndex(CFG) as idx:
        hits = run([("far", 0, far), ("near", 0, near), ("x", 0, P1)], idx)
    # "near" itself is a near copy of "far"; the third is reported against the best match.
    assert hits[1] is not None and hits[1].doc == "far"
    assert hits[2] is not None and hits[2].doc == "far"  # "near" was not kept


def test_modes() -> None:
    copy = edit(P1, 10, "の")
    with DedupIndex(DedupConfig(mode="exact")) as idx:
        assert run([("a", 0, P1), ("b", 0, copy), ("c", 0, P1)], idx) == [
            None, None, DupHit("exact", "a", 0, 1.0)]
    with DedupIndex(DedupConfig(mode="off")) as idx:
        assert run([("a", 0, P1), ("b", 0, P1)], idx) == [None, None]


def test_empty_segments_are_never_duplicates() -> None:
    with DedupIndex(CFG) as idx:
        assert run([("a", 0, " "), ("b", 0, "\u3000\n")], idx) == [None, None]


def test_config_is_validated() -> None:
    with pytest.raises(UsageError, match="threshold"):
        DedupConfig(threshold=1.5)
    with pytest.raises(UsageError, match="--dedup"):
        DedupConfig(mode="fuzzy")  # type: ignore[arg-type]


# -- determinism -----------------------------------------------------------------------------


def test_first_occurrence_is_kept_and_runs_agree() -> None:
    items = [("d1", 0, P2), ("d2", 0, edit(P2, 5, "の")), ("d3", 0, P2), ("d4", 0, P3),
             ("d5", 0, P2.replace(" ", ""))]
    results = []
    for _ in range(2):
        with DedupIndex(CFG) as idx:
            results.append(run(items, idx))
    assert results[0] == results[1]
    assert results[0][0] is None and all(h is None or h.doc == "d1" for h in results[0])


EXACT = DedupConfig(mode="exact")


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.sampled_from([P1, P2, P3, P4, HEADLINE, P2.replace("、", " 、")]),
                   min_size=1, max_size=30),
    cut=st.integers(0, 30),
)
def test_exact_state_merges_by_first_occurrence(texts: list[str], cut: int) -> None:
    """What makes exact dedup shardable (docs/dedup.md, "Sharded runs"): each shard maps a
    hash to its first position, the maps merge by taking the smaller position, and that
    decides every verdict as the ordered run does."""
    items = [(f"d{i // 3}", i % 3, t) for i, t in enumerate(texts)]
    fps = fingerprints(texts, EXACT)
    with DedupIndex(EXACT) as idx:
        ordered = [idx.check(d, s, fp) for (d, s, _), fp in zip(items, fps, strict=True)]

    def first_positions(part: range) -> dict[bytes, int]:
        out: dict[bytes, int] = {}
        for i in part:
            out.setdefault(fps[i].exact, i)
        return out

    merged = first_positions(range(min(cut, len(items))))
    for h, i in first_positions(range(min(cut, len(items)), len(items))).items():
        merged[h] = min(merged.get(h, i), i)
    for i, hit in enumerate(ordered):
        first = merged[fps[i].exact]
        assert (hit is None) == (first == i)
        if hit is not None:
            assert (hit.doc, hit.seg, hit.kind) == (items[first][0], items[first][1], "exact")


def test_fingerprint_is_pure_and_picklable() -> None:
    fp = fingerprint(P1, CFG)
    assert pickle.loads(pickle.dumps(fp)) == fp == fingerprints([P2, P1], CFG)[1]
    assert len(fp.exact) == 16 and fp.minhash is not None and len(fp.minhash) == 4 * CFG.num_perm


# -- reference implementations agree (property tests) -----------------------------------------

japanese = st.text(
    alphabet=st.sampled_from("アイウエオカキクケコンー・のはがを日本米露会談　 、。ABC12"),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(text=japanese, n=st.integers(1, 6))
def test_shingles_match_reference(text: str, n: int) -> None:
    assert mh.shingles(text, n).tolist() == mh.shingles_reference(text, n)


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(japanese.filter(lambda t: len(t) >= 5), min_size=1, max_size=5))
def test_batched_shingles_and_minhash_match_single(texts: list[str]) -> None:
    a = mh.permutations(16)
    flat, offs = mh.shingle_sets(texts, 5)
    sigs = mh.minhashes(flat, offs, a, chunk=7)  # tiny chunks: exercise the splitting
    for i, t in enumerate(texts):
        sh = mh.shingles(t, 5)
        assert flat[offs[i] : offs[i + 1]].tolist() == sh.tolist()
        assert sigs[i].tolist() == mh.minhash(sh, a).tolist()
        ref = mh.minhash_reference(mh.shingles_reference(t, 5), a.tolist())
        assert sigs[i].tolist() == ref


@settings(max_examples=60, deadline=None)
@given(x=japanese, y=japanese)
def test_jaccard_matches_reference(x: str, y: str) -> None:
    sx, sy = mh.shingles(x, 3), mh.shingles(y, 3)
    assert mh.jaccard(sx, sy) == pytest.approx(
        mh.jaccard_reference(sx.tolist(), sy.tolist()))


def test_lsh_layout_keeps_pairs_at_the_threshold() -> None:
    for t in (0.3, 0.5, 0.7, 0.9):
        bands, rows = dedup.choose_bands(t, 128)
        assert bands * rows <= 128
        assert dedup.candidate_probability(t, bands, rows) >= 0.995


def test_minhash_agreement_estimates_jaccard() -> None:
    rng = np.random.default_rng(0)
    u = np.unique(rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32))[:2000]
    x, y = np.sort(u[:1500]), np.sort(u[500:])  # J = 1000 / 2000
    a = mh.permutations(512)
    est = float(np.mean(mh.minhash(x, a) == mh.minhash(y, a)))
    assert abs(est - 0.5) < 0.1


# -- documents -----------------------------------------------------------------------------


def test_reposted_document_is_one_doc_duplicate() -> None:
    with DedupIndex(CFG) as idx:
        run([("orig", 0, P1), ("orig", 1, P2), ("orig", 2, P3)], idx)
        assert idx.end_document("orig") is None
        hits = run([("copy", 0, P1), ("copy", 1, edit(P2, 8, "の")), ("copy", 2, P3)], idx)
        assert all(h is not None and h.doc == "orig" for h in hits)  # still marked one by one
        dd = idx.end_document("copy")
        assert isinstance(dd, DocDup)
        assert (dd.doc, dd.duplicate_of, dd.segments, dd.total) == ("copy", "orig", (0, 1, 2), 3)
        assert 0.9 < dd.similarity < 1.0
        # Only one paragraph of four re-posted: no document duplicate.
        mix = [P1, P4, HEADLINE, "別の段落です。"]
        run([("mix", i, t) for i, t in enumerate(mix)], idx)
        assert idx.end_document("mix") is None


# -- SQLite index --------------------------------------------------------------------------


def dump(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return [*db.execute("SELECT * FROM segs ORDER BY id"),
                *db.execute("SELECT * FROM dups ORDER BY doc, seg")]


BATCH1 = [("a", 0, P1), ("a", 1, P2), ("b", 0, edit(P1, 12, "の"))]
BATCH2 = [("c", 0, P2.replace("NATO", "ＮＡＴＯ")), ("c", 1, P3), ("d", 0, edit(P3, 7, "大"))]


def test_second_batch_is_deduplicated_against_the_first(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        assert [h is None for h in run(BATCH1, idx)] == [True, True, False]
    with DedupIndex(CFG, path) as idx:
        hits = run(BATCH2, idx)
        assert len(idx) == 3
    assert hits[0] == DupHit("exact", "a", 1, 1.0)
    assert hits[1] is None
    assert hits[2] is not None and (hits[2].kind, hits[2].doc) == ("near", "c")


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        first = run(BATCH1 + BATCH2, idx)
    before = dump(path)
    with DedupIndex(CFG, path) as idx:
        again = run(BATCH1 + BATCH2, idx)
    assert again == first  # kept stay kept (not copies of themselves), copies report the same
    assert dump(path) == before


def test_changed_text_replaces_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        run([("a", 0, P1)], idx)
    with DedupIndex(CFG, path) as idx:
        assert run([("a", 0, P4), ("z", 0, P1)], idx) == [None, None]  # old P1 is gone
        assert len(idx) == 2


@pytest.mark.parametrize("copy", [P1, edit(P1, 12, "の")])  # exact, near
def test_copies_of_a_changed_text_are_checked_again(tmp_path: Path, copy: str) -> None:
    # The verdict "z is a copy of a" must not outlive a's old text: the copy would be
    # dropped from every later run's output although nothing kept holds its text.
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        assert run([("a", 0, P1), ("z", 0, copy)], idx)[1] is not None
    with DedupIndex(CFG, path) as idx:
        assert run([("a", 0, P4)], idx) == [None]
    with DedupIndex(CFG, path) as idx:
        assert run([("z", 0, copy)], idx) == [None]
    with DedupIndex(CFG, path) as idx:  # kept now, and it stays kept
        assert run([("a", 0, P4), ("z", 0, copy)], idx) == [None, None]


@pytest.mark.parametrize("copy", [P1, edit(P1, 12, "の")])
def test_verdict_whose_kept_segment_is_gone_is_not_repeated(tmp_path: Path, copy: str) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        assert run([("a", 0, P1), ("b", 0, P3), ("z", 0, copy)], idx)[2] is not None
    with sqlite3.connect(path) as db:  # (an index written before verdicts were dropped)
        db.execute("DELETE FROM segs WHERE doc = 'a'")
    with DedupIndex(CFG, path) as idx:
        assert run([("z", 0, copy)], idx) == [None]


def test_near_verdict_below_this_runs_threshold_is_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    copy = edit(P1, 12, "の")
    with DedupIndex(CFG, path) as idx:
        hit = run([("a", 0, P1), ("z", 0, copy)], idx)[1]
    assert hit is not None and hit.kind == "near" and hit.similarity < 0.99
    strict = DedupConfig(threshold=0.99)
    with DedupIndex(strict, path) as idx:
        assert run([("a", 0, P1), ("z", 0, copy)], idx) == [None, None]
    with DedupIndex(CFG, path) as idx:  # the stricter run kept z: it stays kept
        assert run([("a", 0, P1), ("z", 0, copy)], idx) == [None, None]


def test_near_run_adds_signatures_to_what_an_exact_run_indexed(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    copy = edit(P1, 12, "の")
    with DedupIndex(DedupConfig(mode="exact"), path) as idx:
        run([("a", 0, P1), ("b", 0, P3)], idx)
    with DedupIndex(CFG, path) as idx:
        hits = run([("a", 0, P1), ("z", 0, copy)], idx)
    assert hits[0] is None and hits[1] is not None and hits[1].kind == "near"
    with DedupIndex(CFG, path) as idx:  # stored: found without meeting a again
        hit = run([("y", 0, copy)], idx)[0]
    assert hit is not None and (hit.kind, hit.doc) == ("near", "a")


def test_repeated_id_with_other_text_in_one_run_is_an_error() -> None:
    with DedupIndex(CFG) as idx, pytest.raises(InputError, match="unique"):
        run([("a", 0, P1), ("a", 0, P2)], idx)


@pytest.mark.parametrize("how", ["exception", "no-commit"])
def test_interrupted_run_leaves_the_previous_state(tmp_path: Path, how: str) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        run(BATCH1, idx)
    before = dump(path)
    if how == "exception":
        with pytest.raises(KeyboardInterrupt), DedupIndex(CFG, path) as idx:
            run(BATCH2, idx)
            raise KeyboardInterrupt
    else:
        idx = DedupIndex(CFG, path)
        run(BATCH2, idx)
        idx.close()
    assert dump(path) == before
    with DedupIndex(CFG, path) as idx:  # and the index is still usable
        assert run(BATCH2[:1], idx) == [DupHit("exact", "a", 1, 1.0)]


def test_crash_before_any_commit_leaves_a_valid_empty_index(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    idx = DedupIndex(CFG, path)
    run(BATCH1, idx)
    idx.close()
    with DedupIndex(CFG, path) as idx:
        assert len(idx) == 0


def test_large_run_flushes_and_commits(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    rng = np.random.default_rng(3)  # random kanji paragraphs: all distinct
    texts = ["".join(chr(0x4E00 + int(c)) for c in rng.integers(0, 5000, 60)) for _ in range(2600)]
    items = [(f"d{i}", 0, t) for i, t in enumerate(texts)] + [("x", 0, texts[5])]
    with DedupIndex(CFG, path) as idx:
        hits = run(items, idx)
    assert hits[-1] == DupHit("exact", "d5", 0, 1.0)
    kept = sum(h is None for h in hits)
    with DedupIndex(CFG, path) as idx:
        assert len(idx) == kept
        assert run([("y", 0, texts[2500])], idx) == [DupHit("exact", "d2500", 0, 1.0)]


@pytest.mark.parametrize("path", [None, "dedup.sqlite"])
@pytest.mark.parametrize("mode", ["exact", "near"])
def test_checks_after_a_commit_still_see_the_rows_before_it(
    tmp_path: Path, path: str | None, mode: str
) -> None:
    # commit() starts a new transaction for further checks; without a file the rows it
    # kept were dropped (a copy passed, or a near check failed on a missing row).
    cfg = DedupConfig(mode=mode)  # type: ignore[arg-type]
    first, copy = fingerprints([P1, edit(P1, 5, "英")], cfg)
    with DedupIndex(cfg, tmp_path / path if path else None) as idx:
        assert idx.check("a", 0, first) is None
        idx.commit()
        assert idx.check("b", 0, first) == DupHit("exact", "a", 0, 1.0)
        hit = idx.check("c", 0, copy)
        assert (hit is None) if mode == "exact" else (hit is not None and hit.doc == "a")
        assert idx.check("d", 0, fingerprints([P2], cfg)[0]) is None
        assert len(idx) == 2 + (mode == "exact")


@pytest.mark.parametrize("content", [b"not a database" * 100, b"SQLite format 3\0junk"])
def test_corrupt_index_is_a_clear_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "dedup.sqlite"
    path.write_bytes(content)
    with pytest.raises(InputError, match="dedup index"):
        DedupIndex(CFG, path)


@pytest.mark.parametrize(
    "tables",
    [
        ["CREATE TABLE t(x)"],
        # (an empty meta table of its own beside them: was taken over as a new index)
        ["CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)", "CREATE TABLE users(name)"],
    ],
)
def test_foreign_sqlite_database_is_refused(tmp_path: Path, tables: list[str]) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        for sql in tables:
            db.execute(sql)
    with pytest.raises(InputError, match="not a glossnorm dedup index"):
        DedupIndex(CFG, path)
    with sqlite3.connect(path) as db:  # and left as it was
        (count,) = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    assert count == len(tables)


class _DamagedAfterOpen:
    """A connection whose reads of ``segs`` fail, as with a page damaged past the ones
    read at open (SQLite finds it only when a query reaches it), or a full disk."""

    def __init__(self, db: sqlite3.Connection, error: str = "SQLITE_CORRUPT") -> None:
        self.db = db
        self.error = error

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if "FROM segs" in sql:
            exc = sqlite3.DatabaseError(f"{self.error} (as SQLite would say it)")
            exc.sqlite_errorname = self.error
            raise exc
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_index_damaged_where_only_a_run_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        run(BATCH1, idx)
    idx = DedupIndex(CFG, path)
    idx._db = _DamagedAfterOpen(idx._db)  # type: ignore[assignment]
    fps = fingerprints([t for _, _, t in BATCH2], CFG)
    with pytest.raises(InputError, match="dedup index is damaged"):
        idx.check_document("c", [(0, fps[0])])
    with pytest.raises(InputError, match="dedup index is damaged"):
        idx.check("c", 0, fps[0])
    idx._db = _DamagedAfterOpen(idx._db.db, "SQLITE_FULL")  # type: ignore[attr-defined]
    with pytest.raises(InputError, match=r"could not be used .*left as it was") as full:
        idx.check("c", 0, fps[0])
    assert "delete" not in str(full.value)  # a full disk is no reason to lose the index
    idx.close()
    with sqlite3.connect(path) as db:  # a hand-edited layout: only a record, rewritten
        db.execute("UPDATE meta SET value = 'x' WHERE key = 'bands'")
    with DedupIndex(CFG, path) as idx:
        assert (idx.bands, idx.rows) == CFG.lsh


def test_index_built_with_other_ngram_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    DedupIndex(CFG, path).close()
    with pytest.raises(InputError, match="ngram=5"):
        DedupIndex(DedupConfig(ngram=4), path)


def test_unusable_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="dedup index"):
        DedupIndex(CFG, tmp_path)  # a directory


def test_index_in_use_by_another_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DedupIndex, "lock_timeout", 0.05)
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as first:
        run(BATCH1, first)
        with pytest.raises(InputError, match="in use by another run"):
            DedupIndex(CFG, path)
    first.close()  # a second close is harmless
    with DedupIndex(CFG, path) as idx:
        assert len(idx) == 2


def test_reopening_with_another_threshold_uses_its_layout(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        run([("a", 0, P1)], idx)
    strict = DedupConfig(threshold=0.8)
    assert strict.lsh != CFG.lsh  # the stored signatures are banded anew at open
    with DedupIndex(strict, path) as idx:
        assert (idx.bands, idx.rows) == strict.lsh
        hits = run([("b", 0, edit(P1, 10, "の")), ("c", 0, edit(edit(P1, 10, "の"), 30, "大"))],
                   idx)
    assert hits[0] is not None and hits[0].doc == "a" and hits[0].similarity >= 0.8


@pytest.mark.parametrize(
    "text", ["\ud800 lone surrogate " * 3, "😀" * 40, "\x00" * 50, "a", "ｱｲｳｴｵ" * 10, "\u200b" * 5]
)
def test_naughty_texts_fingerprint_and_check(text: str) -> None:
    with DedupIndex(CFG) as idx:
        hits = run([("a", 0, text), ("b", 0, text)], idx)
    assert hits[0] is None
    assert hits[1] == (None if not fold(text) else DupHit("exact", "a", 0, 1.0))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 50), unique=True),
    st.lists(st.lists(st.integers(0, 50), unique=True), max_size=6),
)
def test_jaccard_many_agrees_with_reference(x: list[int], ys: list[list[int]]) -> None:
    xs = np.array(sorted(x), dtype=np.uint32)
    blobs = [np.array(sorted(y), dtype="<u4").tobytes() for y in ys]
    got = mh.jaccard_many(xs, blobs)
    assert [round(float(g), 9) for g in got] == [
        round(mh.jaccard_reference(sorted(x), sorted(y)), 9) for y in ys
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 50), unique=True), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 3), st.lists(st.integers(0, 50), unique=True)),
             max_size=8),
)
def test_jaccard_pairs_agrees_with_reference(
    qs: list[list[int]], pairs: list[tuple[int, list[int]]]
) -> None:
    """Several queries at once (the prefetch's form): each pair against its own query."""
    pairs = [(q % len(qs), y) for q, y in pairs]
    qsets = [np.array(sorted(x), dtype=np.uint32) for x in qs]
    which = np.array([q for q, _ in pairs], dtype=np.int64)
    blobs = [np.array(sorted(y), dtype="<u4").tobytes() for _, y in pairs]
    got = mh.jaccard_pairs(qsets, which, blobs)
    assert [round(float(g), 9) for g in got] == [
        round(mh.jaccard_reference(sorted(qs[q]), sorted(y)), 9) for q, y in pairs
    ]


@pytest.mark.parametrize("slack", [0, mh.TABLE_SLACK])
def test_jaccard_pairs_exact_when_table_slots_clash(
    slack: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big sets over the whole uint32 range (extremes included): with no slack most keys
    share a slot with another, and the counts must still be exact."""
    monkeypatch.setattr(mh, "TABLE_SLACK", slack)
    rng = np.random.default_rng(7)
    qs = [np.unique(rng.integers(0, 1 << 32, 3000, dtype=np.uint64)) for _ in range(3)]
    qs[0] = np.unique(np.concatenate((qs[0], [0, 0xFFFFFFFE, 0xFFFFFFFF])))
    qsets = [q.astype(np.uint32) for q in qs]
    which, blobs, want = [], [], []
    for i in range(12):
        q = i % 3
        own = rng.choice(qs[q], int(rng.integers(0, 2500)), replace=False)
        other = rng.choice(qs[(q + 1) % 3], 300, replace=False)  # another query's keys
        y = sorted(set(own.tolist()) | set(other.tolist()) | {0xFFFFFFFF})
        which.append(q)
        blobs.append(np.array(y, dtype="<u4").tobytes())
        want.append(round(mh.jaccard_reference(qs[q].tolist(), y), 9))
    got = mh.jaccard_pairs(qsets, np.array(which, dtype=np.int64), blobs)
    assert [round(float(g), 9) for g in got] == want


# -- one document at a time -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_checking_a_document_at_once_gives_the_sequential_verdicts(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``check_document`` verifies the candidates from earlier documents in one batch;
    its verdicts (and the index it leaves) are those of ``check`` segment by segment,
    including copies inside one document and copies of a copy's source."""
    sentences = [P1[:30], P1[30:], P2[:35], P2[35:], P3[:30], P3[30:], P4[:40], P4[40:]]
    para = st.lists(st.sampled_from(sentences), min_size=1, max_size=3).map("".join)
    docs = data.draw(st.lists(st.lists(para, min_size=1, max_size=5), min_size=1, max_size=8))
    with_file = data.draw(st.booleans())
    cfg = DedupConfig(mode=data.draw(st.sampled_from(["near", "exact"])))
    # With an index file, a second run sees the documents again with their paragraphs
    # rotated: rows of the first run are replaced while their document is being checked.
    runs = [docs, [p[1:] + p[:1] for p in docs]] if with_file else [docs]
    # A long document is prefetched in slices: slicing must not change a verdict either.
    batch = data.draw(st.sampled_from([1, 2, dedup.PREFETCH_BATCH]))
    results = []
    for batched in (False, True):
        path = tmp_path_factory.mktemp("idx") / "i.sqlite"
        verdicts: list[object] = []
        for corpus in runs:
            with DedupIndex(cfg, path if with_file else None) as idx:
                for d, paras in enumerate(corpus):
                    items = list(enumerate(fingerprints(paras, cfg)))
                    if batched:
                        saved, dedup.PREFETCH_BATCH = dedup.PREFETCH_BATCH, batch
                        try:
                            verdicts.append(idx.check_document(f"d{d}", items))
                        finally:
                            dedup.PREFETCH_BATCH = saved
                    else:
                        verdicts.append([idx.check(f"d{d}", s, fp) for s, fp in items])
                    verdicts.append(idx.end_document(f"d{d}"))
                verdicts.append(len(idx))
        results.append(verdicts)
    assert results[0] == results[1]


def test_a_crowd_of_similar_paragraphs_still_finds_the_copy() -> None:
    """More candidates than ``VERIFY_TOP`` pass the signature screen (40 kept paragraphs
    share one long sentence); the copy of one of them agrees most and is verified, in the
    per-segment and in the per-document path alike."""
    rng = random.Random(5)
    # Jaccard between two of them ~0.4: kept, yet past the signature screen for each other.
    crowd = [P1 + "".join(chr(rng.randrange(0x4E00, 0x9FA0)) for _ in range(50)) for _ in range(40)]
    copy = edit(crowd[23], 3, "米")
    results = []
    for batched in (False, True):
        with DedupIndex(CFG) as idx:
            for i, fp in enumerate(fingerprints(crowd, CFG)):
                assert idx.check(f"c{i}", 0, fp) is None
            items = list(enumerate(fingerprints([copy, P4], CFG)))
            if batched:
                results.append(idx.check_document("q", items))
            else:
                results.append([idx.check("q", s, fp) for s, fp in items])
    assert results[0] == results[1]
    hit = results[0][0]
    assert hit is not None and hit.doc == "c23"


@pytest.mark.parametrize("cap", [1, 3])
@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.integers(0, 5), unique=True, max_size=4), st.booleans()),
        max_size=90,
    )
)
def test_band_maps_hold_the_first_ids_per_key(
    cap: int, rows: list[tuple[list[int], bool]]
) -> None:
    """``band_ids`` gives, per key, the first BUCKET_CAP ids added under it, and
    ``band_ids_recent`` those of them added since tracking started (a new document),
    whether a key holds one id or several. Keys are few and buckets small, so they fill."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dedup, "BUCKET_CAP", cap)
        _check_band_maps(rows)


def _check_band_maps(rows: list[tuple[list[int], bool]]) -> None:
    lsh = dedup._Lsh(8, 1, 1, 0.5)
    sig = np.zeros(8, dtype="<u4").tobytes()
    held: dict[int, list[int]] = {}
    recent: dict[int, list[int]] = {}
    for rid, (keys, new_doc) in enumerate(rows, start=1):
        if new_doc:
            lsh.track(True)
            recent = {}
        lsh.add(rid, sig, 1, keys)
        for k in keys:
            if len(held.setdefault(k, [])) < dedup.BUCKET_CAP:
                held[k].append(rid)
                recent.setdefault(k, []).append(rid)
        for k in range(6):
            assert dedup.ids_of(lsh.band_ids([k])).tolist() == held.get(k, [])
            if lsh.recent is not None:
                assert dedup.ids_of(lsh.band_ids_recent([k])).tolist() == recent.get(k, [])


@pytest.mark.parametrize("num_perm", [128, 100, 7])
def test_signature_screen_counts_agreeing_low_bytes(num_perm: int) -> None:
    """The screen counts agreement on 64-bit words of rows padded with zeros: the count
    must be the plain count of agreeing low bytes, whatever the padding."""
    rng = np.random.default_rng(num_perm)
    lsh = dedup._Lsh(num_perm, 1, 1, 0.5)
    lsh.min_agree = 0  # keep every count
    sigs = rng.integers(0, 2**32, (6, num_perm), dtype=np.uint32)
    sigs[3] = sigs[0]  # one copy; then one that agrees only in the high bytes
    sigs[4] = (sigs[0] & 0xFFFFFF00) | ((sigs[0] + 1) & 0xFF)
    for rid in range(1, 6):
        lsh.add(rid, sigs[rid].astype("<u4").tobytes(), 10, [rid])
    cand = np.arange(1, 6)
    got = lsh.screen(cand, np.zeros(5, dtype=np.int64), lsh.low_bytes(sigs[:1]),
                     np.full(1, 10), np.full(1, 10))
    want = [(sigs[c] % 256 == sigs[0] % 256).sum() for c in cand]
    assert got.tolist() == want
    assert got[2] == num_perm and got[3] == 0


def test_each_run_uses_the_lsh_layout_of_its_own_threshold(tmp_path: Path) -> None:
    # A layout stored by a run at 0.9 (14 bands x 9 rows) kept later runs at 0.5 from
    # even proposing most near copies as candidates.
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(DedupConfig(threshold=0.9), path) as idx:
        run([("seed", 0, P4)], idx)
    with DedupIndex(CFG, path) as idx:
        assert (idx.bands, idx.rows) == CFG.lsh
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert (int(meta["bands"]), int(meta["rows"])) == CFG.lsh


def test_an_exact_run_does_not_repeat_near_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    copy = edit(P1, 12, "の")
    with DedupIndex(CFG, path) as idx:
        assert run([("a", 0, P1), ("z", 0, copy)], idx)[1] is not None
    with DedupIndex(DedupConfig(mode="exact"), path) as idx:
        assert run([("a", 0, P1), ("z", 0, copy)], idx) == [None, None]


def test_a_signature_of_the_wrong_length_is_a_damaged_index(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    with DedupIndex(CFG, path) as idx:
        run([("a", 0, P1)], idx)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE segs SET sig = substr(sig, 1, 100)")
    with pytest.raises(InputError, match="damaged"):
        DedupIndex(CFG, path)



@pytest.mark.parametrize("mode", ["exact", "near"])
@pytest.mark.parametrize("at_once", [False, True])
def test_a_line_deleted_from_an_indexed_document_loses_nothing(
    tmp_path: Path, mode: str, at_once: bool
) -> None:
    # Its paragraphs move up a place: each was called a copy of its own old place, which
    # the next paragraph then replaced, and the first paragraph was in no output at all.
    path = tmp_path / "dedup.sqlite"
    cfg = DedupConfig(mode=mode)  # type: ignore[arg-type]

    def check(texts: list[str]) -> list[DupHit | None]:
        fps = fingerprints(texts, cfg)
        with DedupIndex(cfg, path) as idx:
            if at_once:
                hits = idx.check_document("a", list(enumerate(fps)))
            else:
                hits = [idx.check("a", i, fp) for i, fp in enumerate(fps)]
            idx.end_document("a")
        return hits

    assert check([HEADLINE, P1, P2, P3]) == [None] * 4
    assert check([P1, P2, P3]) == [None] * 3  # the headline deleted
    assert check([P1, P2, P3]) == [None] * 3
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT seg, exact FROM segs ORDER BY seg").fetchall() == [
            (i, fp.exact) for i, fp in enumerate(fingerprints([P1, P2, P3], cfg))
        ]
    with DedupIndex(cfg, path) as idx:  # and the new version is what others are copies of
        assert run([("z", 0, P2)], idx) == [DupHit("exact", "a", 1, 1.0)]
