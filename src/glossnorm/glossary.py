"""Load, validate and render the `.gloss` glossary format (see docs/glossary-format.md).

The glossary is the authority for every rewrite, so a glossary that could rewrite text in
two ways (a form owned by two entries), never finish (a pathological rule) or damage text
(a one-character variant without a context rule) is refused before any corpus is read.
Every problem names ``file:line`` and says how to fix it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import gc
import itertools
import re
import re._constants as sre_constants  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from glossnorm.errors import GlossaryError
from glossnorm.model import Entry, EntryType, Lang, Origin, Rule, Variant

SUFFIX = ".gloss"
ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
MAX_RULE_LEN = 200
CONTEXT_WINDOW = 16  # characters each side a before/after rule may look at
SINGLE_FIELDS = ("type", "ja", "en", "note")
MULTI_FIELDS = ("ja-var", "en-var", "reject")
FLAGS = ("keep", "token", "headline", "infix")
_SINGLE_SET = frozenset(SINGLE_FIELDS)
_VARIANT_LANGS = {"ja-var": Lang.JA, "en-var": Lang.EN}

_KANJI_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]+\Z")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while building large acyclic structures that live on.

    Building a 100,000-entry glossary allocates millions of objects; each allocation burst
    triggers collections that rescan everything built so far (measured: 40% of the load).
    At the end the new objects go straight to the oldest generation (``gc.freeze`` then
    ``gc.unfreeze``, two list splices): left young, the first allocation after the pause
    would scan all of them at once (100k entries: 0.3-0.7 s, per structure). Cycles among
    them are still found by the next full collection. Skipped while objects are frozen
    on purpose (a run's stage), since unfreezing would release those too.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was:
            gc.enable()


def default_glossary_path() -> Path:
    """The glossary shipped inside the package (works from a wheel, not only from -e)."""
    return Path(str(resources.files("glossnorm") / "data" / "glossary"))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Glossary:
    entries: tuple[Entry, ...]
    paths: tuple[str, ...] = ()
    by_id: Mapping[str, Entry] = field(default_factory=dict, compare=False)
    _owners: Mapping[str, Entry] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        entries: Iterable[Entry],
        paths: Sequence[str] = (),
        owners: Mapping[str, Entry] | None = None,
    ) -> Glossary:
        """A glossary of ``entries``; ``owners`` (form -> entry) is the form index when the
        caller has it already (``check_entries`` of entries without problems)."""
        ents = tuple(entries)
        if owners is None:
            first: dict[str, Entry] = {}
            for e in ents:
                first.setdefault(e.ja, e)
                first.setdefault(e.en, e)
                for v in e.variants:
                    first.setdefault(v.form, e)
            owners = first
        return cls(
            entries=ents,
            paths=tuple(paths),
            by_id=MappingProxyType({e.id: e for e in ents}),
            _owners=MappingProxyType(owners),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType does not pickle; workers rebuild the indexes from the entries.
        return (Glossary.of, (self.entries, self.paths))

    @property
    def form_count(self) -> int:
        """Distinct forms (canonical and variant) over all entries."""
        return len(self._owners)

    def owner(self, form: str) -> Entry | None:
        """The entry that owns ``form`` as a canonical form or variant."""
        return self._owners.get(form)

    def __len__(self) -> int:
        return len(self.entries)


# --------------------------------------------------------------------------- variant syntax


_NESTING = re.compile(r"[\\(\[{]")


def split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside (), [] and {} so regexes may contain the separator."""
    if not _NESTING.search(text):
        return text.split(sep)
    parts: list[str] = []
    depth = 0
    buf: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            buf.append(ch)
            escaped = False
            continue
        if ch == "\\":
            buf.append(ch)
            escaped = True
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth > 0:
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


