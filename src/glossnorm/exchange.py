"""Glossary exchange with spreadsheets (CSV), OmegaT and TBX-based terminology systems.

* CSV, the contract: header ``id,type,ja,en,ja_variants,en_variants,note`` (plus ``rejects``
  when any entry has rejects, so that export -> import -> export is lossless). Variants are
  separated by ``|`` and written with their ``{…}`` attributes; ``|`` inside attributes
  (regex alternation) is not a separator.
* OmegaT (export only): ``source<TAB>target<TAB>comment``, one line per Japanese form.
* TBX (export and import): TBX v3 (ISO 30042:2019) TBX-Basic, DCA style. Import also reads the
  older TBX v2 ``<martif>`` files (``termEntry``/``langSet``/``tig`` or ``ntig``).
  One ``conceptEntry`` per entry, a ``langSec`` per language; the canonical form is the
  preferred term, ``keep`` variants admitted, other variants deprecated; a rename date is a
  ``renamed YYYY-MM-DD`` note and a context rule a ``glossnorm-variant: …`` note, so that a
  glossnorm TBX file round-trips losslessly.

Imports build ordinary entries and go through the same whole-glossary validation and
atomic write as every other edit (see glossary_edit).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from lxml import etree

from glossnorm.errors import GlossaryConflict, GlossaryError, InputError, UsageError
from glossnorm.glossary import (
    ID_RE,
    SUFFIX,
    format_variant,
    load_glossary,
    parse_text,
    parse_type,
    parse_variant,
    read_utf8,
    render_entry,
    split_top,
    validate,
)
from glossnorm.glossary_edit import (
    EditResult,
    Plan,
    Workspace,
    edit_lock,
    in_file_order,
    slugify,
    unique_id,
    write_atomic,
)
from glossnorm.model import Entry, EntryType, Lang, Origin, Rule, Variant

CSV_COLUMNS = ("id", "type", "ja", "en", "ja_variants", "en_variants", "note")
CSV_OPTIONAL = ("rejects",)
FORMATS = ("csv", "omegat", "tbx")

TBX_NS = "urn:iso:std:iso:30042:ed-2"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TBX_RNG = (
    "https://raw.githubusercontent.com/LTAC-Global/TBX-Basic_dialect/master/DCA/"
    "TBXcoreStructV03_TBX-Basic_integrated.rng"
)
PREFERRED = "preferredTerm-admn-sts"
ADMITTED = "admittedTerm-admn-sts"
DEPRECATED = "deprecatedTerm-admn-sts"
_RENAMED_RE = re.compile(r"renamed\s*[:=]?\s*(\d{4}-\d{2}-\d{2})")
_VARIANT_NOTE = "glossnorm-variant: "
_REJECT_NOTE = "glossnorm-reject: "


def guess_format(path: str | Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    ext = Path(path).suffix.lower()
    if ext in (".csv",):
        return "csv"
    if ext in (".tbx", ".xml"):
        return "tbx"
    if ext in (".txt", ".tsv", ".utf8"):
        return "omegat"
    raise UsageError(f"{path}: cannot tell the format from the extension: give --format")


# --------------------------------------------------------------------------- CSV


def _check_cell(value: str, what: str) -> None:
    if "|" in value:
        raise GlossaryError(f"{what}: {value!r} contains '|', the CSV list separator")


def entries_to_csv(entries: Sequence[Entry]) -> str:
    """The CSV text of ``entries`` (the contract columns, plus ``rejects`` if needed)."""
    with_rejects = any(e.rejects for e in entries)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS + (CSV_OPTIONAL if with_rejects else ()))
    for e in entries:
        cols: list[str] = [e.id, e.type.value, e.ja, e.en]
        for lang in (Lang.JA, Lang.EN):
            vs = [v for v in e.variants if v.lang is lang]
            for v in vs:
                _check_cell(v.form, f"[{e.id}] variant")
            cols.append("|".join(format_variant(v) for v in vs))
        cols.append(e.note)
        if with_rejects:
            for r in e.rejects:
                _check_cell(r, f"[{e.id}] reject")
            cols.append("|".join(e.rejects))
        w.writerow(cols)
    return buf.getvalue()


def _read_text(path: Path) -> str:
    return read_utf8(path, InputError, "file (save it as CSV UTF-8)").removeprefix("\ufeff")


_PLAIN_RE = re.compile(r"[^\\()\[\]{}]*\Z")  # no brackets, braces or escapes


def _variants(
    cell: str, lang: Lang, where: str, origin: Origin, problems: list[str]
) -> list[Variant]:
    # fast path for the common case (no attributes): 60,000-row imports must take seconds
    parts = cell.split("|") if _PLAIN_RE.match(cell) else split_top(cell, "|")
    out: list[Variant] = []
    for part in parts:
        form = part.strip()
        if not form:
            continue
        if "{" not in form:
            out.append(Variant(form, lang, origin=origin))
            continue
        try:
            pv = parse_variant(form)
        except ValueError as exc:
            problems.append(f"{where}: {lang.value}_variants {form!r}: {exc}")
            continue
        out.append(Variant(pv.form, lang, pv.rule, pv.keep, pv.renamed, origin))
    return out


def csv_to_entries(text: str, path: str) -> tuple[list[Entry], list[str]]:
    """Entries of a CSV text (origin = CSV line); problems name ``path:line``."""
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [f"{path}:1: empty CSV: the first line must be {','.join(CSV_COLUMNS)}"]
    missing = [c for c in ("ja", "en") if c not in header]
    if missing:
        return [], [
            f"{path}:1: missing column(s) {', '.join(missing)}: "
            f"the header must be {','.join(CSV_COLUMNS)}"
        ]
    col = {name: header.index(name) for name in (*CSV_COLUMNS, *CSV_OPTIONAL) if name in header}
    width = len(header)
    entries: list[Entry] = []
    taken: set[str] = set()
    end = reader.line_num  # of the record before: a quoted cell may span lines
    for row in reader:
        line, end = end + 1, reader.line_num  # the record's first line
        where = f"{path}:{line}"
        if not any(c.strip() for c in row):
            continue
        if len(row) < width:
            row += [""] * (width - len(row))
        get = {name: row[i].strip() for name, i in col.items()}.get
        if any("\n" in c or "\r" in c for c in row):
            problems.append(f"{where}: a cell contains a line break: glossary fields are one line")
            continue
        try:
            etype = parse_type(get("type", "") or "term")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        ja, en = get("ja", ""), get("en", "")
        if not ja or not en:
            problems.append(f"{where}: empty ja or en: every entry needs both canonical forms")
            continue
        eid = get("id", "")
        if not eid:
            eid = unique_id(slugify(en), taken)
        elif not ID_RE.match(eid):
            problems.append(
                f"{where}: bad id {eid!r}: use lower-case letters, digits, '.', '_', '-'"
            )
            continue
        taken.add(eid)
        origin = Origin(path, line, line)
        variants = _variants(get("ja_variants", ""), Lang.JA, where, origin, problems)
        variants += _variants(get("en_variants", ""), Lang.EN, where, origin, problems)
        rejects = tuple(r.strip() for r in get("rejects", "").split("|") if r.strip())
        entries.append(
            Entry(
                eid,
                etype,
                ja,
                en,
                tuple(variants),
                get("note", ""),
                rejects,
                origin,
            )
        )
    return entries, problems


# --------------------------------------------------------------------------- OmegaT


def _one_line(s: str) -> str:
    return re.sub(r"[\t\r\n]+", " ", s).strip()


def entries_to_omegat(entries: Iterable[Entry]) -> str:
    """OmegaT glossary text: every Japanese form -> the English canonical form."""
    lines: list[str] = []
    for e in entries:
        comment = e.type.value + (f"; {e.note}" if e.note else "")
        lines.append("\t".join(map(_one_line, (e.ja, e.en, comment))))
        for v in e.variants:
            if v.lang is not Lang.JA:
                continue
            kind = "admitted variant" if v.keep else "variant"
            extra = f", renamed {v.renamed}" if v.renamed else ""
            lines.append(
                "\t".join(map(_one_line, (v.form, e.en, f"{kind} of {e.ja}{extra} [{e.id}]")))
            )
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------- TBX


def _tbx_id(eid: str) -> str:
    # xml:id-style ids must not start with a digit; glossary ids never start with '_'
    return eid if eid[0].isalpha() else f"_{eid}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{TBX_NS}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _pos(etype: EntryType) -> str:
    named = (EntryType.PERSON, EntryType.ORGANISATION, EntryType.PLACE)
    return "properNoun" if etype in named else "noun"


def entries_to_tbx(entries: Iterable[Entry], title: str = "glossnorm glossary") -> bytes:
    """A TBX-Basic (TBX v3, DCA) document with one conceptEntry per entry."""
    root = etree.Element(f"{{{TBX_NS}}}tbx", nsmap={None: TBX_NS})  # type: ignore[dict-item]
    root.set("type", "TBX-Basic")
    root.set("style", "dca")
    root.set(XML_LANG, "en")
    header = _sub(root, "tbxHeader")
    file_desc = _sub(header, "fileDesc")
    _sub(_sub(file_desc, "sourceDesc"), "p", title)
    body = _sub(_sub(root, "text"), "body")
    for e in entries:
        concept = _sub(body, "conceptEntry", id=_tbx_id(e.id))
        _sub(concept, "descrip", e.type.value, type="subjectField")
        if e.note:
            _sub(concept, "note", e.note)
        for r in e.rejects:
            _sub(concept, "note", _REJECT_NOTE + r)
        for lang in (Lang.JA, Lang.EN):
            lang_sec = _sub(concept, "langSec")
            lang_sec.set(XML_LANG, lang.value)
            terms: list[tuple[str, str, Variant | None]] = [(e.canonical(lang), PREFERRED, None)]
            terms += [
                (v.form, ADMITTED if v.keep else DEPRECATED, v)
                for v in e.variants
                if v.lang is lang
            ]
            for form, status, v in terms:
                term_sec = _sub(lang_sec, "termSec")
                _sub(term_sec, "term", form)
                _sub(term_sec, "termNote", _pos(e.type), type="partOfSpeech")
                _sub(term_sec, "termNote", status, type="administrativeStatus")
                if v is not None and v.renamed:
                    _sub(term_sec, "note", f"renamed {v.renamed}")
                if v is not None and not v.rule.is_empty:
                    _sub(term_sec, "note", _VARIANT_NOTE + format_variant(v))
    pi = etree.ProcessingInstruction(
        "xml-model",
        f'href="{TBX_RNG}" type="application/xml" '
        'schematypens="http://relaxng.org/ns/structure/1.0"',
    )
    root.addprevious(pi)
    doc = etree.ElementTree(root)
    out: bytes = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out


def _local(el: etree._Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(el: etree._Element, *names: str) -> list[etree._Element]:
    return [c for c in el if _local(c) in names]


def _lang_of(el: etree._Element) -> Lang | None:
    code = (el.get(XML_LANG) or el.get("lang") or "").lower()
    if code == "ja" or code.startswith("ja-") or code.startswith("ja_"):
        return Lang.JA
    if code == "en" or code.startswith("en-") or code.startswith("en_"):
        return Lang.EN
    return None


_WRAP_RE = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")


def _text(el: etree._Element) -> str:
    """An element's text with wrapped lines joined (other tools indent and wrap long notes);
    other whitespace as written, so that a glossary → TBX → glossary trip is exact."""
    return _WRAP_RE.sub(" ", "".join(str(t) for t in el.itertext())).strip()


def _term_of(sec: etree._Element) -> tuple[str, str, list[str]] | None:
    """(term, administrative status, notes) of a termSec / tig / ntig."""
    term = status = ""
    notes: list[str] = []
    for el in sec.iter():
        name = _local(el)
        if name == "term" and not term:
            term = _text(el)
        elif name == "termNote" and el.get("type") in (
            "administrativeStatus",
            "normativeAuthorization",
        ):
            status = _text(el)
        elif name == "note":
            notes.append(_text(el))
    return (term, status, notes) if term else None


def tbx_to_entries(data: bytes, path: str) -> tuple[list[Entry], list[str], list[str]]:
    """Entries of a TBX v3 or v2 (martif) file: (entries, problems, skipped-concept warnings)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{path}:{exc.lineno}: not well-formed XML ({exc.msg})") from None
    if _local(root) not in ("tbx", "martif"):
        raise InputError(f"{path}: root element <{_local(root)}> is not <tbx> or <martif>")
    problems: list[str] = []
    warnings: list[str] = []
    entries: list[Entry] = []
    taken: set[str] = set()
    for concept in root.iter():
        if _local(concept) not in ("conceptEntry", "termEntry"):
            continue
        where = f"{path}:{concept.sourceline}"
        etype = EntryType.TERM
        note_parts: list[str] = []
        rejects: list[str] = []
        forms: dict[Lang, list[tuple[str, str, list[str]]]] = {Lang.JA: [], Lang.EN: []}
        for child in concept:
            name = _local(child)
            if name == "descrip" and child.get("type") == "subjectField":
                val = _text(child)
                try:
                    etype = EntryType(val)
                except ValueError:
                    note_parts.append(f"subject field: {val}")
            elif name == "note":
                val = _text(child)
                if val.startswith(_REJECT_NOTE):
                    rejects.append(val[len(_REJECT_NOTE) :].strip())
                elif val:
                    note_parts.append(val)
            elif name in ("langSec", "langSet"):
                lang = _lang_of(child)
                if lang is None:
                    continue
                for sec in _children(child, "termSec", "tig", "ntig"):
                    t = _term_of(sec)
                    if t is not None:
                        forms[lang].append(t)
        cid = concept.get("id", "") or ""
        if not forms[Lang.JA] or not forms[Lang.EN]:
            missing = "Japanese" if not forms[Lang.JA] else "English"
            warnings.append(f"{where}: concept {cid or '(no id)'} has no {missing} term: skipped")
            continue
        canon: dict[Lang, str] = {}
        variants: list[Variant] = []
        for lang in (Lang.JA, Lang.EN):
            terms = forms[lang]
            pref = next((t for t in terms if t[1].startswith("preferredTerm")), terms[0])
            canon[lang] = pref[0]
            for t in terms:
                if t is pref:
                    continue
                v = _tbx_variant(t, lang, where, problems, warnings)
                if v is not None:
                    variants.append(v)
        if cid.startswith("_") and ID_RE.match(cid[1:]):
            cid = cid[1:]
        eid = (
            cid
            if ID_RE.match(cid) and cid not in taken
            else unique_id(slugify(cid or canon[Lang.EN]), taken)
        )
        taken.add(eid)
        line = concept.sourceline if isinstance(concept.sourceline, int) else 0
        origin = Origin(path, line, line)
        entries.append(
            Entry(
                eid,
                etype,
                canon[Lang.JA],
                canon[Lang.EN],
                tuple(replace(v, origin=origin) for v in variants),
                " / ".join(note_parts),
                tuple(rejects),
                origin,
            )
        )
    return entries, problems, warnings


