"""`glossnorm normalise`: the batch job. Parses options and hands over to the library."""

from __future__ import annotations

import dataclasses
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from glossnorm.cli._app import app, guarded, warn_problems
from glossnorm.compiled import CompiledGlossary, default_cache_dir, load_compiled
from glossnorm.dedup import DedupConfig
from glossnorm.errors import GlossnormError, UsageError
from glossnorm.ingest import IngestOptions
from glossnorm.pipeline import Options, default_workers
from glossnorm.write import normalise_corpus


class GlossMode(StrEnum):
    inline = "inline"
    none = "none"


class DedupMode(StrEnum):
    exact = "exact"
    near = "near"
    off = "off"


class OnError(StrEnum):
    skip = "skip"
    fail = "fail"


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("normalising"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} chars"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@app.command("normalise")
@guarded
def normalise_cmd(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Files or folders (.txt, .jsonl, optionally .gz), or - for stdin."),
    ],
    glossary: Annotated[
        Path | None,
        typer.Option(
            "--glossary", "-g", help="Glossary file or folder (default: the shipped one)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    gloss: Annotated[
        GlossMode, typer.Option(help="inline: ブリンケン(Blinken) in corpus.txt; none: plain.")
    ] = GlossMode.inline,
    force: Annotated[bool, typer.Option(help="Replace the contents of a non-empty --out.")] = False,
    text_field: Annotated[str, typer.Option(help="JSONL field holding the text.")] = "text",
    id_field: Annotated[
        str | None, typer.Option(help="JSONL field holding the document id.")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option(help="Glob of files to read inside folders (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Glob of files to skip inside folders (repeatable).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Force an input encoding instead of detecting it.")
    ] = None,
    on_error: Annotated[
        OnError, typer.Option(help="Bad JSONL record: skip it (counted) or fail the run.")
    ] = OnError.skip,
    keep_boilerplate: Annotated[
        bool, typer.Option(help="Keep boilerplate lines instead of dropping them.")
    ] = False,
    boilerplate: Annotated[
        list[Path] | None, typer.Option(help="Extra boilerplate rules file (repeatable).")
    ] = None,
    dedup: Annotated[
        DedupMode, typer.Option(help="Duplicate removal after normalising.")
    ] = DedupMode.near,
    dedup_threshold: Annotated[
        float | None,
        typer.Option(help="Similarity (0-1] above which a segment is a near duplicate."),
    ] = None,
    index: Annotated[
        Path | None, typer.Option(help="SQLite dedup index kept across runs (incremental).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes (default: the CPUs this process may use).", min=1),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for compiled large glossaries (default: $GLOSSNORM_CACHE_DIR, "
            "else $XDG_CACHE_HOME/glossnorm, else ~/.cache/glossnorm)."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Compile the glossary without the cache.")
    ] = False,
) -> None:
    """Normalise a corpus: clean, rewrite variants, gloss, deduplicate, write OUT/."""
    dcfg = DedupConfig(mode=dedup.value)
    if dedup_threshold is not None:
        if not 0.0 < dedup_threshold <= 1.0:
            raise UsageError("--dedup-threshold must be in (0, 1]")
        dcfg = dataclasses.replace(dcfg, threshold=dedup_threshold)
    if inputs.count("-") > 1:
        raise UsageError("stdin (-) can be given only once")
    opts = Options(
        ingest=IngestOptions(
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            text_field=text_field,
            id_field=id_field,
            encoding=encoding,
            on_error=on_error.value,
        ),
        dedup=dcfg,
        keep_boilerplate=keep_boilerplate,
        boilerplate_files=tuple(str(p) for p in boilerplate or ()),
        gloss_inline=gloss is GlossMode.inline,
        workers=workers or default_workers(),
    )
    bar = _progress() if sys.stderr.isatty() else None
    task = bar.add_task("normalise", total=None) if bar is not None else None

    def tick(n: int) -> None:
        if bar is not None:
            # Started at the first finished document, after the workers were forked:
            # the bar's refresh thread must not exist at fork time.
            bar.start()
            bar.advance(task, n)

    options = {
        "gloss": gloss.value,
        "dedup": dataclasses.asdict(dcfg),
        "keep_boilerplate": keep_boilerplate,
        "text_field": text_field,
    }
    try:
        # The glossary loads once the inputs are checked (with several workers, while a
        # reader process reads them: pipeline.Feed).
        cache = None if no_cache else cache_dir or default_cache_dir()

        def load() -> CompiledGlossary:
            compiled = load_compiled(glossary, cache)
            if compiled.cache_problem:
                print(f"glossnorm: warning: {compiled.cache_problem}", file=sys.stderr)
            return compiled
        stats = normalise_corpus(
            inputs, load, opts, out, force=force, index=index, progress=tick, options=options
        )
    finally:
        if bar is not None:
            bar.stop()
    if not stats.balanced():  # pragma: no cover - an internal error, never expected
        raise GlossnormError("segment accounting does not add up; please report this bug")
    if stats.documents == 0:  # empty files are fine, but say so
        print("glossnorm: warning: the input holds no documents", file=sys.stderr)
    warn_problems(stats.problems)
    dropped = sum(stats.dropped.values())
    print(
        f"{stats.documents} documents, {stats.segments_in} segments: {stats.segments_kept} kept, "
        f"{stats.duplicates} duplicates, {dropped} dropped; {stats.changes} changes → {out}",
        file=sys.stderr,
    )