@functools.lru_cache(maxsize=4096)  # large glossaries repeat the same few context rules
def regex_problem(pattern: str) -> str | None:
    """Why a context regex is unsafe or invalid, or None if it is fine."""
    if len(pattern) > MAX_RULE_LEN:
        return f"regex longer than {MAX_RULE_LEN} characters"
    try:
        parsed = sre_parse.parse(pattern)
        re.compile(pattern)
    except re.error as exc:
        return f"regex does not compile ({exc})"
    return _unsafe(parsed, inside_repeat=False)


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def _unsafe(parsed: Any, inside_repeat: bool) -> str | None:
    for op, av in parsed:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return "backreferences are not allowed in rules"
        if op in _REPEATS:
            _lo, hi, sub = av
            unbounded = hi == sre_constants.MAXREPEAT or hi > 16
            if inside_repeat and unbounded:
                return "nested repetition such as (a+)+ could run for a very long time"
            found = _unsafe(sub, inside_repeat or unbounded)
            if found:
                return found
        elif op == sre_constants.SUBPATTERN:
            found = _unsafe(av[-1], inside_repeat)
            if found:
                return found
        elif op == sre_constants.BRANCH:
            for branch in av[1]:
                found = _unsafe(branch, inside_repeat)
                if found:
                    return found
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.ATOMIC_GROUP):
            sub = av[1] if op != sre_constants.ATOMIC_GROUP else av
            found = _unsafe(sub, inside_repeat)
            if found:
                return found
    return None


class ParsedVariant(NamedTuple):
    form: str
    rule: Rule
    keep: bool
    renamed: str | None


NO_RULE = Rule()


def parse_variant(value: str) -> ParsedVariant:
    """Parse ``FORM`` or ``FORM {attr; attr=value}``; raises ValueError with a fix hint."""
    value = value.strip()
    if "{" not in value:  # most variants have no attributes
        if not value:
            raise ValueError("empty form: write the variant before its {attributes}")
        return ParsedVariant(value, NO_RULE, False, None)
    attrs = ""
    brace = value.find("{")
    if brace >= 0:
        if not value.endswith("}"):
            raise ValueError("attributes must end with '}': write FORM {attr; attr=value}")
        attrs = value[brace + 1 : -1]
        value = value[:brace].strip()
    if not value:
        raise ValueError("empty form: write the variant before its {attributes}")
    before: list[str] = []
    after: list[str] = []
    flags: set[str] = set()
    renamed: str | None = None
    for raw in split_top(attrs, ";") if attrs.strip() else []:
        item = raw.strip()
        if not item:
            continue
        key, eq, val = item.partition("=")
        key = key.strip()
        if not eq:
            if key not in FLAGS:
                raise ValueError(
                    f"unknown attribute {key!r}; use one of {', '.join(FLAGS)}, "
                    "before=REGEX, after=REGEX, renamed=YYYY-MM-DD"
                )
            flags.add(key)
            continue
        if key in ("before", "after"):
            if not val:
                raise ValueError(f"empty {key}= rule: give a regular expression")
            problem = regex_problem(val)
            if problem:
                raise ValueError(f"bad {key}= rule {val!r}: {problem}")
            (before if key == "before" else after).append(val)
        elif key == "renamed":
            try:
                dt.date.fromisoformat(val.strip())
            except ValueError:
                raise ValueError(f"bad date {val!r}: write renamed=YYYY-MM-DD") from None
            renamed = val.strip()
        else:
            raise ValueError(
                f"unknown attribute {key!r}; use before=, after=, renamed= or a flag "
                f"({', '.join(FLAGS)})"
            )
    rule = Rule(
        before=tuple(before),
        after=tuple(after),
        token="token" in flags,
        headline="headline" in flags,
        infix="infix" in flags,
    )
    return ParsedVariant(value, rule, "keep" in flags, renamed)


def format_variant(v: Variant) -> str:
    """Inverse of parse_variant (attribute order is fixed so output is stable)."""
    attrs: list[str] = []
    if v.keep:
        attrs.append("keep")
    if v.renamed:
        attrs.append(f"renamed={v.renamed}")
    attrs.extend(f"before={r}" for r in v.rule.before)
    attrs.extend(f"after={r}" for r in v.rule.after)
    attrs.extend(f for f in ("token", "headline", "infix") if getattr(v.rule, f))
    return v.form + (" {" + "; ".join(attrs) + "}" if attrs else "")


def render_entry(e: Entry) -> list[str]:
    """The lines of one entry, in canonical field order."""
    lines = [f"[{e.id}]", f"type: {e.type.value}", f"ja: {e.ja}", f"en: {e.en}"]
    for lang, key in ((Lang.JA, "ja-var"), (Lang.EN, "en-var")):
        lines.extend(f"{key}: {format_variant(v)}" for v in e.variants if v.lang is lang)
    if e.note:
        lines.append(f"note: {e.note}")
    lines.extend(f"reject: {r}" for r in e.rejects)
    return lines


# --------------------------------------------------------------------------- parsing


@dataclass
class _Draft:
    id: str
    origin: Origin
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)
    end_line: int = 0