def _tbx_variant(
    t: tuple[str, str, list[str]],
    lang: Lang,
    where: str,
    problems: list[str],
    warnings: list[str],
) -> Variant | None:
    form, status, notes = t
    for n in notes:
        if n.startswith(_VARIANT_NOTE):
            try:
                pv = parse_variant(n[len(_VARIANT_NOTE) :])
            except ValueError as exc:
                problems.append(f"{where}: term {form!r}: {exc}")
                return None
            return Variant(pv.form, lang, pv.rule, pv.keep, pv.renamed)
    renamed = next((m.group(1) for n in notes if (m := _RENAMED_RE.search(n))), None)
    keep = status.startswith(("admittedTerm", "preferredTerm"))
    rule = Rule()
    if _is_short(form):
        # the loader refuses a short variant without context; a token boundary is the
        # safest rule that keeps a foreign file importable
        rule = Rule(token=True)
        warnings.append(f"{where}: short variant {form!r} imported with {{token}}: check it")
    return Variant(form, lang, rule, keep=keep, renamed=renamed)


_KANJI_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]+\Z")


def _is_short(form: str) -> bool:
    # same definition as the loader's short-variant check (glossary._is_short)
    return len(form) == 1 or (len(form) == 2 and bool(_KANJI_RE.match(form)))


