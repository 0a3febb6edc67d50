"""`glossnorm glossary …`: read, validate, edit, import/export and review the glossary.

Thin layer: every command parses its options, calls glossary / glossary_edit / exchange and
prints the outcome. Validation problems are printed one per line (file:line first).
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from glossnorm import glossary_edit as edit
from glossnorm.cli._app import app, fail, group, guarded
from glossnorm.errors import GlossaryError, InputError, UsageError
from glossnorm.glossary import (
    default_glossary_path,
    format_variant,
    iter_parsed,
    load_glossary,
    render_entry,
    validate,
)
from glossnorm.model import Entry, EntryType, Lang

F = TypeVar("F", bound=Callable[..., Any])

glossary_app = group("glossary", "Read, validate, edit, import/export and review the glossary.")
app.add_typer(glossary_app, name="glossary")

GlossaryOpt = Annotated[
    Path | None,
    typer.Option(
        "--glossary",
        "-g",
        help="Glossary .gloss file or folder (default: the shipped glossary).",
        show_default=False,
    ),
]


def _root(path: Path | None) -> Path:
    return path if path is not None else default_glossary_path()


def all_problems(fn: F) -> F:
    """Print every problem of a GlossaryError (not just the first), then exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GlossaryError as exc:
            for p in exc.problems[1:]:
                print(f"glossnorm: error: {p}", file=sys.stderr)
            raise fail(exc.problems[0] if exc.problems else str(exc), exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _report(result: edit.EditResult) -> None:
    for w in result.warnings:
        print(f"glossnorm: warning: {w}", file=sys.stderr)
    suffix = "" if result.changed else " (no file changed)"
    print(result.message + suffix)


# --------------------------------------------------------------------------- reading


def _variants(e: Entry, lang: Lang) -> str:
    return " | ".join(format_variant(v) for v in e.variants if v.lang is lang)


@glossary_app.command("list")
@guarded
def list_cmd(
    glossary: GlossaryOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or tsv.")] = "table",
) -> None:
    """List every entry: id, type, canonical forms and variants."""
    g = load_glossary(_root(glossary))
    if fmt == "tsv":
        print("id\ttype\tja\ten\tja_variants\ten_variants")
        for e in g.entries:
            print(
                "\t".join(
                    (e.id, e.type.value, e.ja, e.en, _variants(e, Lang.JA), _variants(e, Lang.EN))
                )
            )
        return
    if fmt != "table":
        raise UsageError(f"unknown --format {fmt!r}: use table or tsv")
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(g)} entries")
    for col in ("id", "type", "ja", "en", "ja variants", "en variants"):
        table.add_column(col)
    for e in g.entries:
        table.add_row(e.id, e.type.value, e.ja, e.en, _variants(e, Lang.JA), _variants(e, Lang.EN))
    Console().print(table)


@glossary_app.command("show")
@guarded
def show_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id.")],
    glossary: GlossaryOpt = None,
) -> None:
    """Print one entry as it is written in the glossary."""
    ws = edit.Workspace(_root(glossary))
    e = ws.entry(entry_id)
    print(f"# {e.origin}")
    print("\n".join(ws.block(e) or render_entry(e)))


def _fold() -> Callable[[str], str] | None:
    """The katakana folding key of glossnorm.kana, if that module is installed."""
    try:
        kana = importlib.import_module("glossnorm.kana")
    except ImportError:
        return None
    for name in ("fold", "fold_key", "fold_kana", "kana_key"):
        fn = getattr(kana, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


@glossary_app.command("search")
@guarded
def search_cmd(
    text: Annotated[str, typer.Argument(help="A form in either language (fuzzy).")],
    glossary: GlossaryOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Maximum results.")] = 10,
    min_score: Annotated[float, typer.Option("--min-score", help="0-100 cut-off.")] = 50.0,
) -> None:
    """Fuzzy search over every form (canonical and variants) of both languages."""
    from rapidfuzz import fuzz, process

    g = load_glossary(_root(glossary))
    keys: list[str] = []
    owners: list[tuple[Entry, str]] = []
    fold = _fold()
    for e in g.entries:
        for form in e.forms():
            keys.append(form.casefold())
            owners.append((e, form))
            if fold is not None:
                keys.append(fold(form))
                owners.append((e, form))
    queries = [text.casefold()] + ([fold(text)] if fold is not None else [])
    best: dict[str, tuple[float, str]] = {}
    for q in queries:
        for _, score, i in process.extract(
            q, keys, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=min_score
        ):
            e, form = owners[i]
            if score > best.get(e.id, (-1.0, ""))[0]:
                best[e.id] = (score, form)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:limit]
    if not ranked:
        print(f"no entry close to {text!r}")
        raise typer.Exit(1)
    for eid, (score, form) in ranked:
        e = g.by_id[eid]
        print(f"{score:5.1f}  [{eid}]  {e.ja} / {e.en}  (matched {form})")


@glossary_app.command("validate")
@guarded
def validate_cmd(glossary: GlossaryOpt = None) -> None:
    """Check the glossary; print OK and counts, or every problem with file:line (exit 1)."""
    root = _root(glossary)
    entries: list[Entry] = []
    problems: list[str] = []
    nfiles = 0
    for _, ents, probs in iter_parsed(root):
        nfiles += 1
        entries.extend(ents)
        problems.extend(probs)
    problems.extend(validate(entries))
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        raise fail(f"{len(problems)} problem(s) in {root}")
    nvar = sum(len(e.variants) for e in entries)
    print(f"OK: {len(entries)} entries, {nvar} variants in {nfiles} file(s) ({root})")


