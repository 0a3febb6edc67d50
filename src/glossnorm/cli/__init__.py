"""The `glossnorm` command: parses arguments, calls the library, maps errors to exit codes.

Each command group lives in its own module and registers itself on ``app``; every command
is wrapped in ``guarded`` so a library error is one line on stderr, never a traceback.
"""

from __future__ import annotations

from glossnorm.cli import glossary as _glossary  # noqa: F401  (registers commands)
from glossnorm.cli import normalise as _normalise  # noqa: F401
from glossnorm.cli import report as _report  # noqa: F401
from glossnorm.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