# --------------------------------------------------------------------------- import / export


def read_entries(
    src: str | Path, fmt: str | None = None
) -> tuple[list[Entry], list[str], list[str]]:
    """(entries, problems, warnings) of an exchange file."""
    p = Path(src)
    kind = guess_format(p, fmt)
    if kind == "csv":
        entries, problems = csv_to_entries(_read_text(p), str(p))
        return entries, problems, []
    if kind == "tbx":
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(f"{p}: cannot read ({exc.strerror})") from None
        return tbx_to_entries(data, str(p))
    raise UsageError(f"cannot import {kind}: import csv or tbx")


def render_glossary(entries: Iterable[Entry], header: str = "") -> str:
    """The text of a new `.gloss` file holding ``entries``."""
    parts: list[str] = [f"# {line}\n" for line in header.splitlines()]
    for e in entries:
        if parts:
            parts.append("\n")
        parts.extend(line + "\n" for line in render_entry(e))
    return "".join(parts)


def import_file(
    src: str | Path, glossary: str | Path, *, fmt: str | None = None, replace_existing: bool = False
) -> EditResult:
    """Import an exchange file into a glossary (created when ``glossary`` does not exist).

    Into an existing glossary, rows with a known id are merged (new variants and rejects added;
    with ``replace_existing`` the row replaces the entry); rows with new ids are appended. A
    row whose type or canonical form differs from the glossary's, or any validation problem,
    is a conflict: all are reported together and nothing is written.
    """
    entries, problems, warnings = read_entries(src, fmt)
    if problems:
        raise GlossaryConflict(problems)
    if not Path(glossary).exists() and Path(glossary).suffix != SUFFIX:
        raise UsageError(
            f"{glossary}: a new glossary is one {SUFFIX} file (e.g. terms{SUFFIX}); or give "
            "an existing glossary"
        )
    with edit_lock(glossary):
        return _import_entries(entries, warnings, Path(src), Path(glossary), replace_existing)


