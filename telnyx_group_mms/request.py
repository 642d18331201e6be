"""The group MMS request, validated when it is built so that bad input never reaches Telnyx."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .errors import RequestValidationError
from .numbers import E164, SHORT_CODE
from .url_checks import http_url_problem

__all__ = ["MAX_MEDIA_URLS", "MAX_RECIPIENTS", "GroupMmsRequest"]

#: Telnyx accepts at most this many recipients in one group MMS.
MAX_RECIPIENTS = 8
#: At most this many media URLs per message.
MAX_MEDIA_URLS = 10


def _fail(field: str, problem: str) -> RequestValidationError:
    return RequestValidationError(f"{field}: {problem}", field=field)


def _as_str_tuple(value: object, field: str) -> tuple[str, ...]:
    # A bare string is a sequence too; taking it apart character by character
    # would produce a baffling error, so name the mistake instead.
    # Lists and tuples first: the Sequence check is an ABC lookup, needed only for others.
    if (value.__class__ is not list and value.__class__ is not tuple) and (
        isinstance(value, str | bytes) or not isinstance(value, Sequence)
    ):
        raise _fail(field, f"must be a list of strings, not {type(value).__name__}")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _fail(f"{field}[{i}]", f"must be a string, not {type(item).__name__}")
    return items


def _check_sendable(field: str, value: str) -> None:
    # A lone surrogate (left by a lenient decode, or by a JSON "\ud800" escape) cannot be
    # encoded as UTF-8: refuse it here, not when the body is encoded inside a send.
    # ASCII text (the commonest) cannot hold one, and isascii() reads a flag, not the text.
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _fail(
            field, f"has a lone surrogate at position {exc.start}, which is not valid text"
        ) from None


def _check_url(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise _fail(field, f"must be a string, not {type(value).__name__}")
    _check_sendable(field, value)
    problem = http_url_problem(value)
    if problem is not None:
        raise _fail(field, f"{value!r} {problem}")


@attrs.frozen(kw_only=True)
class GroupMmsRequest:
    """One group MMS: one sender, up to 8 recipients, text and/or media.

    Validated on construction; any problem raises :class:`RequestValidationError` naming
    the field, and nothing is sent.

    Args:
        from_: The sending number, +E.164 (``+13125551234``).
        to: 1 to 8 distinct recipients, each +E.164 or a 5-6 digit short code.
        text: The message body; when given, not empty.
        subject: The MMS subject line.
        media_urls: Up to 10 http(s) URLs; the media must total under 1 MB. Every URL
            must be well formed: a host name or IP address (IPv6 in brackets), a port
            from 1 to 65535 if any, no user name or password, no spaces.
        webhook_url: Where Telnyx posts delivery updates for this message.
        webhook_failover_url: Where they go if ``webhook_url`` fails.
        use_profile_webhooks: Also use the messaging profile's webhooks
            (Telnyx's default is true).

    Raises:
        RequestValidationError: The request breaks one of Telnyx's rules.
    """

    from_: str
    to: Sequence[str]
    text: str | None = None
    subject: str | None = None
    media_urls: Sequence[str] | None = None
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    use_profile_webhooks: bool | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.from_, str) or E164.fullmatch(self.from_) is None:
            raise _fail("from_", f"{self.from_!r} is not a +E.164 phone number")

        to = _as_str_tuple(self.to, "to")
        if not to:
            raise _fail("to", "needs at least one recipient")
        if len(to) > MAX_RECIPIENTS:
            raise _fail("to", f"has {len(to)} recipients; at most {MAX_RECIPIENTS} are allowed")
        for i, number in enumerate(to):
            if E164.fullmatch(number) is None and SHORT_CODE.fullmatch(number) is None:
                raise _fail(
                    f"to[{i}]", f"{number!r} is neither a +E.164 number nor a 5-6 digit short code"
                )
        if len(set(to)) != len(to):
            dup = next(n for i, n in enumerate(to) if n in to[:i])
            raise _fail("to", f"{dup!r} appears more than once")
        object.__setattr__(self, "to", to)

        if self.text is not None:
            if not isinstance(self.text, str):
                raise _fail("text", f"must be a string, not {type(self.text).__name__}")
            if not self.text:
                raise _fail("text", "must not be empty; omit it to send media only")
            _check_sendable("text", self.text)
        if self.subject is not None:
            if not isinstance(self.subject, str):
                raise _fail("subject", f"must be a string, not {type(self.subject).__name__}")
            _check_sendable("subject", self.subject)

        if self.media_urls is not None:
            media = _as_str_tuple(self.media_urls, "media_urls")
            if len(media) > MAX_MEDIA_URLS:
                raise _fail(
                    "media_urls", f"has {len(media)} URLs; at most {MAX_MEDIA_URLS} are allowed"
                )
            for i, url in enumerate(media):
                _check_url(f"media_urls[{i}]", url)
            object.__setattr__(self, "media_urls", media or None)

        if self.text is None and not self.media_urls:
            raise _fail("text", "a message needs text or at least one media URL")

        if self.webhook_url is not None:
            _check_url("webhook_url", self.webhook_url)
        if self.webhook_failover_url is not None:
            _check_url("webhook_failover_url", self.webhook_failover_url)
        if self.use_profile_webhooks is not None and not isinstance(
            self.use_profile_webhooks, bool
        ):
            raise _fail("use_profile_webhooks", "must be true or false")
