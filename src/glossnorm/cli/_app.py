"""The typer app and the single place where library errors become exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import typer

from glossnorm.errors import GlossnormError
from glossnorm.ingest import Problem

F = TypeVar("F", bound=Callable[..., Any])

def group(name: str, help: str) -> typer.Typer:
    """A command group with the house settings (no completion, no pretty tracebacks)."""
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


app = group("glossnorm", "Glossary-driven normalisation of Japanese/English news corpora.")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error on stderr and return the Exit to raise."""
    print(f"glossnorm: error: {message}", file=sys.stderr)
    return typer.Exit(code)


def warn_problems(problems: Iterable[Problem]) -> None:
    """One warning line per input that could not be read (a file, or a JSONL line)."""
    for p in problems:
        where = f"{p.source}:{p.line}" if p.line else p.source
        print(f"glossnorm: warning: {where}: {p.reason}", file=sys.stderr)


def guarded(fn: F) -> F:
    """Wrap a command so that a library error is one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GlossnormError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper  # type: ignore[return-value]
