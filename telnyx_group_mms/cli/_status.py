"""``telnyx-group-mms status``: where a batch of a PostgreSQL ledger stands, sending nothing."""

from __future__ import annotations

import asyncio
import json

import click

from ..bulk.ledger._postgres_batch import BatchConnection, BatchStatus
from ..errors import BackendUnavailableError
from ..stores._postgres import is_postgres_url, redact
from ._errors import Failure, SettingError, ledger_error

__all__ = ["status"]

# The states in the order a person reads them.
_STATES = ("sent", "failed", "unknown", "bad", "pending", "in_flight")


async def _read(url: str, batch: str) -> BatchStatus | None:
    reader = BatchConnection(url, batch=batch)
    try:
        return await reader.status()
    finally:
        await reader.aclose()


def _as_json(url: str, batch: str, found: BatchStatus) -> str:
    return json.dumps(
        {
            "ledger": redact(url),
            "batch": batch,
            "rows": sum(found.counts.values()),
            "counts": {state: found.counts.get(state, 0) for state in _STATES},
            "workers": [
                {
                    "id": w.id,
                    "host": w.host,
                    "pid": w.pid,
                    "sent": w.sent,
                    "lease_left": round(w.lease_left, 3),
                }
                for w in found.workers
            ],
        }
    )


def _as_text(url: str, batch: str, found: BatchStatus) -> list[str]:
    counts = ", ".join(f"{state} {found.counts.get(state, 0)}" for state in _STATES)
    lines = [
        f"batch {batch!r} on {redact(url)}: rows {sum(found.counts.values())}: {counts}",
        f"live workers: {len(found.workers)}",
    ]
    lines += [
        f"  {w.id}  sent {w.sent}  lease {max(w.lease_left, 0):.1f} s left" for w in found.workers
    ]
    return lines


@click.command()
@click.option(
    "--ledger",
    "url",
    required=True,
    metavar="URL",
    help="The batch's PostgreSQL ledger (postgresql://...).",
)
@click.option("--batch", required=True, metavar="NAME", help="The batch's name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
def status(url: str, batch: str, as_json: bool) -> None:
    """Show a batch's rows by state and its live workers; send nothing.

    \b
    Exit status:
      0    the batch was found
      1    there is no such batch in the ledger
      2    the ledger cannot be used (a bad URL, an unreachable server)
    """
    if not is_postgres_url(url):
        raise SettingError("--ledger: status reads a PostgreSQL ledger (postgresql://...)")
    try:
        found = asyncio.run(_read(url, batch))
    except BackendUnavailableError as exc:
        raise SettingError(ledger_error(exc)) from exc
    except ValueError as exc:
        raise SettingError(f"--{exc}") from exc
    if found is None:
        raise Failure(f"no batch {batch!r} in the ledger at {redact(url)}")
    if as_json:
        click.echo(_as_json(url, batch, found))
    else:
        for line in _as_text(url, batch, found):
            click.echo(line)
