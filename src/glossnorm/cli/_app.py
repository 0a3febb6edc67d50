"""The typer app and the single place where library errors become exit codes."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from glossnorm.errors import GlossnormError

if TYPE_CHECKING:  # (the CLI's start-up does not need the module)
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


class Terminated(BaseException):
    """SIGTERM (a scheduler, ``timeout``, systemd stopping the job): unwound like Ctrl-C,
    so the output's temporary folder is removed, the index rolled back and the workers
    stopped, instead of dying on the spot and leaving all three behind."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def guarded(fn: F) -> F:
    """Wrap a command so that a library error is one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
        try:
            return fn(*args, **kwargs)
        except GlossnormError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except Terminated:
            raise fail("terminated", 128 + signal.SIGTERM) from None
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]
