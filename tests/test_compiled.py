"""The compiled glossary and its cache: the same specs and hits whether compiled here or
read back, and a cache that can be stale, damaged or unwritable without changing a run."""

from __future__ import annotations

import marshal
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossnorm import compiled
from glossnorm.compiled import (
    CACHE_SUFFIX,
    EN_SLOT,
    JA_SLOT,
    CompiledGlossary,
    compile_glossary,
    load_compiled,
)
from glossnorm.errors import GlossaryError
from glossnorm.glossary import NO_RULE, Glossary, load_glossary
from glossnorm.match import Matcher
from glossnorm.model import Entry, EntryType, Lang, Origin, Rule, Variant

HERE = Path(__file__).parent
MINI = HERE / "fixtures" / "mini.gloss"
TEXTS = [
    "ロシア「美、要求を無視」",
    "トニー・ブリンカーン長官とラブロフ外相がジュネーブで会談した。",
    "米・ナト軍がキエフに。NATO広報とナトリウム、Kiev and Blinken.",
    "ルーマニアブルガリア、奈藤・ロ首脳がアメリカで。",
]


def _specs(c: CompiledGlossary) -> list[object]:
    # Origins do not take part in Entry equality: compare them too.
    out: list[object] = []
    for i in range(len(c.forms)):
        form, e, lang, target, rule, renamed = c.spec(i)
        origins = (e.origin, *(v.origin for v in e.variants))
        out.append((form, e, origins, lang, target, rule, renamed))
    return out


def _cache_files(d: Path) -> list[Path]:
    return sorted(d.glob(f"*{CACHE_SUFFIX}"))


def test_forms_sorted_unique_first_listing_wins() -> None:
    # NATO as both ja and en: one form, the first listing (ja); a variant keeps its own.
    nato = Entry("nato", EntryType.ORGANISATION, "NATO", "NATO", (Variant("ナトー", Lang.JA),))
    kyiv = Entry("kyiv", EntryType.PLACE, "キーウ", "Kyiv", (Variant("キエフ", Lang.JA),))
    c = compile_glossary(Glossary.of([nato, kyiv]))
    assert c.forms == ["Kyiv", "NATO", "キエフ", "キーウ", "ナトー"]
    by_form = {c.spec(i)[0]: c.spec(i) for i in range(len(c.forms))}
    assert by_form["NATO"][2] is Lang.JA and by_form["NATO"][3] is None
    assert by_form["キエフ"][1] is kyiv and by_form["キエフ"][3] == "キーウ"
    assert by_form["Kyiv"][2] is Lang.EN and by_form["Kyiv"][4] == NO_RULE
    assert Matcher(Glossary.of([nato, kyiv])).find("NATOとキエフ")[1].pattern.target == "キーウ"
    assert len(c) == 2


def test_token_rules_are_known_without_building_an_entry(tmp_path: Path) -> None:
    # (the pipeline loads Sudachi before the workers fork only where a rule needs it)
    token = Variant("奈藤", Lang.JA, Rule(token=True))
    nato = Entry("nato", EntryType.ORGANISATION, "NATO", "NATO", (Variant("ナトー", Lang.JA),))
    assert compile_glossary(Glossary.of([nato])).token_rules is False
    both = Glossary.of([nato, Entry("nato2", EntryType.ORGANISATION, "北約", "NATO2", (token,))])
    assert compile_glossary(both).token_rules is True
    load_compiled(MINI, tmp_path, min_forms=0)
    read = load_compiled(MINI, tmp_path, min_forms=0)
    assert read.source is not None and read.token_rules is True and read._built == {}


def test_an_empty_glossary_compiles_to_no_automaton() -> None:
    c = compile_glossary(Glossary.of([]))
    assert c.forms == [] and c.automaton is None
    assert Matcher(c).find("キエフ") == []


@pytest.mark.parametrize("source", [MINI, HERE / "fixtures" / "glossary" / "folder", None])
def test_read_back_gives_the_same_specs_and_hits(source: Path | None, tmp_path: Path) -> None:
    built = load_compiled(source, tmp_path, min_forms=0)
    assert built.source is None and len(_cache_files(tmp_path)) == 1
    read = load_compiled(source, tmp_path, min_forms=0)
    assert read.source == _cache_files(tmp_path)[0]
    assert read.forms == built.forms and read.paths == built.paths and len(read) == len(built)
    assert _specs(read) == _specs(built)
    folder = source == HERE / "fixtures" / "glossary" / "folder"  # (the only one without)
    assert read.token_rules is built.token_rules is not folder
    fresh, cached = Matcher(load_glossary(source)), Matcher(read)
    for text in TEXTS:
        assert cached.find_spans(text) == fresh.find_spans(text)
        assert cached.find(text) == fresh.find(text)