def _import_entries(
    entries: list[Entry], warnings: list[str], src: Path, dest: Path, replace_existing: bool
) -> EditResult:
    if not dest.exists():
        return _create(entries, dest, src, warnings)
    ws = Workspace(dest)
    conflicts: list[str] = []
    updates: dict[str, Entry | None] = {}
    appends: list[tuple[Path, Entry]] = []
    seen: set[str] = set()
    for e in entries:
        old = ws.by_id.get(e.id)
        if e.id in seen:
            conflicts.append(f"{e.origin}: id [{e.id}] appears twice in {src}")
            continue
        seen.add(e.id)
        if old is None:
            appends.append((ws.file_for_type(e.type), replace(e, origin=None)))
            continue
        if replace_existing:
            new = replace(e, origin=None)
        else:
            diffs = [
                f"{k} {getattr(e, k)!r} here but {getattr(old, k)!r} in the glossary"
                for k in ("ja", "en")
                if getattr(e, k) != getattr(old, k)
            ]
            if e.type is not old.type:
                diffs.append(f"type {e.type.value} here but {old.type.value} in the glossary")
            if diffs:
                conflicts.append(
                    f"{e.origin}: [{e.id}] has {'; '.join(diffs)} ({old.origin}): "
                    "rename it first, or import with --replace"
                )
                continue
            new = _union(old, e)
        if new != old:
            updates[e.id] = new
    # The glossary as it would be, validated with the imported rows' own origins first, so
    # that a problem names src:LINE (the rendered files' lines do not exist yet).
    imported = {e.id: e for e in entries}
    would_be = [
        e if e.id not in updates else replace(updates[e.id] or e, origin=imported[e.id].origin)
        for e in ws.entries
    ] + [imported[e.id] for _, e in appends]
    conflicts.extend(p for p in validate(would_be) if p not in conflicts)
    if conflicts:
        raise GlossaryConflict(conflicts)
    plan = Plan(updates, appends)
    try:
        texts = ws.render(plan)
        ws.check(texts, plan)
    except GlossaryConflict as exc:
        conflicts.extend(exc.problems)
    if conflicts:
        raise GlossaryConflict(conflicts)
    same = len(entries) - len(appends) - len(updates)
    msg = f"{len(appends)} added, {len(updates)} updated, {same} unchanged"
    return ws.commit(plan, msg, warnings)


