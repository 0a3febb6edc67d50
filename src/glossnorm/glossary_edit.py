"""Safe, minimal-diff edits of `.gloss` files (add, alias, rename, merge, remove, reject, accept).

Terminologists edit the glossary every day and review the changes as diffs, so an edit:

1. reads every file of the glossary (a file or a folder) and remembers its exact bytes;
2. computes the new entries, then the new text of only the files it touches: untouched
   entries keep their bytes, an edited entry keeps its unchanged lines (and the comments inside
   its block) and only gains or loses the lines that differ, a new entry is appended;
3. re-parses the new text of every touched file and validates the *whole* resulting glossary;
   any problem raises :class:`GlossaryConflict` and nothing is written;
4. writes each touched file atomically (temporary file in the same folder, fsync, os.replace,
   file mode preserved), after checking that nobody changed the files meanwhile.

Edits of one glossary hold its lock from the first read to the last write, so two at the
same time run one after the other: each validates what the other wrote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from glossnorm.atomic import write_atomic, write_atomic_many
from glossnorm.errors import GlossaryConflict, GlossaryError, UsageError
from glossnorm.glossary import (
    ID_RE,
    SUFFIX,
    Glossary,
    decode_utf8,
    format_variant,
    glossary_files,
    parse_text,
    parse_variant,
    read_bytes,
    render_entry,
    split_lines,
    validate,
)
from glossnorm.model import Entry, EntryType, Lang, Origin, Rule, Variant

_BOM = "\ufeff"
_TYPE_FILES = {
    EntryType.PERSON: ("person", "persons", "people"),
    EntryType.ORGANISATION: ("organisation", "organisations", "organization", "organizations"),
    EntryType.PLACE: ("place", "places"),
    EntryType.TERM: ("term", "terms"),
    EntryType.OTHER: ("other", "others"),
}
_LATIN_RE = re.compile(r"[\x00-\x7f\u00a0-\u024f\u1e00-\u1eff\u2010-\u2027]*\Z")


# --------------------------------------------------------------------------- helpers


def guess_lang(form: str) -> Lang:
    """Latin-only forms are English, anything else (kana, kanji, mixed) Japanese."""
    return Lang.EN if _LATIN_RE.match(form) else Lang.JA


def slugify(text: str) -> str:
    """An id candidate from an English form: 'Antony Blinken' -> 'antony-blinken'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "entry"


def unique_id(base: str, taken: Iterable[str] | Mapping[str, Any]) -> str:
    """``base`` (slugified if needed), or ``base-2``, ``base-3`` … whichever is free."""
    used = taken if isinstance(taken, Mapping) else set(taken)
    if not ID_RE.match(base):
        base = slugify(base)
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def make_variant(form: str, lang: Lang | None = None, rule: str = "") -> Variant:
    """A Variant from a form and attribute text (``keep; before=米・``, braces optional)."""
    attrs = rule.strip()
    if attrs.startswith("{") and attrs.endswith("}"):
        attrs = attrs[1:-1]
    text = form.strip() + (f" {{{attrs}}}" if attrs else "")
    try:
        pv = parse_variant(text)
    except ValueError as exc:
        raise UsageError(f"variant {form!r}: {exc}") from None
    return Variant(pv.form, lang or guess_lang(pv.form), pv.rule, pv.keep, pv.renamed)


def in_file_order(e: Entry) -> Entry:
    """``e`` with its variants in the order a `.gloss` file holds them (ja, then en)."""
    ordered = tuple(v for lg in (Lang.JA, Lang.EN) for v in e.variants if v.lang is lg)
    return e if ordered == e.variants else replace(e, variants=ordered)