# Line breaks str.splitlines knows but editors do not count (VT, FF, FS/GS/RS, NEL, U+2028,
# U+2029): inside a note they are text, and cutting there made every later line's number
# wrong.
_OTHER_BREAKS_RE = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_EOL_RE = re.compile("(?<=\n)|(?<=\r)(?!\n)")


_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of a glossary file as editors number them: cut at LF, CRLF and CR only."""
    if _OTHER_BREAKS_RE.search(text) is None:
        return text.splitlines(keepends)
    lines = _EOL_RE.split(text)
    if lines and not lines[-1]:
        lines.pop()
    return lines if keepends else [ln.rstrip("\r\n") for ln in lines]


def parse_text(text: str, path: str) -> tuple[list[Entry], list[str]]:
    """Parse one file's text into entries; returns (entries, problems)."""
    problems: list[str] = []
    drafts: list[_Draft] = []
    cur: _Draft | None = None
    # Locals: a 100,000-entry glossary is a million lines, most of them plain variants.
    single, langs, no_rule = _SINGLE_SET, _VARIANT_LANGS, NO_RULE
    controls = _CONTROL_RE.search(text) is not None  # (rare: then each line is checked)
    for no, raw in enumerate(split_lines(text), start=1):
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if controls and (bad := _CONTROL_RE.search(line)):
            # Never meant (pasted), invisible, and no XML can hold it: TBX export failed.
            problems.append(f"{path}:{no}: control character U+{ord(bad.group()):04X}: remove it")
            continue
        if line[0] == "[":
            if not line.endswith("]"):
                problems.append(f"{path}:{no}: entry header must look like [id]")
                cur = None
                continue
            eid = line[1:-1].strip()
            if not ID_RE.match(eid):
                problems.append(
                    f"{path}:{no}: bad id {eid!r}: "
                    "use lower-case letters, digits, '.', '_' or '-'"
                )
            cur = _Draft(eid, Origin(path, no), end_line=no)
            drafts.append(cur)
            continue
        if cur is not None:
            cur.end_line = no  # the next entry's header is not part of this block
        key, colon, value = line.partition(":")
        key, value = key.rstrip(), value.strip()  # the line is stripped: key has no lead
        if not colon:
            problems.append(f"{path}:{no}: expected 'field: value' or '[id]', got {line[:40]!r}")
            continue
        if cur is None:
            problems.append(
                f"{path}:{no}: field {key!r} before any [id] header: start an entry first"
            )
            continue
        lang = langs.get(key)
        if lang is not None:
            if value and "{" not in value:  # a plain form: what parse_variant would return
                cur.variants.append(Variant(value, lang, no_rule, False, None, Origin(path, no)))
                continue
            try:
                pv = parse_variant(value)
            except ValueError as exc:
                problems.append(f"{path}:{no}: {exc}")
                continue
            cur.variants.append(
                Variant(pv.form, lang, pv.rule, pv.keep, pv.renamed, Origin(path, no))
            )
        elif key in single:
            if key in cur.fields:
                first = cur.fields[key][1]
                problems.append(
                    f"{path}:{no}: second {key!r} in [{cur.id}] (first at line {first})"
                )
                continue
            if not value and key != "note":
                problems.append(f"{path}:{no}: empty {key!r} in [{cur.id}]: give a value")
            cur.fields[key] = (value, no)
        elif key == "reject":
            if not value:
                problems.append(
                    f"{path}:{no}: empty reject: give the surface that is not a variant"
                )
            else:
                cur.rejects.append(value)
        else:
            allowed = ", ".join((*SINGLE_FIELDS, *MULTI_FIELDS))
            problems.append(f"{path}:{no}: unknown field {key!r}; fields are {allowed}")

    entries: list[Entry] = []
    for d in drafts:
        missing = [k for k in ("type", "ja", "en") if k not in d.fields]
        if missing:
            problems.append(f"{d.origin}: entry [{d.id}] has no {', '.join(missing)}: add it")
            continue
        tval, tline = d.fields["type"]
        try:
            etype = parse_type(tval)
        except ValueError as exc:
            problems.append(f"{path}:{tline}: {exc}")
            continue
        entries.append(
            Entry(
                id=d.id,
                type=etype,
                ja=d.fields["ja"][0],
                en=d.fields["en"][0],
                variants=tuple(d.variants),
                note=d.fields.get("note", ("", 0))[0],
                rejects=tuple(d.rejects),
                origin=Origin(path, d.origin.line, d.end_line),
            )
        )
    return entries, problems


