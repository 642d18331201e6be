"""``bulk``'s ledger and results never overwrite the input or each other, and a results
path that cannot be written stops the run before anything is sent: exit 2, one line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

from . import cli_runner
from .conftest import FROM, KEY, TO

ROW = f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "hi"}}\n'
INPUT = ROW * 3


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    path = tmp_path / "x.jsonl"
    path.write_text(INPUT)
    return path


def bulk_env(sandbox: Sandbox) -> dict[str, str]:
    return dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=sandbox.base_url)


def bulk(sandbox: Sandbox, *args: str | Path) -> cli_runner.Run:
    return cli_runner.run("bulk", *map(str, args), "--rate", "0", env=bulk_env(sandbox))


def assert_refused(run: cli_runner.Run, *expected: str) -> None:
    assert run.code == 2, run
    assert len(run.error_lines) == 1, run.stderr
    for text in expected:
        assert text in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def hard_link(batch: Path) -> Path:
    link = batch.with_name("hard.jsonl")
    os.link(batch, link)
    return link


def soft_link(batch: Path) -> Path:
    link = batch.with_name("soft.jsonl")
    link.symlink_to(batch.name)
    return link


def dotted(batch: Path) -> Path:
    (batch.parent / "sub").mkdir()
    return batch.parent / "sub" / ".." / batch.name


def listing(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.mark.parametrize(
    "spelling",
    [lambda b: b, dotted, hard_link, soft_link],
    ids=["same-name", "other-spelling", "hard-link", "symlink"],
)
@pytest.mark.parametrize("option", ["--results", "--ledger"])
def test_a_ledger_or_results_naming_the_input_is_refused_and_the_input_kept(
    telnyx_sandbox: Sandbox, batch: Path, option: str, spelling: Callable[[Path], Path]
) -> None:
    target = spelling(batch)
    files = listing(batch.parent)
    assert_refused(bulk(telnyx_sandbox, batch, option, target), option, "is the input file")
    assert batch.read_text() == INPUT
    assert listing(batch.parent) == files  # no ledger, no lock, no results
    assert telnyx_sandbox.request_count == 0


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal", ".lock"])
def test_results_naming_the_ledger_or_one_of_its_files_are_refused(
    telnyx_sandbox: Sandbox, batch: Path, suffix: str
) -> None:
    ledger = batch.with_name("l.sqlite")
    run = bulk(telnyx_sandbox, batch, "--ledger", ledger, "--results", f"{ledger}{suffix}")
    what = "the ledger" if not suffix else f"the ledger's {suffix} file"
    assert_refused(run, "--results", what)
    assert not ledger.exists()
    assert telnyx_sandbox.request_count == 0


def test_a_ledger_whose_wal_file_would_be_the_input_is_refused(
    telnyx_sandbox: Sandbox, tmp_path: Path
) -> None:
    batch = tmp_path / "batch-wal"  # a JSONL file without the suffix: sniffed
    batch.write_text(INPUT)
    run = bulk(telnyx_sandbox, batch, "--ledger", tmp_path / "batch")
    assert_refused(run, "--ledger", "would put the ledger's -wal file on the input file")
    assert batch.read_text() == INPUT
    assert telnyx_sandbox.request_count == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing" / "out.jsonl", "its directory '{d}/missing' does not exist"),
        (lambda d: d / "x.jsonl" / "out.jsonl", "its directory '{d}/x.jsonl' is not a directory"),
    ],
    ids=["missing-directory", "file-as-directory"],
)
def test_results_in_a_directory_that_cannot_hold_them_are_refused_before_sending(
    telnyx_sandbox: Sandbox, batch: Path, make: Callable[[Path], Path], message: str
) -> None:
    # The case reported: the whole batch was sent, then a FileNotFoundError traceback
    # and no summary.
    run = bulk(telnyx_sandbox, batch, "--results", make(batch.parent))
    assert_refused(run, "--results", message.format(d=batch.parent))
    assert telnyx_sandbox.request_count == 0
    assert not batch.with_name("x.jsonl.ledger.sqlite").exists()


def test_a_ledger_in_a_missing_directory_is_refused_naming_the_option(
    telnyx_sandbox: Sandbox, batch: Path
) -> None:
    ledger = batch.parent / "missing" / "l.sqlite"
    run = bulk(telnyx_sandbox, batch, "--ledger", ledger)
    assert_refused(
        run, f"--ledger: {str(ledger)!r}: its directory {str(ledger.parent)!r} does not exist"
    )
    assert telnyx_sandbox.request_count == 0


def test_results_that_are_a_directory_are_refused(telnyx_sandbox: Sandbox, batch: Path) -> None:
    run = bulk(telnyx_sandbox, batch, "--results", batch.parent)
    assert run.code == 2, run
    assert "is a directory" in run.stderr
    assert telnyx_sandbox.request_count == 0


NOBODY = 65534

# Root may write into any directory: to meet one that is not writable, the command drops
# to an unprivileged user once it has loaded what it needs.
_AS_NOBODY = [
    sys.executable,
    "-c",
    "import os, runpy; import telnyx_group_mms.cli, telnyx_group_mms.cli._bulk; "
    f"os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY}); "
    "runpy.run_module('telnyx_group_mms', run_name='__main__', alter_sys=True)",
]


@pytest.fixture
def shared_directory() -> Iterator[Path]:
    """A directory that an unprivileged user can read (pytest's own are private)."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        directory.chmod(0o755)
        yield directory


def test_results_in_a_directory_that_is_not_writable_are_refused_before_sending(
    telnyx_sandbox: Sandbox, shared_directory: Path
) -> None:
    batch = shared_directory / "x.jsonl"
    batch.write_text(INPUT)
    batch.chmod(0o644)
    closed = shared_directory / "closed"
    closed.mkdir()
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    closed.chmod(0o755 if as_root else 0o555)
    args = ["bulk", str(batch), "--rate", "0", "--results", str(closed / "out.jsonl")]
    command = [*_AS_NOBODY, *args] if as_root else [*cli_runner.COMMAND, *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=bulk_env(telnyx_sandbox), timeout=60
        )
    finally:
        closed.chmod(0o755)
    run = cli_runner.Run(done.returncode, done.stdout, done.stderr)
    assert_refused(run, "--results", f"its directory {str(closed)!r} is not writable")
    assert telnyx_sandbox.request_count == 0


def test_run_bulk_refuses_the_same_paths_with_a_bulk_path_error(
    telnyx_sandbox: Sandbox, batch: Path
) -> None:
    async def refused(**paths: Path) -> tgm.BulkPathError:
        async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
            with pytest.raises(tgm.BulkPathError) as caught:
                await tgm.run_bulk(batch, client=client, **paths)  # type: ignore[arg-type]
        return caught.value

    error = asyncio.run(refused(results_path=batch))
    assert isinstance(error, tgm.TelnyxError)
    assert (error.setting, str(error)) == (
        "results_path",
        f"results_path: {str(batch)!r} is the input file",
    )
    error = asyncio.run(refused(results_path=batch.parent / "no" / "r.jsonl"))
    assert error.setting == "results_path" and "does not exist" in error.problem
    error = asyncio.run(refused(ledger_path=batch))
    assert (error.setting, error.problem) == ("ledger_path", f"{str(batch)!r} is the input file")
    for setting in ("ledger_path", "results_path"):
        error = asyncio.run(refused(**{setting: batch.parent}))
        assert (error.setting, error.problem) == (setting, f"{str(batch.parent)!r} is a directory")
    assert not Path(f"{batch.parent}.lock").exists()  # no lock was made beside it
    assert batch.read_text() == INPUT
    assert telnyx_sandbox.request_count == 0