def _with_variant(e: Entry, v: Variant) -> Entry:
    """``e`` with ``v`` added after the last variant of the same language."""
    vs = list(e.variants)
    last = max((i for i, x in enumerate(vs) if x.lang is v.lang), default=len(vs) - 1)
    vs.insert(last + 1, v)
    return replace(e, variants=tuple(vs))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the files it rewrote (empty when nothing changed) and a summary."""

    changed: tuple[Path, ...]
    message: str
    warnings: tuple[str, ...] = ()  # items skipped or adjusted (accept, import), with reasons


@dataclass(frozen=True)
class Plan:
    """Entry-level changes: replaced or removed (value None) entries by id, and new entries."""

    replace: Mapping[str, Entry | None] = field(default_factory=dict)
    append: Sequence[tuple[Path, Entry]] = ()
    # For an id defined more than once (an invalid glossary): the definitions to change.
    only: Mapping[str, frozenset[Origin | None]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.replace and not self.append


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class GlossFile:
    path: Path
    raw: bytes
    text: str  # decoded, without BOM
    bom: bool
    newline: str
    entries: tuple[Entry, ...]
    problems: tuple[str, ...]


def _read(path: Path) -> GlossFile:
    raw = read_bytes(path)
    text = decode_utf8(raw, path)
    bom = text.startswith(_BOM)
    text = text.removeprefix(_BOM)
    head = text[:10_000]
    newline = "\r\n" if "\r\n" in head else "\r" if "\r" in head and "\n" not in head else "\n"
    entries, problems = parse_text(text, str(path))
    return GlossFile(path, raw, text, bom, newline, tuple(entries), tuple(problems))


def _field_key(line: str) -> str | None:
    """A formatting-independent key of one field line, or None for blanks and comments."""
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    if s.startswith("[") and s.endswith("]"):
        return f"[{s[1:-1].strip()}]"
    key, _, value = s.partition(":")
    key, value = key.strip(), value.strip()
    if key in ("ja-var", "en-var"):
        try:
            pv = parse_variant(value)
        except ValueError:
            return f"{key}: {value}"
        lang = Lang.JA if key == "ja-var" else Lang.EN
        value = format_variant(Variant(pv.form, lang, pv.rule, pv.keep, pv.renamed))
    return f"{key}: {value}"


def _edit_block(block: list[str], new: Entry, nl: str) -> list[str]:
    """Turn an entry's block into ``new`` with the fewest changed lines.

    Lines whose field is unchanged keep their exact text, comments stay where they are,
    removed fields disappear, and each new field line goes right after the line that precedes
    it in canonical order (so an alias is one added line next to its siblings).
    """
    target = render_entry(new)
    wanted = Counter(target)
    out: list[tuple[str | None, str]] = []
    for raw in block:
        key = _field_key(raw)
        if key is None:
            out.append((None, raw))
        elif wanted[key] > 0:
            wanted[key] -= 1
            out.append((key, raw))
    have = Counter(k for k, _ in out if k is not None)
    for i, line in enumerate(target):
        if have[line] > 0:
            have[line] -= 1
            continue
        pos = 0
        if i > 0:
            anchor = target[i - 1]
            pos = max(j for j, (k, _) in enumerate(out) if k == anchor) + 1
        out.insert(pos, (line, line + nl))
    return [raw for _, raw in out]


def _render_block(e: Entry, nl: str) -> list[str]:
    return [line + nl for line in render_entry(e)]


class Workspace:
    """A glossary's files as read from disk, and the machinery to change them safely."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.files: list[GlossFile] = [_read(p) for p in glossary_files(self.root)]
        self.entries: list[Entry] = [e for f in self.files for e in f.entries]
        self.by_id: dict[str, Entry] = {}
        for e in self.entries:
            self.by_id.setdefault(e.id, e)
        self.glossary = Glossary.of(self.entries, [str(f.path) for f in self.files])

    # -- lookups -------------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        return [p for f in self.files for p in f.problems] + validate(self.entries)

    def entry(self, eid: str) -> Entry:
        e = self.by_id.get(eid)
        if e is not None:
            return e
        from rapidfuzz import process

        near = process.extractOne(eid, list(self.by_id), score_cutoff=70)
        hint = f"; did you mean [{near[0]}]?" if near else ""
        raise UsageError(f"no entry [{eid}] in {self.root}{hint}")

    def block(self, e: Entry) -> list[str]:
        """The lines of ``e``'s block exactly as written (comments included)."""
        if e.origin is None:
            return []
        f = next((f for f in self.files if str(f.path) == e.origin.path), None)
        if f is None:
            return []
        return split_lines(f.text)[e.origin.line - 1 : e.origin.end_line]

    def file_for_type(self, etype: EntryType) -> Path:
        """Where a new entry goes: the file named after the type (``place.gloss``,
        ``places.gloss``, ``people.gloss`` …) in a folder glossary, else the last file."""
        names = {f"{n}{SUFFIX}" for n in _TYPE_FILES[etype]}
        for f in self.files:
            if f.path.name.lower() in names:
                return f.path
        return self.files[-1].path

    def check_free(self, form: str, eid: str) -> None:
        """Refuse early, with a clear message, a form that another entry already owns."""
        owner = self.glossary.owner(form)
        if owner is not None and owner.id != eid:
            kind = "canonical form" if form in (owner.ja, owner.en) else "variant"
            raise GlossaryConflict(
                f"{form!r} is already the {kind} of [{owner.id}] ({owner.origin}): "
                f"a form may belong to one entry only; merge the entries or unalias it there"
            )

    # -- applying ------------------------------------------------------------------

    def render(self, plan: Plan) -> dict[Path, str]:
        """New text of every file the plan touches (others are not in the result)."""
        for eid in plan.replace:
            if eid not in self.by_id:
                raise UsageError(f"no entry [{eid}] in {self.root}")
        out: dict[Path, str] = {}
        appends: dict[Path, list[Entry]] = {}
        for p, e in plan.append:
            appends.setdefault(p, []).append(e)
        known = {f.path for f in self.files}
        for f in self.files:
            edits = [
                e
                for e in f.entries
                if e.id in plan.replace and e.origin in plan.only.get(e.id, {e.origin})
            ]
            new_entries = appends.get(f.path, [])
            if not edits and not new_entries:
                continue
            lines = split_lines(f.text, keepends=True)
            result: list[str] = []
            pos = 0  # 0-based index of the next line to copy
            for e in edits:  # entries are in file order
                assert e.origin is not None
                first, last = e.origin.line - 1, e.origin.end_line
                result.extend(lines[pos:first])
                new = plan.replace[e.id]
                if new is None:
                    # drop one blank line next to the block so no double gap is left behind
                    if last < len(lines) and not lines[last].strip():
                        last += 1
                    elif result and not result[-1].strip():
                        result.pop()
                else:
                    block = lines[first:last]
                    if block and not block[-1].endswith(("\n", "\r")):  # the file's end
                        block[-1] += f.newline
                    result.extend(_edit_block(block, new, f.newline))
                pos = last
            result.extend(lines[pos:])
            if new_entries:
                if result and not result[-1].endswith(("\n", "\r")):
                    result[-1] += f.newline
                for e in new_entries:
                    if result and result[-1].strip():
                        result.append(f.newline)
                    result.extend(_render_block(e, f.newline))
            out[f.path] = "".join(result)
        for p in appends:
            if p not in known:
                raise UsageError(f"{p}: not a file of the glossary {self.root}")
        return out

    def check(self, new_texts: Mapping[Path, str], plan: Plan) -> list[Entry]:
        """Validate the whole glossary as it would be; raise GlossaryConflict on any problem."""
        problems: list[str] = []
        entries: list[Entry] = []
        for f in self.files:
            if f.path in new_texts:
                ents, probs = parse_text(new_texts[f.path], str(f.path))
                problems.extend(probs)
                entries.extend(ents)
            else:
                problems.extend(f.problems)
                entries.extend(f.entries)
        problems.extend(validate(entries))
        if problems:
            raise GlossaryConflict(problems)
        # the re-parsed text must say exactly what the plan meant (guards the renderer)
        got = {e.id: e for e in entries}
        wanted = [w for w in plan.replace.values() if w is not None] + [w for _, w in plan.append]
        for want in wanted:
            if got.get(want.id) != in_file_order(want):
                raise GlossaryError(
                    f"internal error: [{want.id}] did not round-trip; nothing written"
                )
        return entries

    def commit(self, plan: Plan, message: str, warnings: Sequence[str] = ()) -> EditResult:
        """Render, validate and atomically write ``plan``; returns what changed."""
        if plan.empty:
            return EditResult((), message, tuple(warnings))
        texts = self.render(plan)
        self.check(texts, plan)
        changed = {p: t for p, t in texts.items() if t != self._file(p).text}
        for p in changed:  # someone else's save since we read it must not be overwritten
            if p.read_bytes() != self._file(p).raw:
                raise GlossaryConflict(f"{p}: changed on disk while editing; run the edit again")
        write_atomic_many({p: (_BOM if self._file(p).bom else "") + t for p, t in changed.items()})
        return EditResult(tuple(changed), message, tuple(warnings))

    def _file(self, p: Path) -> GlossFile:
        return next(f for f in self.files if f.path == p)


