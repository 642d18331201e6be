"""Files this package writes that hold phone numbers and texts: private, never planted.

The bulk ledger (with its lock and SQLite's journal files), its results, and the
idempotency-key store hold phone numbers and message texts, and may sit in a folder
other users can write to. There a file left in advance could capture what is written
(an empty database anyone can read), send it elsewhere (a symbolic link), or feed it (a
journal that SQLite would play back). So a file that already exists is used only if it
is a regular file of this user that nobody else may write; a new one is created
exclusively, without following links, readable by its owner only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

from .errors import TelnyxError

__all__ = ["BulkPathError"]

#: The files SQLite keeps beside a database, the rollback journal included (a planted
#: "hot" journal would be played back into the database).
SQLITE_COMPANIONS: Final = ("-wal", "-shm", "-journal")

_PRIVATE: Final = 0o600
# Not every platform has them (Windows has neither); the lstat checks stand in there.
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC: Final = getattr(os, "O_CLOEXEC", 0)
_OTHERS_MAY_WRITE: Final = stat.S_IWGRP | stat.S_IWOTH
_EFFECTIVE_IDS: Final = os.access in os.supports_effective_ids


class BulkPathError(TelnyxError):
    """A file of a bulk run cannot be used; nothing was sent because of it.

    (The idempotency-key store meets the same checks, and reports them as
    :class:`BackendUnavailableError`.)

    The path names the input or another file of the run, is a directory, lies in a
    directory that is missing or not writable, or is a symbolic link, another user's
    file or one that others may write (any of which could have been planted to capture
    or clobber the batch).

    Attributes:
        setting: The :func:`~telnyx_group_mms.run_bulk` parameter that names the file
            (``"ledger_path"`` or ``"results_path"``).
        problem: What is wrong, naming the file.
    """

    def __init__(self, problem: str, *, setting: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


def _quoted(path: str | Path) -> str:
    return repr(str(path))


def _refuse_unsafe(info: os.stat_result, path: Path, *, setting: str) -> None:
    """Raise unless ``info`` (not followed through a link) is a file fit to write."""
    if stat.S_ISLNK(info.st_mode):
        problem = "is a symbolic link: remove it or choose another path"
    elif stat.S_ISDIR(info.st_mode):
        problem = "is a directory"
    elif not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        problem = "belongs to another user: remove it or choose another path"
    elif stat.S_IMODE(info.st_mode) & _OTHERS_MAY_WRITE:
        mode = stat.S_IMODE(info.st_mode)
        problem = (
            f"is writable by other users (mode {mode:04o}): if it is yours, "
            "chmod go-w it, or choose another path"
        )
    else:
        return
    raise BulkPathError(f"{_quoted(path)} {problem}", setting=setting)


def check_existing(path: Path, *, setting: str) -> os.stat_result | None:
    """Refuse ``path`` if it exists and is not a file fit to write; its status, if any.

    Raises:
        BulkPathError: It is a link, a directory, another user's, or writable by others.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        problem = f"{_quoted(path)} cannot be examined: {exc.strerror}"
        raise BulkPathError(problem, setting=setting) from exc
    _refuse_unsafe(info, path, setting=setting)
    return info


def open_private(path: Path, *, setting: str) -> int:
    """A read-write descriptor of ``path``: a new file of mode 0600, or a safe existing one.

    A new file is created with ``O_EXCL | O_NOFOLLOW``; an existing one is opened without
    following a link and checked through its descriptor, so it cannot be swapped in
    between. The caller closes the descriptor.

    Raises:
        BulkPathError: The file is unsafe (see :func:`check_existing`) or cannot be opened.
    """
    check_existing(path, setting=setting)  # the precise reason, where there is one
    flags = os.O_RDWR | _NOFOLLOW | _CLOEXEC
    try:
        try:
            return os.open(path, flags | os.O_CREAT | os.O_EXCL, _PRIVATE)
        except FileExistsError:
            fd = os.open(path, flags)
    except OSError as exc:
        check_existing(path, setting=setting)  # planted since the first look?
        raise BulkPathError(
            f"{_quoted(path)} cannot be opened: {exc.strerror}", setting=setting
        ) from exc
    try:
        _refuse_unsafe(os.fstat(fd), path, setting=setting)
    except BaseException:
        os.close(fd)
        raise
    return fd


def ensure_private(path: Path, *, setting: str) -> os.stat_result:
    """Make sure ``path`` is a file fit to write, creating it (0600) if new; its status.

    An existing file is only examined, not opened: in this process, closing a descriptor
    of a database file would drop the locks SQLite holds on it.

    Raises:
        BulkPathError: The file is unsafe (see :func:`check_existing`) or cannot be created.
    """
    info = check_existing(path, setting=setting)
    if info is None:
        fd = open_private(path, setting=setting)
        try:
            info = os.fstat(fd)
        finally:
            os.close(fd)
    return info


def check_directory(path: Path, *, setting: str) -> None:
    """Refuse ``path`` unless its directory exists and this user may create files in it."""
    directory = path.parent
    if not directory.exists():
        problem = "does not exist"
    elif not directory.is_dir():
        problem = "is not a directory"
    elif not os.access(directory, os.W_OK | os.X_OK, effective_ids=_EFFECTIVE_IDS):
        problem = "is not writable"
    else:
        return
    problem = f"{_quoted(path)}: its directory {_quoted(directory)} {problem}"
    raise BulkPathError(problem, setting=setting)
