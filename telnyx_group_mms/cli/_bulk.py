"""``telnyx-group-mms bulk``: send a JSONL or CSV file of group MMS, crash-safe."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

import click

from .._private_files import BulkPathError
from ..bulk._input import InputError
from ..bulk._report import BulkPreview
from ..bulk._runner import DEFAULT_LEASE, DEFAULT_RATE, BulkSummary, default_batch, run_bulk
from ..bulk.ledger._sqlite import LedgerError
from ..errors import BackendUnavailableError, TelnyxError
from ..limits._sender_rates import SenderRates
from ..limits._shared import DEFAULT_NAMESPACE, RateLimits
from ..models import GroupMmsRequest
from ..stores._postgres import is_postgres_url, redact
from ._connection_options import (
    api_key_option,
    base_url_option,
    check_base_url_option,
    require_api_key,
)
from ._errors import SettingError, ledger_error
from ._progress import progress_shown
from ._sender_rate_options import (
    check_rate_option,
    parse_per_sender_rate,
    parse_sender_rates,
    per_sender_rate_setting,
)

__all__ = ["bulk"]

#: Sending numbers a dry run lists by name; the rest are counted.
SENDERS_SHOWN: Final = 10
# Characters of a text shown in a dry run's preview of a row.
_TEXT_SHOWN: Final = 60


def _quoted(text: str) -> str:
    # JSON quoting keeps the row on one line (newlines, tabs and quotes escaped).
    cut = text if len(text) <= _TEXT_SHOWN else text[: _TEXT_SHOWN - 1] + "\u2026"
    return json.dumps(cut, ensure_ascii=False)


def _row_text(line: int, request: GroupMmsRequest) -> str:
    parts = [f"line {line}: from {request.from_} to {', '.join(request.to)}"]
    if request.subject is not None:
        parts.append(f"subject {_quoted(request.subject)}")
    if request.text is not None:
        parts.append(f"text {_quoted(request.text)}")
    if request.media_urls:
        parts.append(f"{len(request.media_urls)} media URL(s)")
    return "; ".join(parts)


def _report_preview(preview: BulkPreview, to_send: int) -> None:
    click.echo(f"would send {to_send} row(s) from {len(preview.senders)} sender(s):")
    for number, count in preview.senders[:SENDERS_SHOWN]:
        click.echo(f"  {number}  {count} row(s)")
    if len(preview.senders) > SENDERS_SHOWN:
        click.echo(f"  ...and {len(preview.senders) - SENDERS_SHOWN} more sender(s)")
    if preview.first_rows:
        click.echo(f"the first {len(preview.first_rows)} to send:")
        for line, request in preview.first_rows:
            click.echo(f"  {_row_text(line, request)}")


# The option behind each path setting of run_bulk, to name it in an error.
_PATH_OPTIONS: Final = {"ledger_path": "--ledger", "results_path": "--results"}


def _identity(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_mtime_ns


def _interrupted(results: Path | None) -> Callable[[], str]:
    """The Ctrl-C message; it names the results file only if this run wrote it."""
    before = _identity(results)

    def message() -> str:
        text = (
            "interrupted: the ledger is consistent; run the same command again to resume "
            "(rows that were in flight become 'unknown')"
        )
        # The results are written whole, then renamed into place: a new file there is
        # this run's (an interruption before the ledger was open leaves none).
        if results is not None and _identity(results) not in (None, before):
            text += f"; results so far written to {results} (rows not attempted: 'pending')"
        return text

    return message


def _ledger_setting(ledger: str | None, batch: str | None, input_path: Path) -> str | Path | None:
    """``--ledger`` as run_bulk takes it; with PostgreSQL, say which batch is used."""
    if ledger is None or not is_postgres_url(ledger):
        if batch is not None:
            raise SettingError(
                "--batch: only a PostgreSQL ledger (--ledger postgresql://...) holds batches"
            )
        if ledger is not None and Path(ledger).is_dir():
            raise SettingError(f"--ledger: {ledger!r} is a directory")
        return Path(ledger) if ledger is not None else None
    if batch is not None and not batch.strip():
        raise SettingError("--batch: a batch needs a name")
    name = batch if batch is not None else default_batch(input_path)
    origin = "" if batch is not None else " (the input's file name; --batch names another)"
    click.echo(f"batch {name!r}{origin} on {redact(ledger)}", err=True)
    return ledger


def _report(summary: BulkSummary) -> None:
    verb = "would send" if summary.dry_run else "sent now"
    # A worker of a PostgreSQL batch may join while others send: "before" is its joining.
    before = "by an earlier run" if summary.batch is None else "before this worker joined"
    click.echo(
        f"rows {summary.rows}: sent {summary.sent} ({summary.sent_before} {before}), "
        f"failed {summary.failed}, unknown {summary.unknown}, bad {summary.bad}; "
        f"{verb} {summary.to_send if summary.dry_run else summary.sent - summary.sent_before} "
        f"in {summary.elapsed:.1f} s"
    )
    if summary.stopped is not None:
        click.echo(
            f"stopped: {summary.stopped}; the {summary.pending} row(s) not sent are left as "
            "they were: fix the key or the account, then run the same command again"
        )
    if summary.preview is not None:
        _report_preview(summary.preview, summary.to_send)
    if summary.bad:
        click.echo(f"{summary.bad} bad row(s) skipped:")
        for row in summary.bad_rows:
            click.echo(f"  line {row.line}: {' '.join(row.reason.split())}")
        if summary.bad > len(summary.bad_rows):
            click.echo(
                f"  ...and {summary.bad - len(summary.bad_rows)} more; "
                "--results lists every line and its reason"
            )
    if summary.unknown:
        click.echo(
            f"{summary.unknown} row(s) may or may not have been sent: check them before "
            "running again with --retry-unknown, which sends them again"
        )
    if summary.failed and not summary.dry_run:
        click.echo(f"{summary.failed} failed row(s) are sent again by the same command")
    if summary.ledger_path is not None:
        click.echo(f"ledger: {summary.ledger_path}")
    if summary.ledger_url is not None:
        mine = "" if summary.worker_sent is None else f"; this worker sent {summary.worker_sent}"
        click.echo(f"ledger: {summary.ledger_url}, batch {summary.batch!r}{mine}")
    if summary.not_recorded:
        click.echo(
            f"{summary.not_recorded} outcome(s) came back after this worker's lease expired "
            "and were not recorded: other workers had declared those rows unknown"
        )
    if summary.results_path is not None:
        click.echo(f"results: {summary.results_path}")


@click.command()
@click.argument(
    "input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--ledger",
    metavar="PATH|URL",
    help="The SQLite ledger of this batch, or a postgresql:// URL: a batch that workers "
    "on any number of machines send together.  [default: INPUT.ledger.sqlite]",
)
@click.option(
    "--batch",
    "batch_name",
    metavar="NAME",
    help="With a PostgreSQL ledger, the batch's name (every worker of a batch gives the "
    "same).  [default: INPUT's file name]",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    default=DEFAULT_LEASE,
    show_default=True,
    help="With a PostgreSQL ledger, seconds a worker's hold on its rows lasts unless "
    "renewed: once a dead worker's lease expires, the others take over its rows.",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write one JSON line per row: line, state, message_id, error_code, error_detail.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=1000),
    default=32,
    show_default=True,
    help="Requests in flight at most.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    callback=check_rate_option,
    default=DEFAULT_RATE,
    show_default=True,
    help="Account-wide messages per second (Telnyx's default limit); 0 for no limit.",
)
@click.option(
    "--per-sender-rate",
    metavar="RATE|auto",
    callback=parse_per_sender_rate,
    help="Messages per second per sending number, or 'auto' for Telnyx's default of each "
    "number's kind (toll-free by prefix: 20; other numbers as long codes: 0.1).",
)
@click.option(
    "--sender-rate",
    "sender_rates",
    metavar="NUMBER=RATE",
    multiple=True,
    callback=parse_sender_rates,
    help="A sending number's own messages per second, whatever --per-sender-rate says "
    "(repeatable; e.g. +13125550000=1).",
)
@click.option(
    "--shared-limits",
    "shared_limits",
    metavar="REDIS_URL",
    help="Share --rate and --per-sender-rate with every run (on any machine) using this "
    "Redis and --limits-namespace (needs the redis extra). If Redis is down, rows are "
    "recorded failed, not sent.",
)
@click.option(
    "--limits-namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="The prefix of the shared limits' keys in Redis; runs with the same one share.",
)
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Also send rows whose earlier outcome is unknown (they may be sent twice).",
)
@click.option(
    "--stop-on-account-error/--no-stop-on-account-error",
    default=True,
    show_default=True,
    help="Stop at the first refusal of the account or API key (401, 403, or a Telnyx "
    "code meaning the same), after the requests in flight; the rows not sent stay "
    "as they were.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check every row and show what would be sent; send nothing, change nothing.",
)
@api_key_option
@base_url_option
def bulk(
    input_path: Path,
    ledger: str | None,
    batch_name: str | None,
    lease: float,
    results: Path | None,
    concurrency: int,
    rate: float,
    per_sender_rate: float | SenderRates | None,
    sender_rates: tuple[tuple[str, float], ...],
    shared_limits: str | None,
    limits_namespace: str,
    retry_unknown: bool,
    stop_on_account_error: bool,
    dry_run: bool,
    api_key: str | None,
    base_url: str | None,
) -> None:
    """Send every row of INPUT (JSONL or CSV) once, even across crashes.

    JSONL: one request per line in Telnyx's form ({"from": ..., "to": [...], "text": ...}).
    CSV: a header (from,to,text,subject,media_urls); several recipients or URLs in a cell
    separated by ";"; an empty cell means absent. A bad row is reported with its line and
    skipped. Running the same command again sends only what is not sent yet.

    The key comes from --api-key or TELNYX_API_KEY, the API root from --base-url or
    TELNYX_BASE_URL (neither is needed for --dry-run).

    With --ledger postgresql://..., run the same command on as many machines as you
    like: each row is sent by one worker only, and each worker exits with the summary
    of the whole batch once no row is left to send. A worker that dies leaves the rows
    it had in flight 'unknown' once its --lease expires; the others send the rest.

    \b
    Exit status:
      0    every row is sent (--dry-run: no row is bad)
      1    some rows failed or were bad, or a stop left rows unsent; with
           PostgreSQL also: this worker's lease expired, or the database was
           gone for longer than the lease (run the same command again)
      2    usage or settings error (a bad or unreachable --ledger URL);
           nothing was sent
      3    some rows' outcome is unknown: they may have been sent (a re-run
           resends them only with --retry-unknown); takes precedence over 1
      130  interrupted (Ctrl-C): the ledger is consistent; run again to resume
    """
    if not dry_run:
        require_api_key(api_key)
        check_base_url_option(base_url)
    where = _ledger_setting(ledger, batch_name, input_path)
    sender_rule = per_sender_rate_setting(per_sender_rate, sender_rates)
    limits = None
    if shared_limits is not None:
        try:
            limits = RateLimits(
                rate_limit=rate or None,
                per_sender_rate=sender_rule,
                redis_url=shared_limits,
                namespace=limits_namespace,
            )
        except ValueError as exc:
            raise SettingError(f"--shared-limits: {exc}") from None
    with progress_shown(interrupted=_interrupted(results)) as progress:
        run = run_bulk(
            input_path,
            ledger=where,
            batch=batch_name,
            lease=lease,
            results_path=results,
            concurrency=concurrency,
            rate=None if limits is not None else rate or None,
            per_sender_rate=None if limits is not None else sender_rule,
            rate_limits=limits,
            retry_unknown=retry_unknown,
            stop_on_account_error=stop_on_account_error,
            dry_run=dry_run,
            api_key=api_key,
            base_url=base_url,
            progress=progress,
        )
        try:
            summary = asyncio.run(run)
        except BulkPathError as exc:
            option = _PATH_OPTIONS.get(exc.setting, exc.setting)
            raise SettingError(f"{option}: {exc.problem}") from exc
        except LedgerError as exc:
            raise click.ClickException(ledger_error(exc)) from exc
        except BackendUnavailableError as exc:
            # Found on connecting, before anything was sent.
            raise SettingError(ledger_error(exc)) from exc
        except InputError as exc:
            raise click.UsageError(str(exc)) from exc
        except TelnyxError as exc:  # a setting the client refuses (a bad --base-url)
            raise SettingError(str(exc)) from exc
    _report(summary)
    sys.exit(summary.exit_code)
