"""Atomic file writes: a temporary sibling, fsync, then rename.

A reader (or a run killed half-way) sees the old file or the new one, never a torn one.
A symbolic link is followed: its target gets the new text, and the link stays a link.
Temporary files are named ``.NAME.*.tmp`` beside the file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from glossnorm.errors import OutputError


def write_atomic_many(texts: Mapping[Path, str]) -> None:
    """Write every file via a temporary sibling + fsync + os.replace.

    All temporary files are written before the first replace, so a failure while writing
    leaves every file as it was; a kill between replaces leaves each file old or new, never torn.
    """
    staged: list[tuple[str, Path]] = []
    where = Path()
    try:
        for path, text in texts.items():
            where = _target(path)
            staged.append((_stage(where, [text.encode("utf-8")]), where))
        for tmp, where in staged:
            os.replace(tmp, where)
        for d in {p.parent for _, p in staged}:
            _fsync_dir(d)
    except OSError as exc:  # a read-only folder, a full disk: one message, nothing changed
        raise OutputError(f"{where}: cannot write ({exc.strerror or exc})") from None
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def write_atomic(path: Path, text: str) -> None:
    write_atomic_many({path: text})


def write_bytes_atomic(path: Path, parts: Iterable[bytes], durable: bool = True) -> None:
    """``path`` replaced by ``parts``, joined, through a temporary sibling; ``durable``
    False skips the fsync (a file that a checksum guards, such as a cache, may be torn by
    a crash and is then rebuilt). Raises OSError; nothing is left behind on failure."""
    where = _target(path)
    tmp = _stage(where, parts, durable)
    try:
        os.replace(tmp, where)
    except BaseException:
        os.unlink(tmp)
        raise


def _target(path: Path) -> Path:
    """The file a write to ``path`` must replace: a symbolic link's target."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _stage(path: Path, parts: Iterable[bytes], durable: bool = True) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for data in parts:
                fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is None:  # a new file gets the usual umask-derived mode, not mkstemp's 0600
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
