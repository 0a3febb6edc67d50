"""Library exceptions. The CLI turns every one of them into a one-line message and exit code.

Each class's docstring says what went wrong in general; the instance message says where
(file:line) and how to fix it.
"""

from __future__ import annotations


class GlossnormError(Exception):
    """glossnorm failed."""

    exit_code = 1


class UsageError(GlossnormError):
    """A command-line argument is not usable."""

    exit_code = 2


class InputError(GlossnormError):
    """An input file or folder cannot be read."""


class GlossaryError(GlossnormError):
    """The glossary is invalid."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = self.problems[0] if self.problems else "invalid glossary"
        more = len(self.problems) - 1
        super().__init__(head + (f" (and {more} more problem(s))" if more > 0 else ""))


class GlossaryConflict(GlossaryError):
    """An edit would make the glossary invalid; nothing was written."""


class OutputError(GlossnormError):
    """The output location cannot be used."""
