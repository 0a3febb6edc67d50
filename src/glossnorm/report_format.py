"""The four renderings of a Report: rich table, JSON, CSV, one self-contained HTML page.

JSON is the exchange format (``glossnorm glossary accept`` reads it back); the others are for
people. The HTML page loads nothing from the network and escapes every piece of corpus text,
so a ``<script>`` in a news page stays text.
"""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

from glossnorm.report import Report

FORMATS = ("table", "json", "csv", "html")


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


CSV_FIELDS = ("surface", "count", "entry", "canonical", "en", "score", "decision", "kind",
              "evidence", "context")


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for s in report.suggestions:
        ctx = s.contexts[0] if s.contexts else None
        w.writerow([s.surface, s.count, s.entry, s.canonical, s.en, f"{s.score:.3f}", s.decision,
                    s.kind, "; ".join(s.evidence),
                    f"{ctx.left}[{ctx.match}]{ctx.right}" if ctx else ""])
    return buf.getvalue()


_CSS = """body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#eee}mark{background:#ffe066}.auto{color:#060;font-weight:bold}
.review{color:#a60}.ctx{font-size:90%;color:#333}.ev{font-size:85%;color:#555}"""


def to_html(report: Report) -> str:
    e = html.escape
    rows = []
    for s in report.suggestions:
        ctx = "<br>".join(
            f"{e(c.left)}<mark>{e(c.match)}</mark>{e(c.right)} <small>({e(c.doc)})</small>"
            for c in s.contexts)
        ev = "<br>".join(e(x) for x in s.evidence)
        run = f"<br><small>in {e(s.run)}</small>" if s.run else ""
        rows.append(
            f"<tr><td>{e(s.surface)}{run}</td><td>{s.count}</td><td>{e(s.entry)}</td>"
            f"<td>{e(s.canonical)} / {e(s.en)}</td><td>{s.score:.3f}</td>"
            f"<td class=\"{e(s.decision)}\">{e(s.decision)}</td><td class=\"ev\">{ev}</td>"
            f"<td class=\"ctx\">{ctx}</td></tr>")
    crow = []
    for c in report.clusters:
        ms = ", ".join(f"{e(m)} ({n})" for m, n in c.members)
        crow.append(f"<tr><td>{ms}</td><td>{c.score:.3f}</td></tr>")
    return (
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
        "<title>glossnorm report</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>glossnorm report</h1>\n"
        f"<p>{report.documents} document(s), {report.candidates} candidate(s), "
        f"{len(report.suggestions)} suggestion(s), {len(report.clusters)} cluster(s).</p>\n"
        "<h2>Suggestions</h2>\n<table><tr><th>surface</th><th>count</th><th>entry</th>"
        "<th>canonical</th><th>score</th><th>decision</th><th>evidence</th><th>contexts</th>"
        "</tr>\n" + "\n".join(rows) + "\n</table>\n"
        "<h2>Unknown clusters</h2>\n<table><tr><th>members</th><th>score</th></tr>\n"
        + "\n".join(crow) + "\n</table>\n</body></html>\n")


def render_table(report: Report, console: Any = None) -> None:
    """Print a rich table of suggestions, then one of clusters."""
    from rich.console import Console
    from rich.table import Table

    con = console or Console()
    t = Table(title=f"Suggestions ({len(report.suggestions)})")
    for col in ("surface", "count", "entry", "canonical", "score", "decision", "evidence"):
        t.add_column(col)
    for s in report.suggestions:
        t.add_row(*(_plain(x) for x in (
            s.surface + (f" (in {s.run})" if s.run else ""), str(s.count), s.entry,
            f"{s.canonical} / {s.en}", f"{s.score:.3f}", s.decision, "; ".join(s.evidence))))
    con.print(t)
    c = Table(title=f"Unknown clusters ({len(report.clusters)})")
    c.add_column("members")
    c.add_column("score")
    for cl in report.clusters:
        c.add_row(_plain(", ".join(f"{m} ({n})" for m, n in cl.members)), f"{cl.score:.3f}")
    con.print(c)


def _plain(s: str) -> Any:
    from rich.text import Text

    return Text(s)  # corpus text is never interpreted as rich markup


def render(report: Report, fmt: str) -> str:
    """Render to a string (table: rich output captured without colour)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "html":
        return to_html(report)
    from rich.console import Console

    buf = io.StringIO()
    render_table(report, Console(file=buf, width=160, color_system=None))
    return buf.getvalue()
