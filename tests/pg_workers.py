"""Bulk workers on one PostgreSQL batch, as real processes, and what the batch recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from telnyx_group_mms.bulk.ledger._postgres_sql import ROWS
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, KEY, TO


def write_batch(path: Path, texts: list[str]) -> Path:
    path.write_text("from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},{t}\n" for t in texts))
    return path


def worker(
    sandbox: Sandbox | str,
    batch: Path,
    url: str,
    log: Path,
    *extra: str,
    concurrency: int = 4,
    lease: float = 2.0,
    key: str = KEY,
) -> subprocess.Popen[bytes]:
    """``bulk BATCH --ledger URL --batch b`` in a process of its own, its output in ``log``.

    ``sandbox`` is a sandbox, or the base URL of one in another process.
    """
    base_url = sandbox if isinstance(sandbox, str) else sandbox.base_url
    env = dict(os.environ, TELNYX_API_KEY=key, TELNYX_BASE_URL=base_url)
    command = [sys.executable, "-m", "telnyx_group_mms", "bulk", str(batch), "--rate", "0"]
    command += ["--ledger", url, "--batch", "b", "--lease", str(lease)]
    command += ["--concurrency", str(concurrency), *extra]  # a later --rate wins
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out)


def ledger_rows(url: str) -> dict[str, tuple[str, str | None, str | None]]:
    """Row text -> (state, worker, error_code), as the batch has it."""
    with psycopg.connect(url, autocommit=True) as db:
        found = db.execute(
            f"SELECT body::json->>'text', state, worker, error_code FROM {ROWS}"
        ).fetchall()
    return {text: (state, worker, code) for text, state, worker, code in found}