def parse_type(value: str) -> EntryType:
    """An entry type from its name; the ValueError says which names exist."""
    try:
        return EntryType(value)
    except ValueError:
        kinds = ", ".join(t.value for t in EntryType)
        raise ValueError(f"unknown type {value!r}; use one of {kinds}") from None


def _is_short(form: str) -> bool:
    return len(form) == 1 or (len(form) == 2 and bool(_KANJI_RE.match(form)))


def validate(entries: Sequence[Entry]) -> list[str]:
    """Cross-entry checks, and forms cleaning would change (``glossary validate`` and every
    edit; loading for a run skips that scan). Returns problems, each naming file:line and
    a fix."""
    problems, owners = check_entries(entries)
    for e in entries:  # (a parsed file refuses them line by line; an import's rows come here)
        for value in (e.ja, e.en, e.note, *(v.form for v in e.variants), *e.rejects):
            if bad := _CONTROL_RE.search(value):
                problems.append(
                    f"{e.origin}: control character U+{ord(bad.group()):04X} in [{e.id}]: "
                    "remove it"
                )
    for form, cleaned in _unclean_forms(list(owners)):
        e = owners[form]
        problems.append(
            f"{_claim_origin(e, form)}: {form!r} of [{e.id}] can never match: the corpus is "
            f"matched after cleaning, which makes it {cleaned!r}; write that instead"
        )
    rejecting = {r: e for e in entries for r in e.rejects}
    for form, cleaned in _unclean_forms(list(rejecting)):
        e = rejecting[form]
        problems.append(
            f"{e.origin}: [{e.id}] rejects {form!r}, which the report never meets: it reads "
            f"cleaned text, where that is {cleaned!r}; write that instead"
        )
    return problems


def _claim_origin(e: Entry, form: str) -> Origin | None:
    """Where ``e`` claims ``form``: its header for a canonical form, else the variant line."""
    if form in (e.ja, e.en):
        return e.origin
    return next((v.origin for v in e.variants if v.form == form), None) or e.origin


# What cleaning may change in a form: a character outside plain ASCII, kana and kanji, a
# space beside a Japanese character or doubled, a Latin term around ・ (``doubled``). Forms
# that have none (nearly all) need no cleaning test; one scan of them all finds the others.
_MAYBE_UNCLEAN_RE = re.compile(
    "[^\n -~ぁ-ゖァ-ヺー一-鿿々・]|[^\x00-\x7f] | [^\x00-\x7f]|  |[A-Za-z0-9]・[A-Za-z]"
)


def _unclean_forms(forms: Sequence[str]) -> list[tuple[str, str]]:
    """(form, cleaned) for each form that cleaning changes: the corpus is matched after
    cleaning, so such a form (ＮＡＴＯ, a decomposed ブ) could never match anything."""
    from glossnorm.clean import clean_text

    joined = "\n".join(forms)
    starts = list(itertools.accumulate((len(f) + 1 for f in forms), initial=0))
    out: list[tuple[str, str]] = []
    last = -1
    for m in _MAYBE_UNCLEAN_RE.finditer(joined):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i == last:
            continue
        last = i
        cleaned = clean_text(forms[i]).text
        if cleaned != forms[i]:
            out.append((forms[i], cleaned))
    return out


