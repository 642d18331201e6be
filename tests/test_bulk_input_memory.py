"""Reading a bulk input holds about one row in memory, whatever a line holds.

A sparse file makes a line of a gibibyte (NUL bytes) at no disk cost. Each case runs in a
subprocess: one under an address-space limit far below the line's size, the other (the
``bulk`` command) with its peak resident memory measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, KEY, TO

GIB = 1 << 30
TOO_LONG = "the row is longer than 65,536 characters, the limit for a row"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="needs RLIMIT_AS and sparse files as Linux has"
)

# Reads the rows under an address-space limit of what the interpreter has mapped so far
# plus 256 MiB: a quarter of the long line.
_READ_UNDER_LIMIT = """
import resource, sys
from telnyx_group_mms.bulk._input import read_rows
with open("/proc/self/status") as status:
    mapped = next(int(l.split()[1]) for l in status if l.startswith("VmSize:")) * 1024
limit = mapped + (256 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
for row in read_rows(sys.argv[1]):
    print(row.line, row.error)
"""

# Runs a command and reports its peak resident memory (KiB) as its last stderr line.
_PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def with_a_long_line(path: Path, before: str, after: str) -> Path:
    """``before``, then a line of a gibibyte of NUL bytes, then ``after``."""
    with path.open("wb") as out:
        out.write(before.encode())
        out.seek(len(before) + GIB)
        out.write(f"\n{after}".encode())
    return path


def test_a_jsonl_line_of_a_gibibyte_is_a_bad_row_read_in_bounded_memory(tmp_path: Path) -> None:
    row = f'{{"from": "{FROM}", "to": ["{TO[0]}"], "text": "%s"}}\n'
    path = with_a_long_line(tmp_path / "in.jsonl", row % "before", row % "after")
    done = subprocess.run(
        [sys.executable, "-c", _READ_UNDER_LIMIT, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["1 None", f"2 {TOO_LONG}", "3 None"]


def test_bulk_sends_the_rows_around_a_csv_line_of_a_gibibyte_in_bounded_memory(
    tmp_path: Path, telnyx_sandbox: Sandbox
) -> None:
    path = with_a_long_line(
        tmp_path / "in.csv", f"from,to,text\n{FROM},{TO[0]},before\n", f"{FROM},{TO[0]},after\n"
    )
    env = dict(os.environ, TELNYX_API_KEY=KEY, TELNYX_BASE_URL=telnyx_sandbox.base_url)
    command = [sys.executable, "-m", "telnyx_group_mms", "bulk", str(path), "--rate", "0"]
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    peak = done.stderr.splitlines()[-1]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "bad 1" in done.stdout
    assert sorted(m.text or "" for m in telnyx_sandbox.messages) == ["after", "before"]
    assert int(peak) < 256 * 1024, f"peak resident memory {int(peak) // 1024} MiB"
