"""A file planted where bulk writes (a shared folder) can neither capture nor clobber the batch.

Each probe plants what another user of a group-writable folder could: an empty ledger
anyone may read and write, a symbolic link (dangling, or to one of the victim's files),
a lock or journal file with a wide mode. The planted files are the test user's own: a
wide mode or a link is what is refused, whoever owns it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.bulk import default_ledger_path
from telnyx_group_mms.bulk.ledger import _sqlite as ledger_module
from telnyx_group_mms.bulk.ledger._sqlite import Ledger
from telnyx_group_mms.sandbox import Sandbox

from . import cli_runner
from .conftest import FROM, KEY, TO

ROWS = "".join(f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "row {n}"}}\n' for n in range(3))
SECRET = "the victim's own file\n"


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    path = tmp_path / "INPUT.jsonl"
    path.write_text(ROWS)
    return path


@pytest.fixture
def ledger_path(batch: Path) -> Path:
    return default_ledger_path(batch)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """One of the victim's own files, which a planted link points to."""
    path = tmp_path / "victim.txt"
    path.write_text(SECRET)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def bulk(sandbox: Sandbox, *args: str | Path) -> cli_runner.Run:
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=sandbox.base_url)
    return cli_runner.run("bulk", *map(str, args), "--rate", "0", env=env)


def assert_refused_naming(run: cli_runner.Run, option: str, path: Path, problem: str) -> None:
    assert run.code == 2, run
    assert run.error_lines == [f"Error: {option}: {str(path)!r} {problem}"], run.stderr


def planted(path: Path, wide: int = 0o666) -> Path:
    path.touch()
    path.chmod(wide)
    return path


def test_a_planted_empty_world_writable_ledger_is_refused_and_gets_nothing(
    telnyx_sandbox: Sandbox, batch: Path, ledger_path: Path
) -> None:
    planted(ledger_path)
    run = bulk(telnyx_sandbox, batch)
    assert_refused_naming(
        run,
        "--ledger",
        ledger_path,
        "is writable by other users (mode 0666): if it is yours, "
        "chmod go-w it, or choose another path",
    )
    assert ledger_path.stat().st_size == 0  # no number or text was written into it
    assert telnyx_sandbox.request_count == 0


def test_a_dangling_symlink_as_the_ledger_is_refused_and_nothing_is_created_through_it(
    batch: Path, ledger_path: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "attacker" / "captured.sqlite"
    elsewhere.parent.mkdir()
    ledger_path.symlink_to(elsewhere)
    with pytest.raises(tgm.BulkPathError, match="is a symbolic link") as refused:
        Ledger(ledger_path)
    assert refused.value.setting == "ledger_path"
    assert list(elsewhere.parent.iterdir()) == []


@pytest.mark.parametrize("suffix", [".lock", "-wal", "-shm", "-journal"])
def test_a_planted_lock_or_sqlite_file_with_a_wide_mode_is_refused_by_name(
    telnyx_sandbox: Sandbox, batch: Path, ledger_path: Path, suffix: str
) -> None:
    companion = planted(Path(f"{ledger_path}{suffix}"), 0o664)
    run = bulk(telnyx_sandbox, batch)
    assert_refused_naming(
        run,
        "--ledger",
        companion,
        "is writable by other users (mode 0664): if it is yours, "
        "chmod go-w it, or choose another path",
    )
    assert companion.stat().st_size == 0
    assert telnyx_sandbox.request_count == 0


@pytest.mark.parametrize("suffix", [".lock", "-wal", "-shm", "-journal"])
def test_a_lock_or_sqlite_file_planted_as_a_symlink_is_refused_and_its_target_untouched(
    ledger_path: Path, victim: Path, suffix: str
) -> None:
    Path(f"{ledger_path}{suffix}").symlink_to(victim)
    with pytest.raises(tgm.BulkPathError, match="is a symbolic link"):
        Ledger(ledger_path)
    assert victim.read_text() == SECRET
    assert mode(victim) == 0o644


def test_the_ledger_and_its_lock_are_created_private(ledger_path: Path) -> None:
    Ledger(ledger_path).close()
    assert mode(ledger_path) == 0o600
    assert mode(Path(f"{ledger_path}.lock")) == 0o600


def test_an_existing_ledger_of_this_user_is_still_used(ledger_path: Path) -> None:
    Ledger(ledger_path).close()
    reopened = Ledger(ledger_path)
    assert reopened.run == 2
    reopened.close()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root"
)
@pytest.mark.parametrize("suffix", ["", ".lock", "-wal"])
def test_a_ledger_file_of_another_user_is_refused(ledger_path: Path, suffix: str) -> None:
    other = planted(Path(f"{ledger_path}{suffix}"), 0o600)
    os.chown(other, 65534, 65534)
    with pytest.raises(tgm.BulkPathError, match="belongs to another user"):
        Ledger(ledger_path)


