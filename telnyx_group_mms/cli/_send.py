"""``telnyx-group-mms send``: send one group MMS and print the message Telnyx returns."""

from __future__ import annotations

import json

import click

from .._wire.serialization import get_converter
from ..errors import TelnyxError
from ..sync import Telnyx
from ._connection_options import (
    api_key_option,
    base_url_option,
    check_base_url_option,
    require_api_key,
)
from ._errors import SettingError, failure


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
@api_key_option
@base_url_option
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

    \b
    Exit status:
      0  sent
      1  refused or failed, certainly not sent (one line on stderr)
      2  bad usage or settings (no API key, a bad --base-url)
      3  outcome unknown: the message may have been sent (a 500, 502 or 504, a
         timeout or a dropped connection after the request was written); check
         before sending it again
    """
    require_api_key(api_key)
    check_base_url_option(base_url)
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
