"""``telnyx-group-mms sandbox``: run the local Telnyx stand-in until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from .._url_checks import is_loopback_host
from ..sandbox import (
    DEFAULT_HISTORY_BYTES,
    DeliveryOutcomes,
    Fault,
    FaultRates,
    Sandbox,
    SenderQueues,
)
from ..sandbox._host_guard import ANY_ADDRESS
from ._errors import Failure, SettingError

# By default a long-running sandbox keeps this many recent requests and messages in memory.
_HISTORY = 10_000


def _fault_rates(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> FaultRates | None:
    if not values:
        return None
    rates: dict[Fault, float] = {}
    for value in values:
        name, sep, rate = value.rpartition("=")
        try:
            if not sep:
                raise ValueError("expected FAULT=RATE")
            rates[Fault.parse(name)] = float(rate)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}") from exc
    try:
        return FaultRates(rates=rates)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _per_number_mps(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, float]:
    rates: dict[str, float] = {}
    for value in values:
        number, sep, rate = value.partition("=")
        try:
            if not sep:
                raise ValueError("expected NUMBER=MPS")
            rates[number.strip()] = float(rate)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}") from exc
    return rates


def _sender_queues(
    enabled: bool, settings: dict[str, float | None], per_number: dict[str, float]
) -> SenderQueues | None:
    """The queue settings; any of them turns the queues on, as ``--sender-queues`` does."""
    given = {name: value for name, value in settings.items() if value is not None}
    if not (enabled or given or per_number):
        return None
    try:
        return SenderQueues(per_number_mps=per_number, **given)
    except ValueError as exc:
        # SenderQueues names its own fields; a command-line user knows the options.
        message = str(exc)
        for field, option in _QUEUE_OPTIONS.items():
            message = message.replace(field, option)
        raise SettingError(message) from exc


#: SenderQueues' fields and the options that set them.
_QUEUE_OPTIONS = {
    "long_code_mps": "--long-code-mps",
    "toll_free_mps": "--toll-free-mps",
    "per_number_mps": "--sender-mps",
    "max_queue_seconds": "--max-queue-seconds",
    "time_scale": "--time-scale",
}


_POSITIVE = click.FloatRange(min=0, min_open=True)


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True,
    help="Address to listen on. Beyond loopback (0.0.0.0, a LAN address) --api-key is "
    "required.",
)  # fmt: skip
@click.option(
    "--allow-host", "allowed_hosts", multiple=True, metavar="NAME",
    help="Also answer requests addressed to this name (a proxy's, a container's); by "
    "default only the --host address and localhost (any address with 0.0.0.0). Repeatable.",
)  # fmt: skip
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
    help="Port to listen on (0: any free port).",
)  # fmt: skip
@click.option("--api-key", metavar="KEY", help="Accept only this key (default: any key).")
@click.option(
    "--fault-rate", "fault_rates", multiple=True, callback=_fault_rates, metavar="FAULT=RATE",
    help="Answer this share of requests with a fault: 503=0.1, 429:1=0.05 (Retry-After 1 s), "
    "drop=0.02, delay:2=0.1, malformed=0.01. Repeatable.",
)  # fmt: skip
@click.option("--seed", type=int, help="Seed random faults and outcomes, to repeat a run.")
@click.option(
    "--mps", type=click.IntRange(min=1),
    help="Messages per second per API key; more are answered 429 (code 10011).",
)  # fmt: skip
@click.option(
    "--sender-queues", "queues", is_flag=True,
    help="Queue each sender's messages at its rate, as Telnyx does: wait_seconds grows, and "
    "a message that would overfill the queue is answered 429 (code 40318). Any option below "
    "turns this on too.",
)  # fmt: skip
@click.option(
    "--long-code-mps", type=_POSITIVE, metavar="MPS",
    help="Messages per second a long code sends [default: 0.1].",
)  # fmt: skip
@click.option(
    "--toll-free-mps", type=_POSITIVE, metavar="MPS",
    help="Messages per second a toll-free number (+1 800/833/844/855/866/877/888) sends "
    "[default: 20].",
)  # fmt: skip
@click.option(
    "--sender-mps", "per_number_mps", multiple=True, callback=_per_number_mps,
    metavar="NUMBER=MPS", help="The rate of one sending number: +13125551234=1. Repeatable.",
)  # fmt: skip
@click.option(
    "--max-queue-seconds", type=_POSITIVE, metavar="SECONDS",
    help="Sending time one sender's queue holds [default: 14400, four hours].",
)  # fmt: skip
@click.option(
    "--time-scale", type=_POSITIVE, metavar="FACTOR",
    help="Drain queues (and send queued messages' webhooks) this many times faster than "
    "real time [default: 1].",
)  # fmt: skip
@click.option(
    "--max-history", type=click.IntRange(min=1), default=_HISTORY, show_default=True,
    help="Recent requests, messages and webhook attempts kept (each); the messages are "
    "listed at GET /_sandbox/messages.",
)  # fmt: skip
@click.option(
    "--max-history-bytes", type=click.IntRange(min=1), default=DEFAULT_HISTORY_BYTES,
    metavar="BYTES",
    help="Bytes of recent requests, messages and webhook attempts kept (each; a record "
    "counts its bodies, texts and URLs plus 1 KiB) [default: 67108864, 64 MiB].",
)  # fmt: skip
@click.option("--webhook-url", metavar="URL", help="Default webhook URL for delivery updates.")
@click.option("--webhook-failover-url", metavar="URL", help="Default failover webhook URL.")
@click.option(
    "--delivery-failure-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
    help="Share of recipients reported delivery_failed in webhooks.",
)  # fmt: skip
def sandbox(
    *,
    host: str,
    allowed_hosts: tuple[str, ...],
    port: int,
    api_key: str | None,
    fault_rates: FaultRates | None,
    seed: int | None,
    mps: int | None,
    queues: bool,
    long_code_mps: float | None,
    toll_free_mps: float | None,
    per_number_mps: dict[str, float],
    max_queue_seconds: float | None,
    time_scale: float | None,
    max_history: int,
    max_history_bytes: int,
    webhook_url: str | None,
    webhook_failover_url: str | None,
    delivery_failure_rate: float,
) -> None:
    """Run a local stand-in for Telnyx's group MMS API until Ctrl-C.

    Prints the base URL to give a client, and the public key that verifies the
    webhooks it sends. What it saw can be read, with the API key as for the API, at
    GET /_sandbox/stats (counts of requests, accepted messages, requests in flight and
    faults served) and GET /_sandbox/messages?offset=N&limit=M (accepted messages).
    """
    if api_key is None and not is_loopback_host(host):
        raise SettingError(
            f"--api-key is required with --host {host or repr(host)}: beyond loopback, anyone "
            "who can reach the sandbox could read the numbers and texts it records"
        )
    queue_settings = {
        "long_code_mps": long_code_mps,
        "toll_free_mps": toll_free_mps,
        "max_queue_seconds": max_queue_seconds,
        "time_scale": time_scale,
    }
    try:
        box = Sandbox(
            host=host,
            allowed_hosts=allowed_hosts,
            port=port,
            api_key=api_key,
            fault_rates=fault_rates,
            seed=seed,
            mps=mps,
            sender_queues=_sender_queues(queues, queue_settings, per_number_mps),
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
            delivery=DeliveryOutcomes(failure_rate=delivery_failure_rate),
            max_history=max_history,
            max_history_bytes=max_history_bytes,
        )
    except (ValueError, ImportError) as exc:
        raise SettingError(str(exc)) from exc
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(box))
    click.echo("Sandbox stopped.", err=True)


async def _serve(box: Sandbox) -> None:
    stop = asyncio.Event()
    # SIGTERM (a supervisor, a benchmark harness) stops as cleanly as Ctrl-C does.
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(box)
        except OSError as exc:
            raise Failure(f"cannot listen on {box.base_url}: {exc.strerror or exc}") from exc
        for line in announcement(box):
            click.echo(line)
        await stop.wait()


def announcement(box: Sandbox) -> list[str]:
    """What the command prints once listening: where, and ``export`` lines a client can use.

    The client sends its key over plain http only to loopback, so the base URL printed is
    always a loopback one: this machine's way in when listening on every interface, or
    the near end of an SSH tunnel when listening on another address.
    """
    if is_loopback_host(box.host):
        return [
            f"Telnyx sandbox listening at {box.base_url} (Ctrl-C to stop)",
            *_exports(box.base_url, box.public_key),
        ]
    everywhere = box.host in ANY_ADDRESS
    where = f"every interface ({box.host or '*'})" if everywhere else box.host
    # Listening everywhere, a client here connects to loopback; else to the address.
    target = ANY_ADDRESS[box.host] if everywhere else box.host
    tunnel = f"{box.port}:{f'[{target}]' if ':' in target else target}:{box.port}"
    return [
        f"Telnyx sandbox listening on {where}, port {box.port} (Ctrl-C to stop)",
        "  # Plain http is refused beyond loopback (the key would cross the network in",
        "  # clear text), so "
        + (
            "the URL below works on this machine. Elsewhere, run"
            if everywhere
            else "reach it through a tunnel: run"
        ),
        f"  #   ssh -N -L {tunnel} THIS_HOST",
        "  # where the client runs and use the URL below there, or serve the sandbox",
        "  # through an https proxy (name it with --allow-host).",
        # Every interface includes loopback; one other address needs the tunnel's near end.
        *_exports(
            box.base_url if everywhere else f"http://127.0.0.1:{box.port}/v2", box.public_key
        ),
    ]


def _exports(base_url: str, public_key: str | None) -> list[str]:
    lines = [f"  export TELNYX_BASE_URL={base_url}"]
    if public_key is not None:
        lines.append(f"  export TELNYX_PUBLIC_KEY={public_key}")
    return lines
