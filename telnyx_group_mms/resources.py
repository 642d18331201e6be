"""The ``messages`` resource of the async client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from .models import Message
from .request import GroupMmsRequest

__all__ = ["AsyncMessages"]

SendFn = Callable[[GroupMmsRequest], Awaitable[Message]]


class AsyncMessages:
    """Sends group MMS messages; reached as ``AsyncTelnyx(...).messages``."""

    def __init__(self, send: SendFn) -> None:
        self._send = send

    async def send(self, request: GroupMmsRequest, /) -> Message:
        """Send one validated request.

        Returns:
            The message as Telnyx accepted it (each recipient usually ``queued``).

        Raises:
            APIStatusError: Telnyx refused it (see the subclass and ``errors``).
            APIConnectionError: The exchange failed; check ``outcome_unknown`` before
                resending, since Telnyx may have accepted the message.
            APIResponseValidationError: Telnyx answered 2xx with something that is not
                a message (``outcome_unknown`` is True).
            TelnyxError: The client is closed or serves another event loop.
        """
        return await self._send(request)

    async def send_group_mms(
        self,
        *,
        from_: str,
        to: Sequence[str],
        text: str | None = None,
        subject: str | None = None,
        media_urls: Sequence[str] | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        use_profile_webhooks: bool | None = None,
    ) -> Message:
        """Send one group MMS from ``from_`` to up to 8 recipients.

        Arguments are those of :class:`GroupMmsRequest`; errors those of :meth:`send`.

        Raises:
            RequestValidationError: The input breaks Telnyx's rules; nothing was sent.
        """
        request = GroupMmsRequest(
            from_=from_,
            to=to,
            text=text,
            subject=subject,
            media_urls=media_urls,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
            use_profile_webhooks=use_profile_webhooks,
        )
        return await self._send(request)