def changed_before_sqlite_opens(
    monkeypatch: pytest.MonkeyPatch, target: Path, make: Callable[[Path], None]
) -> None:
    """Let SQLite meet ``make``'s work on ``target``: a change after the checks, before it opens."""
    connect = sqlite3.connect

    def connect_after_the_swap(database: str | Path, **options: object) -> sqlite3.Connection:
        make(target)
        return connect(database, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_module.sqlite3, "connect", connect_after_the_swap)


@pytest.mark.parametrize(
    ("swap", "problem"),
    [
        (lambda path, other: path.symlink_to(other), "is a symbolic link"),
        (
            lambda path, other: os.link(other, path),
            "was replaced while the ledger was being opened",
        ),
    ],
    ids=["symlink", "other-file"],
)
def test_a_ledger_swapped_after_the_checks_is_caught(
    monkeypatch: pytest.MonkeyPatch,
    ledger_path: Path,
    tmp_path: Path,
    swap: Callable[[Path, Path], None],
    problem: str,
) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite"
    Ledger(elsewhere).close()

    def swapped(path: Path) -> None:
        path.unlink()
        swap(path, elsewhere)

    changed_before_sqlite_opens(monkeypatch, ledger_path, swapped)
    with pytest.raises(tgm.BulkPathError, match=problem):
        Ledger(ledger_path)


def test_a_wal_link_planted_after_the_checks_is_refused_and_nothing_goes_through_it(
    monkeypatch: pytest.MonkeyPatch, ledger_path: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "attacker-wal"
    changed_before_sqlite_opens(
        monkeypatch, Path(f"{ledger_path}-wal"), lambda p: p.symlink_to(elsewhere)
    )
    with pytest.raises(tgm.TelnyxError):  # SQLite itself will not open it
        Ledger(ledger_path)
    assert not elsewhere.exists()


def test_a_results_partial_symlink_stays_untouched_and_the_results_are_private(
    telnyx_sandbox: Sandbox, batch: Path, tmp_path: Path, victim: Path
) -> None:
    results = tmp_path / "results.jsonl"
    partial = tmp_path / "results.jsonl.partial"
    partial.symlink_to(victim)
    run = bulk(telnyx_sandbox, batch, "--results", results)
    assert run.code == 0, run
    assert victim.read_text() == SECRET
    assert partial.is_symlink()
    assert not results.is_symlink()
    assert len(results.read_text().splitlines()) == 3
    assert mode(results) == 0o600
    # Nothing is left beside it: the temporary file became the results.
    assert sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith((".results", "results"))
    ) == [
        "results.jsonl",
        "results.jsonl.partial",
    ]


def test_results_replacing_an_older_wider_file_are_private(
    telnyx_sandbox: Sandbox, batch: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text("from an earlier run\n")
    results.chmod(0o644)
    assert bulk(telnyx_sandbox, batch, "--results", results).code == 0
    assert mode(results) == 0o600
    assert len(results.read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("plant", "problem"),
    [
        (
            lambda path, victim: path.symlink_to(victim),
            "is a symbolic link: remove it or choose another path",
        ),
        (
            lambda path, victim: planted(path, 0o646),
            "is writable by other users (mode 0646): if it is yours, chmod go-w it, or "
            "choose another path",
        ),
    ],
    ids=["symlink", "world-writable"],
)
def test_a_planted_results_file_is_refused_before_anything_is_sent(
    telnyx_sandbox: Sandbox,
    batch: Path,
    tmp_path: Path,
    victim: Path,
    plant: Callable[[Path, Path], object],
    problem: str,
) -> None:
    results = tmp_path / "results.jsonl"
    plant(results, victim)
    run = bulk(telnyx_sandbox, batch, "--results", results)
    assert_refused_naming(run, "--results", results, problem)
    assert victim.read_text() == SECRET
    assert telnyx_sandbox.request_count == 0