def test_entries_are_built_once_and_on_first_use(tmp_path: Path) -> None:
    load_compiled(MINI, tmp_path, min_forms=0)
    read = load_compiled(MINI, tmp_path, min_forms=0)
    assert read._built == {}
    e = read.spec(0)[1]
    assert read.spec(0)[1] is e and len(read._built) == 1


def test_one_file_per_glossary_folder_whatever_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    shutil.copytree(HERE / "fixtures" / "glossary" / "folder", folder)
    cache = tmp_path / "cache"
    load_compiled(folder, cache, min_forms=0)
    extra = "[zz-kyiv-city]\ntype: place\nja: キーウ市\nen: Kyiv City\n"
    (folder / "x.gloss").write_text(extra, "utf-8")
    assert "キーウ市" in load_compiled(folder, cache, min_forms=0).forms
    (folder / "x.gloss").rename(folder / "y.gloss")
    assert load_compiled(folder, cache, min_forms=0).paths[-1].endswith("y.gloss")
    assert len(_cache_files(cache)) == 1
    assert load_compiled(folder, cache, min_forms=0).source == _cache_files(cache)[0]


def test_stale_temporary_files_go_and_new_files_are_readable(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_compiled(MINI, cache, min_forms=0)
    (file,) = _cache_files(cache)
    stale, fresh = cache / f".{file.name}.1.aa.tmp", cache / f".{file.name}.2.bb.tmp"
    for tmp in (stale, fresh):
        tmp.write_bytes(b"half")
    old = time.time() - compiled.STALE_TMP_SECONDS - 60
    os.utime(stale, (old, old))
    file.unlink()
    load_compiled(MINI, cache, min_forms=0)  # writes again
    assert not stale.exists() and fresh.exists()  # (fresh: maybe another run's)
    umask = os.umask(0)
    os.umask(umask)
    assert file.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_small_glossaries_and_no_cache_dir_write_nothing(tmp_path: Path) -> None:
    load_compiled(MINI, tmp_path)  # far below CACHE_MIN_FORMS
    load_compiled(MINI, None, min_forms=0)
    assert _cache_files(tmp_path) == []


def test_an_edit_rebuilds_and_replaces_the_cache_file(tmp_path: Path) -> None:
    gloss = tmp_path / "g.gloss"
    shutil.copy(MINI, gloss)
    cache = tmp_path / "cache"
    load_compiled(gloss, cache, min_forms=0)
    (first,) = _cache_files(cache)
    added = "\n[kiev2]\ntype: place\nja: キエフ市\nen: Kyiv city\n"
    gloss.write_text(MINI.read_text("utf-8") + added, "utf-8")
    edited = load_compiled(gloss, cache, min_forms=0)
    assert edited.source is None and "キエフ市" in edited.forms
    assert _cache_files(cache) == [first]  # one file per glossary location
    again = load_compiled(gloss, cache, min_forms=0)
    assert again.source == first and "キエフ市" in again.forms
    assert [p for p in cache.iterdir() if p.name.endswith(".tmp")] == []


def test_another_format_or_version_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_compiled(MINI, tmp_path, min_forms=0)
    monkeypatch.setattr(compiled, "CACHE_FORMAT", compiled.CACHE_FORMAT + 1)
    assert load_compiled(MINI, tmp_path, min_forms=0).source is None
    monkeypatch.setattr(compiled, "__version__", "0.0.0-other")
    assert load_compiled(MINI, tmp_path, min_forms=0).source is None
    monkeypatch.setattr(compiled, "_code_digest", lambda: b"another parser")
    assert load_compiled(MINI, tmp_path, min_forms=0).source is None
    assert load_compiled(MINI, tmp_path, min_forms=0).source is not None
    # daachorse's extension: the same bytes elsewhere (another environment) are the same
    # build; other bytes, even at the same path, size and time, are another (the
    # serialised automaton is in its own format)
    ext = compiled.daachorse.daachorse
    copy = tmp_path / "ext" / Path(ext.__file__).name
    copy.parent.mkdir()
    shutil.copy2(ext.__file__, copy)
    monkeypatch.setattr(ext, "__file__", str(copy))
    compiled._build_digest.cache_clear()
    assert load_compiled(MINI, tmp_path, min_forms=0).source is not None
    data = bytearray(copy.read_bytes())
    data[-1] ^= 1
    stat = copy.stat()
    copy.write_bytes(bytes(data))
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    compiled._build_digest.cache_clear()
    assert load_compiled(MINI, tmp_path, min_forms=0).source is None
    assert load_compiled(MINI, tmp_path, min_forms=0).source is not None
    compiled._build_digest.cache_clear()  # (the real file again, after monkeypatch)
    assert len(_cache_files(tmp_path)) == 1


DAMAGES = ["flip-body", "flip-key", "flip-crc", "flip-length", "huge-length", "truncate",
           "empty", "foreign", "extend"]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_cache_file_is_rebuilt(damage: str, tmp_path: Path) -> None:
    good = load_compiled(MINI, tmp_path, min_forms=0)
    (file,) = _cache_files(tmp_path)
    data = bytearray(file.read_bytes())
    head = len(compiled._MAGIC)
    if damage == "flip-body":
        data[len(data) // 2] ^= 0x40
    elif damage == "flip-key":
        data[head] ^= 0x01
    elif damage == "flip-crc":
        data[head + 32] ^= 0x01
    elif damage == "flip-length":  # the first length, and the automaton's bytes with it
        data[head + 36] ^= 0x01
    elif damage == "huge-length":  # must not be read (a MemoryError), only refused
        data[head + 36 + 5] ^= 0x40
    elif damage == "truncate":
        del data[len(data) * 2 // 3 :]
    elif damage == "empty":
        data.clear()
    elif damage == "foreign":
        data[:head] = b"x" * head
    else:
        data += b"\0"
    file.write_bytes(bytes(data))
    rebuilt = load_compiled(MINI, tmp_path, min_forms=0)
    assert rebuilt.source is None and _specs(rebuilt) == _specs(good)
    assert load_compiled(MINI, tmp_path, min_forms=0).source == file  # written again


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", "utf-8")
    c = load_compiled(MINI, blocker / "cache", min_forms=0)
    assert c.source is None and len(c.forms) > 0
    assert c.cache_problem is not None and str(blocker / "cache") in c.cache_problem
    assert load_compiled(MINI, tmp_path / "ok", min_forms=0).cache_problem is None
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        assert load_compiled(MINI, ro, min_forms=0).source is None
        assert list(ro.iterdir()) == []


def test_a_broken_glossary_is_refused_and_not_cached(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gloss"
    bad.write_text("[a]\nja: ア\nen: A\n\n[b]\nja: ア\nen: B\n", "utf-8")
    with pytest.raises(GlossaryError, match=r"bad\.gloss:\d+"):
        load_compiled(bad, tmp_path / "cache", min_forms=0)
    assert not (tmp_path / "cache").exists() or _cache_files(tmp_path / "cache") == []


def test_pickles_for_a_spawned_worker(tmp_path: Path) -> None:
    load_compiled(MINI, tmp_path, min_forms=0)
    for c in (load_compiled(MINI, tmp_path, min_forms=0), load_compiled(MINI, None)):
        back = pickle.loads(pickle.dumps(c))
        assert back.forms == c.forms and _specs(back) == _specs(c)
        assert back.automaton is not None and c.automaton is not None
        assert back.automaton.find(TEXTS[2]) == c.automaton.find(TEXTS[2])


def test_slots_point_at_canonical_forms_and_variants() -> None:
    c = compile_glossary(load_glossary(MINI))
    for i, form in enumerate(c.forms):
        slot = c._slot[i]
        e = c.spec(i)[1]
        expected = e.ja if slot == JA_SLOT else e.en if slot == EN_SLOT else e.variants[slot].form
        assert form == expected


_form = st.text(alphabet="アイウエオカキクケコNATOnato・ー北大西洋𠮷-", min_size=1, max_size=6)
_origin = st.none() | st.builds(
    Origin, st.sampled_from(["g/a.gloss", "g/b.gloss", "elsewhere"]), st.integers(1, 9),
    st.integers(0, 9),
)  # fmt: skip
_rule = st.just(NO_RULE) | st.builds(
    Rule,
    st.lists(st.sampled_from(["米", "[・]", "(?:日|中)"]), max_size=2).map(tuple),
    st.lists(st.sampled_from(["軍", "・"]), max_size=2).map(tuple),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
_variant = st.builds(
    Variant, _form, st.sampled_from(Lang), _rule, st.booleans(),
    st.none() | st.just("2022-03-31"), _origin,
)  # fmt: skip
_entry = st.builds(
    Entry, st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), st.sampled_from(EntryType),
    _form, _form, st.lists(_variant, max_size=4).map(tuple), st.text(max_size=5),
    st.lists(_form, max_size=2).map(tuple), _origin,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_entry, max_size=6))
def test_entries_round_trip_through_the_cache_format(entries: list[Entry]) -> None:
    paths = {"g/a.gloss": 0, "g/b.gloss": 1}
    for e in entries:
        back = compiled._decode_entry(
            marshal.loads(compiled._encode_entry(e, paths)), ("g/a.gloss", "g/b.gloss")
        )
        assert back == e and back.origin == e.origin
        assert [v.origin for v in back.variants] == [v.origin for v in e.variants]
        assert [type(v.lang) for v in back.variants] == [Lang] * len(e.variants)