def _union(old: Entry, new: Entry) -> Entry:
    out = old
    have = set(old.forms())
    extra = [replace(v, origin=None) for v in new.variants if v.form not in have]
    if extra:
        out = in_file_order(replace(out, variants=(*out.variants, *extra)))
    rejects = tuple(dict.fromkeys((*old.rejects, *new.rejects)))
    note = old.note or new.note
    return replace(out, rejects=rejects, note=note)


def _create(entries: list[Entry], dest: Path, src: Path, warnings: list[str]) -> EditResult:
    problems = validate(entries)  # on the rows as read: problems name src:LINE
    if problems:
        raise GlossaryConflict(problems)
    text = render_glossary(entries, f"glossnorm glossary imported from {src.name}")
    parsed, problems = parse_text(text, str(dest))
    if problems or parsed != entries:
        raise GlossaryError("internal error: imported entries did not round-trip; nothing written")
    write_atomic(dest, text)
    return EditResult((dest,), f"created {dest} with {len(entries)} entries", tuple(warnings))


def export_file(glossary: str | Path | None, dest: str | Path, fmt: str | None = None) -> int:
    """Write the (valid) glossary as csv, omegat or tbx; returns the number of entries."""
    kind = guess_format(dest, fmt)
    g = load_glossary(glossary)
    if kind == "csv":
        data = entries_to_csv(g.entries).encode("utf-8")
    elif kind == "omegat":
        data = entries_to_omegat(g.entries).encode("utf-8")
    else:
        data = entries_to_tbx(g.entries)
    if str(dest) == "-":
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_atomic(Path(dest), data.decode("utf-8"))
    return len(g)


__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "csv_to_entries",
    "entries_to_csv",
    "entries_to_omegat",
    "entries_to_tbx",
    "export_file",
    "guess_format",
    "import_file",
    "read_entries",
    "render_glossary",
    "tbx_to_entries",
]