# --------------------------------------------------------------------------- locking

_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextlib.contextmanager
def edit_lock(root: str | Path) -> Iterator[None]:
    """Hold the edit lock of the glossary at ``root``: an advisory ``flock`` on its folder
    (a single-file glossary: the file's folder), released when the edit ends. Without it,
    two edits could each validate the old glossary and both write: one alias lost, or one
    form given to two entries."""
    path = Path(root)
    folder = path if path.is_dir() else path.parent
    try:
        import fcntl
    except ImportError:  # (Windows: no flock; the changed-on-disk check still applies)
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder that does not exist yet: nobody else can be editing in it
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (which releases the lock)


def _exclusive(
    fn: Callable[Concatenate[str | Path, _P], _R],
) -> Callable[Concatenate[str | Path, _P], _R]:
    """Run an edit of the glossary given as its first argument under ``edit_lock``."""

    @functools.wraps(fn)
    def wrapper(root: str | Path, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with edit_lock(root):
            return fn(root, *args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------- edits


@_exclusive
def add_entry(
    root: str | Path,
    *,
    etype: EntryType,
    ja: str,
    en: str,
    note: str = "",
    eid: str | None = None,
    file: Path | None = None,
) -> EditResult:
    """Append a new entry; the id is generated from the English form when not given."""
    ws = Workspace(root)
    ja, en, note = ja.strip(), en.strip(), note.strip()
    if not ja or not en:
        raise UsageError("give both --ja and --en")
    if eid is None:
        eid = unique_id(slugify(en), ws.by_id)
    elif not ID_RE.match(eid):
        raise UsageError(f"bad id {eid!r}: use lower-case letters, digits, '.', '_' or '-'")
    elif eid in ws.by_id:
        other = ws.by_id[eid]
        raise GlossaryConflict(f"id [{eid}] already exists ({other.origin}): choose another --id")
    for form in dict.fromkeys((ja, en)):
        ws.check_free(form, eid)
    entry = Entry(eid, etype, ja, en, note=note)
    target = file or ws.file_for_type(etype)
    return ws.commit(Plan(append=[(target, entry)]), f"added [{eid}] to {target}")


@_exclusive
def add_alias(
    root: str | Path, eid: str, form: str, *, lang: Lang | None = None, rule: str = ""
) -> EditResult:
    """Add a variant to an entry (language guessed from the script when not given)."""
    ws = Workspace(root)
    e = ws.entry(eid)
    v = make_variant(form, lang, rule)
    if v.form in e.forms():
        if v.form in (e.ja, e.en):
            raise GlossaryConflict(f"{v.form!r} is the canonical form of [{eid}] already")
        raise GlossaryConflict(f"{v.form!r} is already a variant of [{eid}]: nothing to add")
    ws.check_free(v.form, eid)
    new = _with_variant(e, v)
    if v.form in new.rejects:  # the reviewer changed their mind: the reject no longer holds
        new = replace(new, rejects=tuple(r for r in new.rejects if r != v.form))
    return ws.commit(Plan({eid: new}), f"[{eid}] {v.lang.value}-var: {format_variant(v)}")


@_exclusive
def remove_alias(root: str | Path, eid: str, form: str) -> EditResult:
    ws = Workspace(root)
    e = ws.entry(eid)
    kept = tuple(v for v in e.variants if v.form != form.strip())
    if len(kept) == len(e.variants):
        have = ", ".join(v.form for v in e.variants) or "none"
        raise UsageError(f"[{eid}] has no variant {form!r} (its variants: {have})")
    return ws.commit(Plan({eid: replace(e, variants=kept)}), f"[{eid}] removed variant {form!r}")


@_exclusive
def rename_entry(
    root: str | Path,
    eid: str,
    *,
    ja: str | None = None,
    en: str | None = None,
    date: str | None = None,
) -> EditResult:
    """New canonical forms; each old one becomes a variant marked ``renamed=DATE``.

    ``date`` defaults to today; pass ``""`` to add the old form without a date (a spelling fix).
    A new canonical form that was a variant of the entry is promoted (its variant line goes).
    """
    ws = Workspace(root)
    e = ws.entry(eid)
    if ja is None and en is None:
        raise UsageError("give --ja and/or --en")
    if date is None:
        date = dt.date.today().isoformat()
    elif date:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise UsageError(f"bad date {date!r}: write YYYY-MM-DD") from None
    new_ja = (ja or e.ja).strip()
    new_en = (en or e.en).strip()
    for form in dict.fromkeys((new_ja, new_en)):
        ws.check_free(form, eid)
    canon = {new_ja, new_en}
    variants = [v for v in e.variants if v.form not in canon]
    new = replace(e, ja=new_ja, en=new_en, variants=tuple(variants))
    for old, lang in ((e.ja, Lang.JA), (e.en, Lang.EN)):
        if old not in canon and old not in new.forms():
            new = _with_variant(new, Variant(old, lang, renamed=date or None))
    return ws.commit(Plan({eid: new}), f"[{eid}] renamed to {new_ja} / {new_en}")


@_exclusive
def merge_entries(root: str | Path, keep: str, other: str) -> EditResult:
    """OTHER's forms become variants of KEEP (rules kept), OTHER is removed."""
    ws = Workspace(root)
    k, o = ws.entry(keep), ws.entry(other)
    if k.id == o.id:
        raise UsageError("cannot merge an entry with itself")
    new = k
    incoming = [Variant(o.ja, Lang.JA), Variant(o.en, Lang.EN), *o.variants]
    for v in incoming:
        if v.form not in new.forms():
            new = _with_variant(new, replace(v, origin=None))
    forms = set(new.forms())
    dropped = [r for r in k.rejects if r in forms]
    rejects = tuple(
        dict.fromkeys(
            [*(r for r in k.rejects if r not in forms), *(r for r in o.rejects if r not in forms)]
        )
    )
    note = k.note
    if o.note and o.note != k.note:
        note = f"{k.note} / {o.note}" if k.note else o.note
    new = replace(new, rejects=rejects, note=note)
    msg = f"merged [{other}] into [{keep}]"
    if dropped:
        msg += f" (dropped rejects now contradicted: {', '.join(dropped)})"
    return ws.commit(Plan({keep: new, other: None}), msg)


@_exclusive
def remove_entry(root: str | Path, eid: str) -> EditResult:
    """Remove the entry; of an id defined more than once (an invalid glossary), every
    definition but the first (run it again to remove that one too)."""
    ws = Workspace(root)
    ws.entry(eid)
    same = [e for e in ws.entries if e.id == eid]
    if len(same) == 1:
        return ws.commit(Plan({eid: None}), f"removed [{eid}]")
    kept, gone = same[0], same[1:]
    where = ", ".join(str(e.origin) for e in gone)
    return ws.commit(
        Plan({eid: None}, only={eid: frozenset(e.origin for e in gone)}),
        f"removed [{eid}] at {where} (defined {len(same)} times; kept: {kept.origin})",
    )


@_exclusive
def add_reject(root: str | Path, surface: str, eid: str) -> EditResult:
    """Record that ``surface`` is not a variant of the entry (the report never suggests it)."""
    ws = Workspace(root)
    e = ws.entry(eid)
    surface = surface.strip()
    if not surface:
        raise UsageError("give the surface to reject")
    if surface in e.forms():
        raise GlossaryConflict(
            f"{surface!r} is a form of [{eid}]: unalias it first if it is not a variant"
        )
    if surface in e.rejects:
        return EditResult((), f"[{eid}] already rejects {surface!r}")
    new = replace(e, rejects=(*e.rejects, surface))
    return ws.commit(Plan({eid: new}), f"[{eid}] reject: {surface}")


@_exclusive
def accept_report(root: str | Path, report: Mapping[str, Any], *, auto: bool = False) -> EditResult:
    """Add the report suggestions a reviewer marked ``"accept": true`` (with ``auto``: also
    every ``"decision": "auto"`` one not marked ``"accept": false``) as variants.

    A suggestion that cannot be added (its surface belongs to another entry, was rejected,
    needs a context rule, names an unknown entry) is skipped and listed with its reason;
    the others are written in one validated, atomic edit.
    """
    ws = Workspace(root)
    suggestions = report.get("suggestions")
    if not isinstance(suggestions, list):
        raise UsageError('report has no "suggestions" list: give a glossnorm report --format json')
    new: dict[str, Entry] = {}
    owners: dict[str, str] = {}  # forms claimed by this accept
    skipped: list[str] = []
    added: list[str] = []
    for i, s in enumerate(suggestions):
        if not isinstance(s, Mapping):
            continue
        mark = s.get("accept")
        if mark is not None and type(mark) is not bool:  # "false" or 0 must not mean yes
            skipped.append(f"suggestion {i + 1}: \"accept\" must be true or false, not {mark!r}")
            continue
        if not (mark is True or (auto and s.get("decision") == "auto" and mark is not False)):
            continue
        surface = str(s.get("surface", "")).strip()
        eid = str(s.get("entry", "")).strip()
        what = f"suggestion {i + 1} ({surface!r} -> [{eid}])"
        if not surface or eid not in ws.by_id:
            skipped.append(f"{what}: no such entry or empty surface")
            continue
        e = new.get(eid, ws.by_id[eid])
        # A split suggestion is a form fused inside a longer katakana run: it matches there
        # only as {infix} (a plain variant would be refused for its katakana neighbour).
        infix = s.get("kind") == "split" or s.get("infix") is True
        if surface in e.forms():
            plain = next((v for v in e.variants if v.form == surface and not v.rule.infix), None)
            if infix and plain is not None:  # accepted before as a plain variant
                upgraded = replace(plain, rule=replace(plain.rule, infix=True))
                variants = tuple(upgraded if v is plain else v for v in e.variants)
                new[eid] = replace(e, variants=variants)
                added.append(f"{surface} -> [{eid}] {{infix}}")
            else:
                skipped.append(f"{what}: already a form of [{eid}]")
            continue
        if surface in e.rejects:
            skipped.append(f"{what}: [{eid}] rejects it; alias it by hand to override")
            continue
        owner = ws.glossary.owner(surface)
        holder = owner.id if owner is not None else owners.get(surface)
        if holder is not None and holder != eid:
            skipped.append(f"{what}: already belongs to [{holder}]")
            continue
        rule = Rule(infix=True) if infix else Rule()
        cand = _with_variant(e, Variant(surface, guess_lang(surface), rule))
        probs = validate([cand])
        if probs:
            skipped.append(f"{what}: {probs[0].split(': ', 1)[-1]}")
            continue
        new[eid] = cand
        owners[surface] = eid
        added.append(f"{surface} -> [{eid}]" + (" {infix}" if infix else ""))
    msg = f"accepted {len(added)} variant(s)" + (f": {', '.join(added)}" if added else "")
    return ws.commit(Plan(dict(new)), msg, skipped)


__all__ = [
    "EditResult",
    "Plan",
    "Workspace",
    "accept_report",
    "add_alias",
    "add_entry",
    "add_reject",
    "guess_lang",
    "in_file_order",
    "make_variant",
    "merge_entries",
    "remove_alias",
    "remove_entry",
    "rename_entry",
    "slugify",
    "unique_id",
    "write_atomic",
    "write_atomic_many",
]
