"""`glossnorm report`: suggest glossary variants for unknown spellings found in a corpus."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from glossnorm.atomic import write_atomic
from glossnorm.cli._app import app, guarded, warn_problems
from glossnorm.errors import OutputError, UsageError

if TYPE_CHECKING:  # (the CLI's start-up does not need the module)
    from glossnorm.ingest import Problem


@app.command("report")
@guarded
def report_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="Files or folders to read.")],
    glossary: Annotated[
        Path | None,
        typer.Option(
            "--glossary", "-g", help="Glossary file or folder (default: the shipped one)."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, csv or html.")] = "table",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write here instead of standard output.", dir_okay=False),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", help="Drop suggestions scoring below this (0..1)."),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Only files matching this glob (repeatable)."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip files matching this glob (repeatable)."),
    ] = None,
    text_field: Annotated[
        str | None, typer.Option("--text-field", help="JSONL field holding the text.")
    ] = None,
) -> None:
    """Find unknown variants of glossary names, rank them and cluster the rest."""
    from glossnorm.glossary import load_glossary
    from glossnorm.report import GlossaryIndex, ReportBuilder, ReportOptions, iter_texts
    from glossnorm.report_format import FORMATS, render

    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    opts = ReportOptions()
    if min_score is not None:
        if not 0.0 <= min_score <= 1.0:
            raise UsageError(f"--min-score must be between 0 and 1, not {min_score}")
        opts = opts._replace(min_score=min_score)
    g = load_glossary(glossary)
    builder = ReportBuilder(GlossaryIndex(g.entries), opts)
    problems: list[Problem] = []
    for doc, text in iter_texts(inputs, include or (), exclude or (), text_field, problems):
        builder.add(doc, text)
    warn_problems(problems)
    text = render(builder.build(), fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomic(out, text)  # a reader never sees half a report
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the report ({exc.strerror})") from None
