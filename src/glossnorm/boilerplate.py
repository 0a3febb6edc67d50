"""Named whole-line rules for the boilerplate that scraped news pages carry.

Tweet attribution lines, "Source link", comment-form footers, share buttons and bare
URLs are not content, and they make unrelated documents look alike to deduplication. The
rules live in a text file shipped with the package (``data/boilerplate.rules``, which
documents the format) so users can read them, and extend or switch them off with their own
files. Every dropped line is attributed to a rule name, so nothing disappears silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from glossnorm.errors import InputError

_NAME_RE = re.compile(r"[a-z0-9_-]+")
SHIPPED = "boilerplate.rules"


@dataclass(frozen=True)
class BoilerplateRule:
    name: str
    pattern: re.Pattern[str]
    origin: str  # "file:line"


def parse_rules(text: str, origin: str, rules: list[BoilerplateRule]) -> list[BoilerplateRule]:
    """Apply one rules file to ``rules`` (additions and ``-name`` removals)."""
    out = list(rules)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{origin}:{lineno}"
        if line.startswith("-"):
            name = line[1:].strip()
            if not _NAME_RE.fullmatch(name):
                raise InputError(f"{where}: bad rule name to remove: {name!r}")
            out = [r for r in out if r.name != name]
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise InputError(f"{where}: expected 'NAME REGEX', got {line!r}")
        name, regex = parts
        if not _NAME_RE.fullmatch(name):
            raise InputError(f"{where}: rule name must be [a-z0-9_-]+, got {name!r}")
        try:
            pattern = re.compile(regex)
        except re.error as exc:
            raise InputError(f"{where}: invalid regular expression: {exc}") from None
        if pattern.fullmatch(""):
            raise InputError(f"{where}: rule {name!r} matches an empty line")
        out.append(BoilerplateRule(name, pattern, where))
    return out


_LEADING_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


def combine(rules: Sequence[BoilerplateRule]) -> re.Pattern[str] | None:
    """All rules as one alternation (one C call per line instead of one per rule).

    Alternatives are tried in order and fullmatch backtracks into the next one, so the
    first rule that matches the whole line wins, exactly as in a loop. Returns None when
    the rules cannot be combined (a user rule with named groups, say).
    """
    parts = []
    for i, r in enumerate(rules):
        pat = r.pattern.pattern
        m = _LEADING_FLAGS.match(pat)
        if m:  # a leading (?i) must become a scoped (?i:...) inside an alternation
            pat = f"(?{m.group(1)}:{pat[m.end():]})"
        parts.append(f"(?P<r{i}>{pat})")
    try:
        return re.compile("|".join(parts)) if parts else None
    except re.error:
        return None


@dataclass(frozen=True)
class BoilerplateRules:
    rules: tuple[BoilerplateRule, ...] = ()
    combined: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.combined is None:
            object.__setattr__(self, "combined", combine(self.rules))

    @classmethod
    def load(cls, extra: Sequence[str | Path] = ()) -> BoilerplateRules:
        """The shipped rules, then each user file in order."""
        shipped = resources.files("glossnorm").joinpath("data", SHIPPED)
        rules = parse_rules(shipped.read_text(encoding="utf-8"), SHIPPED, [])
        for path in extra:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except FileNotFoundError:
                raise InputError(f"boilerplate rules file not found: {path}") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read boilerplate rules file {path}: {exc}") from None
            rules = parse_rules(text, str(path), rules)
        return cls(tuple(rules))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.name for r in self.rules))

    def match(self, line: str) -> str | None:
        """The name of the first rule that matches the whole (stripped) line, if any."""
        line = line.strip()
        if not line:
            return None
        if self.combined is not None:
            m = self.combined.fullmatch(line)
            if m is None or m.lastgroup is None:
                return None
            return self.rules[int(m.lastgroup[1:])].name
        for rule in self.rules:
            if rule.pattern.fullmatch(line):
                return rule.name
        return None
