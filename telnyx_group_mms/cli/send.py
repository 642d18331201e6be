"""``telnyx-group-mms send``: send one group MMS and print the message Telnyx returns."""

from __future__ import annotations

import json

import click

from ..config import check_base_url
from ..errors import TelnyxError
from ..facade import Telnyx
from ..serialization import get_converter
from .errors import SettingError, failure


@click.command()
@click.option("--from", "from_", required=True, metavar="NUMBER", help="Sender, +E.164.")
@click.option(
    "--to", "to", required=True, multiple=True, metavar="NUMBER",
    help="A recipient, +E.164 or a short code; repeat for up to 8.",
)  # fmt: skip
@click.option("--text", help="The message body.")
@click.option("--subject", help="The MMS subject line.")
@click.option(
    "--media-url", "media_urls", multiple=True, metavar="URL",
    help="An http(s) URL of media to attach; repeat for up to 10.",
)  # fmt: skip
@click.option("--webhook-url", metavar="URL", help="Where Telnyx posts delivery updates.")
@click.option("--webhook-failover-url", metavar="URL", help="Where they go if that fails.")
@click.option(
    "--api-key", envvar="TELNYX_API_KEY", show_envvar=True, metavar="KEY",
    help="Your Telnyx API key.",
)  # fmt: skip
@click.option(
    "--base-url", envvar="TELNYX_BASE_URL", show_envvar=True, metavar="URL",
    help="The API root (default https://api.telnyx.com/v2; a sandbox's URL to test).",
)  # fmt: skip
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
    help="Seconds one attempt may take.",
)  # fmt: skip
def send(
    *,
    from_: str,
    to: tuple[str, ...],
    text: str | None,
    subject: str | None,
    media_urls: tuple[str, ...],
    webhook_url: str | None,
    webhook_failover_url: str | None,
    api_key: str | None,
    base_url: str | None,
    timeout: float,
) -> None:
    """Send one group MMS and print the resulting message as JSON.

    Exit status: 0 sent, 1 refused or failed (one line on stderr), 2 bad usage.
    """
    if not api_key or not api_key.strip():
        raise SettingError("no API key: pass --api-key or set TELNYX_API_KEY")
    if base_url:
        # Named as the user gave it: the option, or the variable behind it.
        source = click.get_current_context().get_parameter_source("base_url")
        setting = "TELNYX_BASE_URL" if source is click.ParameterSource.ENVIRONMENT else "--base-url"
        try:
            check_base_url(base_url, setting=setting)
        except TelnyxError as exc:
            raise SettingError(str(exc)) from exc
    try:
        client = Telnyx(api_key=api_key, base_url=base_url, timeout=timeout)
    except TelnyxError as exc:
        raise SettingError(str(exc)) from exc
    with client:
        try:
            message = client.messages.send_group_mms(
                from_=from_,
                to=list(to),
                text=text,
                subject=subject,
                media_urls=list(media_urls) or None,
                webhook_url=webhook_url,
                webhook_failover_url=webhook_failover_url,
            )
        except TelnyxError as exc:
            raise failure(exc) from exc
    wire = get_converter().unstructure(message)
    click.echo(json.dumps(wire, indent=2, ensure_ascii=False))