def check_entries(entries: Sequence[Entry]) -> tuple[list[str], dict[str, Entry]]:
    """``validate``, and the entry that first claims each form (canonical forms first).
    Without problems every form has one owner, so the map is the glossary's form index."""
    problems: list[str] = []
    seen_ids: dict[str, Entry] = {}
    owners: dict[str, Entry] = {}

    def claim(e: Entry, form: str, canonical: bool, origin: Origin | None) -> None:
        where = origin or e.origin
        pe = owners.get(form)
        if pe is None:
            owners[form] = e
            return
        # Canonical forms are all claimed first, so the first claim was canonical iff the
        # form is one of the owner's canonical forms.
        pcanon = form in (pe.ja, pe.en)
        porigin = _claim_origin(pe, form)
        if pe.id == e.id:
            if canonical or pcanon:
                if not (canonical and pcanon):  # ja == en canonical (NATO/NATO) is fine
                    problems.append(
                        f"{where}: variant {form!r} of [{e.id}] equals its own canonical form: "
                        "delete the variant line"
                    )
            else:
                problems.append(
                    f"{where}: variant {form!r} is listed twice in [{e.id}]: delete one"
                )
            return
        if pcanon and not canonical:
            problems.append(
                f"{where}: variant {form!r} of [{e.id}] is the canonical form of [{pe.id}] "
                f"({porigin}): remove it, or merge the entries"
            )
        elif canonical and not pcanon:
            problems.append(
                f"{porigin}: variant {form!r} of [{pe.id}] is the canonical form of [{e.id}] "
                f"({where}): remove it, or merge the entries"
            )
        else:
            kind = "canonical form" if canonical else "variant"
            problems.append(
                f"{where}: {kind} {form!r} of [{e.id}] is already claimed by [{pe.id}] "
                f"({porigin}): a form may belong to one entry only"
            )

    for e in entries:
        if e.id in seen_ids:
            problems.append(
                f"{e.origin}: duplicate id [{e.id}] (first at {seen_ids[e.id].origin}): "
                "rename one, or merge them"
            )
        else:
            seen_ids[e.id] = e
    # canonical forms first, so a variant/canonical clash is reported as such whatever the order
    for e in entries:
        for form in dict.fromkeys((e.ja, e.en)):
            if not form.strip():
                problems.append(f"{e.origin}: empty canonical form in [{e.id}]: give a value")
                continue
            claim(e, form, True, e.origin)
    for e in entries:
        for v in e.variants:
            form = v.form
            if len(form) < 3 and _is_short(form) and not v.rule.has_context:
                problems.append(
                    f"{v.origin or e.origin}: short variant {form!r} of [{e.id}] needs a "
                    "context rule: add {before=…}, {after=…}, {token} or {headline}"
                )
            if form in owners:
                claim(e, form, False, v.origin)
            else:  # the common case, without the call (a large glossary has 500k forms)
                owners[form] = e
        forms = set(e.forms()) if e.rejects else set()
        for r in e.rejects:
            if r in forms:
                problems.append(
                    f"{e.origin}: [{e.id}] rejects {r!r}, which is one of its own forms: "
                    "remove the reject line or the variant"
                )
    return problems, owners


# --------------------------------------------------------------------------- loading


def glossary_files(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob(f"*{SUFFIX}") if f.is_file())
        if not files:
            raise GlossaryError(
                f"{p}: folder has no {SUFFIX} files: point --glossary at a glossary"
            )
        return files
    if p.is_file():
        return [p]
    raise GlossaryError(f"{p}: no such glossary file or folder")


def read_bytes(path: Path, error: type[Exception] = GlossaryError, what: str = "glossary") -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None


def decode_utf8(
    data: bytes, path: Path, error: type[Exception] = GlossaryError, what: str = "glossary"
) -> str:
    """UTF-8 text (BOM kept); a decoding error names the file and line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{path}:{line}: {what} is not UTF-8: re-save it as UTF-8") from None


def read_utf8(path: Path, error: type[Exception] = GlossaryError, what: str = "glossary") -> str:
    return decode_utf8(read_bytes(path, error, what), path, error, what)


def iter_parsed(path: str | Path) -> Iterator[tuple[Path, list[Entry], list[str]]]:
    return _parsed(read_glossary(path))


def _parsed(
    sources: Sequence[tuple[Path, bytes]],
) -> Iterator[tuple[Path, list[Entry], list[str]]]:
    for f, data in sources:
        entries, problems = parse_text(_text(data, f), str(f))
        yield f, entries, problems


def _text(data: bytes, f: Path) -> str:
    return decode_utf8(data, f).removeprefix("\ufeff")


def load_glossary(path: str | Path | None = None) -> Glossary:
    """Load and validate a glossary file or folder (None = the shipped one)."""
    return parse_glossary(read_glossary(path))


def read_glossary(path: str | Path | None = None) -> list[tuple[Path, bytes]]:
    """Each file of a glossary file or folder (None = the shipped one) and its bytes."""
    root = default_glossary_path() if path is None else Path(path)
    return [(f, read_bytes(f)) for f in glossary_files(root)]


def parse_glossary(sources: Sequence[tuple[Path, bytes]]) -> Glossary:
    """The validated glossary of ``read_glossary``'s files (parsed as read: a cache key
    made of the same bytes names exactly this glossary)."""
    with paused_gc():
        entries: list[Entry] = []
        problems: list[str] = []
        for _, ents, probs in _parsed(sources):
            entries.extend(ents)
            problems.extend(probs)
        found, owners = check_entries(entries)
        problems.extend(found)
        if problems:
            raise GlossaryError(problems)
        return Glossary.of(entries, [str(f) for f, _ in sources], owners)
