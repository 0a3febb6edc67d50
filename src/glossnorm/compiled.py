"""The glossary compiled for matching, and a cache of it on disk.

Matching needs three things of a glossary: its forms, sorted; an automaton over them; and,
for a form the corpus mentions, what that form means (its entry, language, replacement and
rule). A 100,000-entry glossary has 561k forms. Parsing, validating and compiling it takes
about 4.5 s at every start, while a corpus mentions a few thousand of its entries.

So a large compiled glossary is cached, like a compiled Sudachi or MeCab dictionary. The
cache is keyed by the bytes of the glossary's files, so any edit rebuilds it. A later run
with the same files reads the automaton back in a few hundredths of a second and builds an
entry only when one of its forms is first met. The cache is only an accelerator: a missing,
stale, foreign or damaged file is rebuilt, and a cache that cannot be written is skipped.
The output is the same bytes with or without it.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import marshal
import os
import struct
import sys
import time
import zlib
from array import array
from collections.abc import Sequence
from itertools import accumulate, compress, islice
from operator import eq, itemgetter, ne
from pathlib import Path
from typing import Any

import daachorse

from glossnorm import __version__
from glossnorm.atomic import write_bytes_atomic
from glossnorm.glossary import (
    NO_RULE,
    Glossary,
    default_glossary_path,
    parse_glossary,
    paused_gc,
    read_glossary,
)
from glossnorm.model import Entry, EntryType, Lang, Origin, Rule, Variant

PatternSpec = tuple[str, Entry, Lang, "str | None", Rule, "str | None"]

JA_SLOT, EN_SLOT = -1, -2  # a form's slot in its entry: a canonical form, or variant i
# Below this many forms a glossary compiles in a few hundredths of a second: no cache file.
CACHE_MIN_FORMS = 20_000
CACHE_SUFFIX = ".glossnorm-cache"
# Bump CACHE_FORMAT when the sections, the entry records or what a slot means change: it
# is part of the key, so files of another format are never read, only replaced.
CACHE_FORMAT = 2
_MAGIC = b"glossnorm compiled glossary\n"
_SECTIONS = 8
_HEAD = struct.Struct("<32sI")  # the key; a crc32 of the lengths and the sections
_LENGTHS = struct.Struct(f"<{_SECTIONS}Q")
STALE_TMP_SECONDS = 3600  # a temporary file this old was left by a killed run
# What the compiled form depends on besides the glossary: the code that parses, validates
# and compiles it (a change to it without a new version must not serve old entries).
_SOURCES = ("compiled.py", "glossary.py", "model.py")
_LANGS = (Lang.JA, Lang.EN)
_TYPES = {t.value: t for t in EntryType}


class CompiledGlossary:
    """A glossary's forms sorted, the automaton over them (None when there are none), and
    each form's spec, built on first use. ``len()`` and ``paths`` are the glossary's."""

    __slots__ = ("_built", "_entries", "_owner", "_records", "_slot", "automaton",
                 "cache_problem", "entry_count", "forms", "paths", "source",
                 "token_rules")  # fmt: skip

    def __init__(
        self,
        forms: list[str],
        owner: array[int],
        slot: array[int],
        entries: Sequence[Entry] | _Records,
        paths: Sequence[str],
        automaton: daachorse.CharwiseDoubleArrayAhoCorasick | None,
        token_rules: bool,
    ) -> None:
        self.forms = forms
        self._owner = owner
        self._slot = slot
        self.paths = tuple(paths)
        self.entry_count = len(entries)
        self.automaton = automaton
        self.token_rules = token_rules  # some form is checked against Sudachi's tokens
        self.source: Path | None = None  # the cache file it came from
        self.cache_problem: str | None = None  # why it could not be cached, for a warning
        # Entries in memory, or a cache file's records decoded into _built on first use.
        self._records = entries if isinstance(entries, _Records) else None
        self._entries: Sequence[Entry] = () if isinstance(entries, _Records) else entries
        self._built: dict[int, Entry] = {}

    def __len__(self) -> int:
        return self.entry_count

    def __reduce__(self) -> tuple[Any, ...]:
        # A spawned worker gets the cache file's sections, or the entries to compile again.
        if self._records is not None:
            return (_restore, (_sections(self),))
        return (_compile_entries, (tuple(self._entries), self.paths))

    def entry(self, k: int) -> Entry:
        if self._records is None:
            return self._entries[k]
        e = self._built.get(k)
        if e is None:
            e = self._built[k] = self._records.entry(k)
        return e

    def spec(self, i: int) -> PatternSpec:
        """(form, entry, lang, target, rule, renamed) of form ``i``; ``target`` is the
        replacement, None where the form stays as written."""
        e = self.entry(self._owner[i])
        s = self._slot[i]
        if s == JA_SLOT:
            return (e.ja, e, Lang.JA, None, NO_RULE, None)
        if s == EN_SLOT:
            return (e.en, e, Lang.EN, None, NO_RULE, None)
        v = e.variants[s]
        target = None if v.keep else e.ja if v.lang is Lang.JA else e.en
        return (v.form, e, v.lang, target, v.rule, v.renamed)


def compile_glossary(glossary: Glossary) -> CompiledGlossary:
    return _compile_entries(glossary.entries, glossary.paths)


def _compile_entries(entries: Sequence[Entry], paths: Sequence[str]) -> CompiledGlossary:
    """Every form of every entry, sorted. A form listed twice (an entry whose variant
    repeats a canonical form, or NATO as both ja and en) keeps its first listing, so the
    automaton and the specs agree on what it means. Sorted forms arrive in trie order,
    which builds the automaton faster, and let ``Matcher`` find the forms that begin at an
    offset by bisection."""
    with paused_gc():
        rows: list[tuple[str, int, int]] = []
        add = rows.append
        for k, e in enumerate(entries):
            add((e.ja, k, JA_SLOT))
            add((e.en, k, EN_SLOT))
            for j, v in enumerate(e.variants):
                add((v.form, k, j))
        rows.sort(key=itemgetter(0))  # stable: a form's listings stay in glossary order
        forms = list(map(itemgetter(0), rows))
        if any(map(eq, forms, islice(forms, 1, None))):  # some form listed twice (rare)
            rows = list(compress(rows, map(ne, forms, [None, *forms])))
            forms = list(map(itemgetter(0), rows))
        owner = array("i", map(itemgetter(1), rows))
        slot = array("i", map(itemgetter(2), rows))
        token = any(v.rule.token for e in entries for v in e.variants)
        return CompiledGlossary(forms, owner, slot, entries, paths, _automaton(forms), token)


def _automaton(forms: list[str]) -> daachorse.CharwiseDoubleArrayAhoCorasick | None:
    # A character-wise double array (daachorse, Rust) reports leftmost-longest hits as one
    # list per call, and builds and scans 1.5x faster than ahocorasick-rs's NFA.
    if not forms:
        return None
    return daachorse.CharwiseDoubleArrayAhoCorasick(forms, daachorse.MATCH_KIND_LEFTMOST_LONGEST)


# --------------------------------------------------------------------------- the cache


def default_cache_dir() -> Path:
    """``$GLOSSNORM_CACHE_DIR``, else ``$XDG_CACHE_HOME/glossnorm``, else ~/.cache/glossnorm."""
    if env := os.environ.get("GLOSSNORM_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "glossnorm"


def load_compiled(
    path: str | Path | None = None,
    cache_dir: Path | None = None,
    min_forms: int | None = None,
) -> CompiledGlossary:
    """The compiled glossary of a file or folder (None = the shipped one): read back from
    ``cache_dir`` when its files are unchanged, else loaded, validated and compiled (and
    cached when it has at least ``min_forms`` forms, default ``CACHE_MIN_FORMS``).
    ``cache_dir`` None: no cache."""
    sources = read_glossary(path)
    if cache_dir is None:
        return compile_glossary(parse_glossary(sources))
    key = _key(sources)
    root = default_glossary_path() if path is None else path
    file = cache_dir / f"{_slot_name(root)}{CACHE_SUFFIX}"
    cached = _read_cache(file, key)
    if cached is not None:
        return cached
    compiled = compile_glossary(parse_glossary(sources))
    if len(compiled.forms) >= (CACHE_MIN_FORMS if min_forms is None else min_forms):
        compiled.cache_problem = _write_cache(file, key, compiled)
    return compiled


def _key(sources: Sequence[tuple[Path, bytes]]) -> bytes:
    """What the compiled glossary depends on: the files' names (the entries' origins name
    them) and bytes, this format, the code and the versions that read it."""
    h = hashlib.sha256(_MAGIC)
    versions = (
        CACHE_FORMAT,
        __version__,
        _build_digest(getattr(daachorse, "daachorse", daachorse), "daachorse"),  # (the .so)
        sys.implementation.cache_tag,  # (the marshal format)
        sys.byteorder,  # (the arrays are native)
    )
    for part in versions:
        h.update(f"{part}\0".encode())
    h.update(_code_digest())
    for f, data in sources:
        h.update(f"{f}\0{len(data)}\0".encode("utf-8", "surrogatepass"))
        h.update(data)
    return h.digest()


@functools.lru_cache(maxsize=4)
def _build_digest(module: Any, dist: str) -> str:
    """A sha256 of ``module``'s file (1 ms): another build or release is other bytes,
    and the same build in two environments that share a cache folder is the same key.
    Asking importlib.metadata for the version of ``dist`` would cost 8 ms of every start;
    it is asked only for a module without a file (a frozen build)."""
    where = getattr(module, "__file__", None)
    if where:
        with contextlib.suppress(OSError):
            return hashlib.sha256(Path(where).read_bytes()).hexdigest()
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # (a build without its metadata)
        return "unknown"


@functools.lru_cache(maxsize=1)
def _code_digest() -> bytes:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _SOURCES:
        try:
            h.update((here / name).read_bytes())
        except OSError:  # (run from an archive: the version stands for the code)
            h.update(name.encode())
    return h.digest()


def _slot_name(root: str | Path) -> str:
    """One cache file per glossary location (the file or folder given): a rebuild
    replaces it, so edits, added or renamed files do not pile up files."""
    where = os.path.abspath(root)
    return hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class _Records:
    """The entries of a cache file, each decoded when first asked for (~8 µs)."""

    __slots__ = ("data", "offsets", "paths")

    def __init__(self, data: bytes, offsets: array[int], paths: tuple[str, ...]) -> None:
        self.data = data
        self.offsets = offsets
        self.paths = paths

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def entry(self, k: int) -> Entry:
        blob = marshal.loads(self.data[self.offsets[k] : self.offsets[k + 1]])
        return _decode_entry(blob, self.paths)


def _encode_origin(o: Origin | None, paths: dict[str, int]) -> tuple[int | str, int, int] | None:
    return None if o is None else (paths.get(o.path, o.path), o.line, o.end_line)


def _decode_origin(o: tuple[int | str, int, int] | None, paths: tuple[str, ...]) -> Origin | None:
    if o is None:
        return None
    p, line, end = o
    return Origin(paths[p] if isinstance(p, int) else p, line, end)


def _encode_rule(r: Rule) -> tuple[Any, ...] | None:
    if r.is_empty:
        return None
    return (r.before, r.after, r.token, r.headline, r.infix)


def _encode_entry(e: Entry, paths: dict[str, int]) -> bytes:
    variants = tuple(
        (v.form, v.lang is Lang.EN, _encode_rule(v.rule), v.keep, v.renamed,
         _encode_origin(v.origin, paths))
        for v in e.variants
    )  # fmt: skip
    origin = _encode_origin(e.origin, paths)
    return marshal.dumps((e.id, e.type.value, e.ja, e.en, variants, e.note, e.rejects, origin))


def _decode_entry(data: Any, paths: tuple[str, ...]) -> Entry:
    eid, etype, ja, en, variants, note, rejects, origin = data
    vs = tuple(
        Variant(form, _LANGS[is_en], NO_RULE if rule is None else Rule(*rule), keep, renamed,
                _decode_origin(vo, paths))
        for form, is_en, rule, keep, renamed, vo in variants
    )  # fmt: skip
    return Entry(eid, _TYPES[etype], ja, en, vs, note, rejects, _decode_origin(origin, paths))


def _write_cache(file: Path, key: bytes, c: CompiledGlossary) -> str | None:
    """Write ``c`` to ``file`` through a temporary sibling and a rename, so a reader sees
    a whole file or none. Without fsync: a file torn by a crash fails its checksum and is
    rebuilt. A cache that cannot be written (read-only, full disk) is skipped: returns
    why, for the caller to warn."""
    sections = _sections(c)
    if sections is None:
        return None
    lengths = _LENGTHS.pack(*map(len, sections))
    crc = zlib.crc32(lengths)
    for part in sections:
        crc = zlib.crc32(part, crc)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(file)
        write_bytes_atomic(file, [_MAGIC + _HEAD.pack(key, crc) + lengths, *sections], False)
    except OSError as exc:
        return (
            f"{file.parent}: cannot write the compiled glossary ({exc.strerror or exc}), so "
            "it is compiled again in every run: give --cache-dir a writable folder, or --no-cache"
        )
    return None


def _remove_stale(file: Path) -> None:
    """Temporary files of ``file`` left by killed runs (a recent one may be another
    run's, still being written)."""
    old = time.time() - STALE_TMP_SECONDS
    for tmp in file.parent.glob(f".{glob.escape(file.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < old:
                tmp.unlink()


def _sections(c: CompiledGlossary) -> list[bytes] | None:
    """The automaton, the forms, each form's entry and slot, the entries, their files'
    paths and the flags: the bytes of a cache file after its head. None when a form holds
    a line break (never, in a valid glossary) and the forms cannot be joined by them, or
    when there are none."""
    if not c.forms:
        return None
    joined = "\n".join(c.forms)
    if joined.count("\n") != len(c.forms) - 1:
        return None
    if c._records is not None:
        recs = c._records
        data, offsets, paths = recs.data, recs.offsets, recs.paths
    else:
        paths = c.paths
        index = {p: i for i, p in enumerate(paths)}
        blobs = [_encode_entry(e, index) for e in c._entries]
        offsets = array("Q", [0])
        offsets.extend(accumulate(map(len, blobs)))
        data = b"".join(blobs)
    assert c.automaton is not None  # a glossary with forms
    return [
        c.automaton.serialize(),
        joined.encode("utf-8", "surrogatepass"),
        c._owner.tobytes(),
        c._slot.tobytes(),
        offsets.tobytes(),
        data,
        marshal.dumps(paths),
        marshal.dumps((c.token_rules,)),
    ]


def _read_cache(file: Path, key: bytes) -> CompiledGlossary | None:
    """The compiled glossary in ``file`` if it is whole and was made from the same files
    by this version; else None. Each section is read into its own bytes (the automaton
    is deserialised from bytes only): the file is copied once."""
    size = len(_MAGIC) + _HEAD.size + _LENGTHS.size
    try:
        with open(file, "rb") as fh:
            head = fh.read(size)
            if len(head) != size or not head.startswith(_MAGIC):
                return None
            found, crc = _HEAD.unpack_from(head, len(_MAGIC))
            if found != key:
                return None
            lengths = _LENGTHS.unpack_from(head, size - _LENGTHS.size)
            # (a damaged length must not ask for terabytes)
            if size + sum(lengths) != os.fstat(fh.fileno()).st_size:
                return None
            sections = [fh.read(n) for n in lengths]
            if fh.read(1) or tuple(map(len, sections)) != lengths:
                return None
    except OSError:
        return None
    check = zlib.crc32(head[size - _LENGTHS.size :])
    for part in sections:
        check = zlib.crc32(part, check)
    if check != crc:
        return None
    c = _from_sections(sections)
    if c is not None:
        c.source = file
    return c


def _restore(sections: list[bytes]) -> CompiledGlossary:
    c = _from_sections(sections)
    if c is None:  # pragma: no cover - the sections were checked when first read
        raise ValueError("damaged compiled glossary")
    return c


def _from_sections(sections: list[bytes]) -> CompiledGlossary | None:
    auto, forms, owner, slot, offsets, data, paths, flags = sections
    try:
        with paused_gc():
            automaton = daachorse.CharwiseDoubleArrayAhoCorasick.deserialize(auto)
            form_list = str(forms, "utf-8", "surrogatepass").split("\n")
            owner_arr, slot_arr, offset_arr = array("i"), array("i"), array("Q")
            owner_arr.frombytes(owner)
            slot_arr.frombytes(slot)
            offset_arr.frombytes(offsets)
            path_tuple = tuple(marshal.loads(paths))
            (token_rules,) = marshal.loads(flags)
    except (ValueError, TypeError, EOFError):
        return None
    if not len(form_list) == len(owner_arr) == len(slot_arr) or not isinstance(token_rules, bool):
        return None
    records = _Records(data, offset_arr, path_tuple)
    return CompiledGlossary(
        form_list, owner_arr, slot_arr, records, path_tuple, automaton, token_rules
    )
