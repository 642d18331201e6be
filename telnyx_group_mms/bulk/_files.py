"""The files a bulk run writes: never the input, never one another, never planted.

The ledger (with its lock and SQLite's journal files) and the results file hold phone
numbers and message texts, and may sit in a folder other users can write to. There a
file left in advance could capture what the run writes (an empty ledger anyone can
read), send it elsewhere (a symbolic link), or feed it (a journal that SQLite would play
back into the ledger). So a file that already exists is used only if it is a regular
file of this user that nobody else may write; a new one is created exclusively, without
following links, readable by its owner only. The results file is written whole to a
fresh temporary file beside it, then renamed over its path, so nothing is ever written
through a name someone else could have prepared.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from .._private_files import (
    SQLITE_COMPANIONS,
    BulkPathError,
    _quoted,
    check_directory,
    check_existing,
)

__all__: list[str] = []  # internal: BulkPathError is exported from telnyx_group_mms._private_files

#: The ledger's lock, beside it with SQLite's own companions.
LOCK_SUFFIX: Final = ".lock"
LEDGER_COMPANIONS: Final = (*SQLITE_COMPANIONS, LOCK_SUFFIX)


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, and names a case-blind disk equates
    except OSError:
        return False


def check_run_files(
    *, input_path: Path, ledger_path: Path | None, results_path: Path | None
) -> None:
    """Refuse, before anything is sent, a run whose files collide or are unsafe to write.

    The ledger's own file checks are made when it opens (:class:`Ledger`); here it is only
    kept apart from the input and the results. ``ledger_path`` is ``None`` for a ledger
    that is not a file (PostgreSQL).

    Raises:
        BulkPathError: The ledger or the results would overwrite the input or each
            other (by name, link or hard link, companions of the ledger included), or
            the results path is unusable or unsafe.
    """
    ledger_files = (
        [(ledger_path, "the ledger")]
        + [
            (Path(f"{ledger_path}{suffix}"), f"the ledger's {suffix} file")
            for suffix in LEDGER_COMPANIONS
        ]
        if ledger_path is not None
        else []
    )
    for path, role in ledger_files:
        if _same_file(path, input_path):
            problem = (
                "is the input file"
                if path is ledger_path
                else f"would put {role} on the input file {_quoted(input_path)}"
            )
            assert ledger_path is not None  # there are ledger files
            raise BulkPathError(f"{_quoted(ledger_path)} {problem}", setting="ledger_path")
    if results_path is None:
        return
    taken: Sequence[tuple[Path, str]] = [(input_path, "the input file"), *ledger_files]
    for path, role in taken:
        if _same_file(results_path, path):
            raise BulkPathError(f"{_quoted(results_path)} is {role}", setting="results_path")
    check_directory(results_path, setting="results_path")
    check_existing(results_path, setting="results_path")


def write_replacing(path: Path, lines: Iterable[str], *, setting: str) -> None:
    """Write ``lines`` to a fresh private file beside ``path``, then rename it over ``path``.

    Nothing is written through an existing name: a link or file planted at ``path`` (or
    anywhere beside it) is replaced, never followed or overwritten in place.

    Raises:
        BulkPathError: The file cannot be written.
    """
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise BulkPathError(
            f"cannot write {_quoted(path)}: {exc.strerror}", setting=setting
        ) from exc
    try:
        with open(fd, "w", encoding="utf-8") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise BulkPathError(
                f"cannot write {_quoted(path)}: {exc.strerror}", setting=setting
            ) from exc
        raise