# --------------------------------------------------------------------------- editing


def _lang(value: str | None) -> Lang | None:
    if value is None:
        return None
    try:
        return Lang(value)
    except ValueError:
        raise UsageError(f"unknown --lang {value!r}: use ja or en") from None


@glossary_app.command("add")
@guarded
@all_problems
def add_cmd(
    etype: Annotated[EntryType, typer.Option("--type", "-t", help="Entry type.")],
    ja: Annotated[str, typer.Option("--ja", help="Japanese canonical form.")],
    en: Annotated[str, typer.Option("--en", help="English canonical form.")],
    entry_id: Annotated[
        str | None, typer.Option("--id", help="Entry id (default: made from --en).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Free-text note.")] = "",
    glossary: GlossaryOpt = None,
) -> None:
    """Add a new entry (appended to <type>.gloss in a folder glossary, else the last file)."""
    _report(edit.add_entry(_root(glossary), etype=etype, ja=ja, en=en, note=note, eid=entry_id))


@glossary_app.command("alias")
@guarded
@all_problems
def alias_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id.")],
    variant: Annotated[str, typer.Argument(help="The variant form.")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="ja or en (default: Latin-only -> en, else ja).")
    ] = None,
    rule: Annotated[
        str, typer.Option("--rule", help='Attributes, e.g. "keep; before=米・" (see the format).')
    ] = "",
    glossary: GlossaryOpt = None,
) -> None:
    """Add a variant to an entry; refused if another entry owns the form."""
    _report(edit.add_alias(_root(glossary), entry_id, variant, lang=_lang(lang), rule=rule))


@glossary_app.command("unalias")
@guarded
@all_problems
def unalias_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id.")],
    variant: Annotated[str, typer.Argument(help="The variant form to remove.")],
    glossary: GlossaryOpt = None,
) -> None:
    """Remove a variant from an entry."""
    _report(edit.remove_alias(_root(glossary), entry_id, variant))


@glossary_app.command("rename")
@guarded
@all_problems
def rename_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id.")],
    ja: Annotated[str | None, typer.Option("--ja", help="New Japanese canonical form.")] = None,
    en: Annotated[str | None, typer.Option("--en", help="New English canonical form.")] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Rename date YYYY-MM-DD (default today; '' for none)."),
    ] = None,
    glossary: GlossaryOpt = None,
) -> None:
    """Change canonical forms; each old one becomes a variant {renamed=DATE}."""
    _report(edit.rename_entry(_root(glossary), entry_id, ja=ja, en=en, date=date))


@glossary_app.command("merge")
@guarded
@all_problems
def merge_cmd(
    keep: Annotated[str, typer.Argument(help="Entry to keep.")],
    other: Annotated[str, typer.Argument(help="Entry whose forms become variants of KEEP.")],
    glossary: GlossaryOpt = None,
) -> None:
    """Merge OTHER into KEEP: OTHER's forms become variants of KEEP, OTHER is removed."""
    _report(edit.merge_entries(_root(glossary), keep, other))


@glossary_app.command("remove")
@guarded
@all_problems
def remove_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="Entry id.")],
    glossary: GlossaryOpt = None,
) -> None:
    """Remove an entry."""
    _report(edit.remove_entry(_root(glossary), entry_id))


# --------------------------------------------------------------------------- exchange


@glossary_app.command("import")
@guarded
@all_problems
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV or TBX file to import.")],
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="csv or tbx (default: from extension).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Rows replace existing entries instead of merging.")
    ] = False,
    glossary: GlossaryOpt = None,
) -> None:
    """Import into --glossary (created if missing); conflicts are reported, nothing written."""
    from glossnorm import exchange  # lxml: only loaded by the commands that need it

    _report(exchange.import_file(file, _root(glossary), fmt=fmt, replace_existing=replace))


@glossary_app.command("export")
@guarded
@all_problems
def export_cmd(
    file: Annotated[Path, typer.Argument(help="Output file ('-' for stdout).")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="csv, omegat or tbx (default: from extension)."),
    ] = None,
    glossary: GlossaryOpt = None,
) -> None:
    """Export the glossary as CSV, an OmegaT glossary or TBX-Basic."""
    from glossnorm import exchange

    n = exchange.export_file(_root(glossary), file, fmt)
    if str(file) != "-":
        print(f"exported {n} entries to {file}")


# --------------------------------------------------------------------------- review


@glossary_app.command("reject")
@guarded
@all_problems
def reject_cmd(
    surface: Annotated[str, typer.Argument(help="The surface that is not a variant.")],
    entry_id: Annotated[str, typer.Argument(metavar="ENTRY", help="Entry id.")],
    glossary: GlossaryOpt = None,
) -> None:
    """Record that SURFACE is not a variant of ENTRY; the report never suggests it again."""
    _report(edit.add_reject(_root(glossary), surface, entry_id))


@glossary_app.command("accept")
@guarded
@all_problems
def accept_cmd(
    report: Annotated[Path, typer.Argument(help="A `glossnorm report --format json` file.")],
    auto: Annotated[
        bool, typer.Option("--auto", help='Also accept every "decision": "auto" suggestion.')
    ] = False,
    glossary: GlossaryOpt = None,
) -> None:
    """Add the suggestions marked "accept": true (or all auto ones) as variants."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{report}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{report}: not a JSON report ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f'{report}: expected a JSON object with a "suggestions" list')
    _report(edit.accept_report(_root(glossary), data, auto=auto))
