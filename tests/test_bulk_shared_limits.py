"""``bulk --shared-limits REDIS_URL``: runs on any machine share one account rate."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

from . import cli_runner
from .conftest import FROM, KEY, TO
from .services import free_port


def rows(path: Path, count: int, tag: str) -> Path:
    path.write_text(
        "".join(
            json.dumps({"from": FROM, "to": TO, "text": f"{tag} {i}"}) + "\n" for i in range(count)
        )
    )
    return path


def bulk_args(sandbox: Sandbox, input_path: Path, *extra: str) -> list[str]:
    return ["bulk", str(input_path), "--api-key", KEY, "--base-url", sandbox.base_url, *extra]


def test_two_runs_share_one_rate_through_redis(
    redis_namespace: tuple[str, str], tmp_path: Path
) -> None:
    url, namespace = redis_namespace
    with Sandbox() as sandbox:
        shared = ("--rate", "5", "--shared-limits", url, "--limits-namespace", namespace)
        runs = [
            subprocess.Popen(
                [
                    *cli_runner.COMMAND,
                    *bulk_args(sandbox, rows(tmp_path / f"{tag}.jsonl", 10, tag), *shared),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for tag in ("a", "b")
        ]
        for run in runs:
            _, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
        times = sorted(r.arrived_at for r in sandbox.requests)
        assert len(times) == 20
        # 20 rows at 5/s between both runs, a burst of 5: at least 3 s (alone: 1 s each).
        assert times[-1] - times[0] >= 2.8


def test_redis_down_records_rows_failed_unsent_and_a_rerun_sends_them(tmp_path: Path) -> None:
    source = rows(tmp_path / "rows.jsonl", 3, "row")
    down = f"redis://:pw-s3cret@127.0.0.1:{free_port()}/0"
    with Sandbox() as sandbox:
        first = cli_runner.run(*bulk_args(sandbox, source, "--shared-limits", down))
        assert first.code == 1, first.stderr
        assert sandbox.request_count == 0
        assert "pw-s3cret" not in first.stdout + first.stderr
        again = cli_runner.run(*bulk_args(sandbox, source))
        assert again.code == 0, again.stderr
        assert sandbox.request_count == 3


def test_a_bad_shared_limits_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    source = rows(tmp_path / "rows.jsonl", 1, "row")
    with Sandbox() as sandbox:
        done = cli_runner.run(*bulk_args(sandbox, source, "--shared-limits", "http://nope"))
    assert done.code == 2
    assert len(done.error_lines) == 1 and "--shared-limits" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_bulk_refuses_rate_limits_with_its_shorthand(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        asyncio.run(
            tgm.run_bulk(
                rows(tmp_path / "r.jsonl", 1, "r"),
                rate_limits=tgm.RateLimits(rate_limit=5),
                per_sender_rate=1,
                api_key=KEY,
            )
        )
