"""The group MMS exchange without I/O: bytes and headers in, models or errors out.

The transport, the sandbox and the tests all speak through these functions, so the
wire format is described once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import cattrs

from ..errors import (
    APIResponseValidationError,
    APIStatusError,
    status_error_class,
)
from ..models import GroupMmsRequest, Message, MessageError, RateLimitInfo
from . import json_codec
from .serialization import PARSE_ERRORS

__all__ = [
    "GROUP_MMS_PATH",
    "decode_message",
    "encode_request",
    "error_from_response",
    "parse_errors",
    "parse_rate_limit",
    "parse_retry_after",
]

#: The endpoint, relative to the API base URL (``https://api.telnyx.com/v2``).
GROUP_MMS_PATH = "/messages/group_mms"


def encode_request(converter: cattrs.Converter, request: GroupMmsRequest) -> bytes:
    """The JSON body for a request: wire names, ``None`` values omitted."""
    return json_codec.dumps(converter.unstructure(request))


def _load_json(body: bytes) -> Any:
    try:
        return json_codec.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting deeper than the parser can follow ("[[[[..."), which
        # fits easily under the response cap.
        return None


def decode_message(converter: cattrs.Converter, status: int, body: bytes) -> Message:
    """Parse a 2xx answer into a :class:`Message`.

    Raises:
        APIResponseValidationError: The body is not ``{"data": <message object>}``.
    """
    document = _load_json(body)
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise APIResponseValidationError(
            f"Telnyx answered {status} but the body is not a message", status_code=status, body=body
        )
    try:
        message: Message = converter.structure(data, Message)
    except PARSE_ERRORS as exc:
        raise APIResponseValidationError(
            f"Telnyx answered {status} but the message could not be parsed: {exc}",
            status_code=status,
            body=body,
        ) from exc
    return message


def parse_errors(converter: cattrs.Converter, document: object) -> list[MessageError]:
    """Telnyx's ``errors`` list from a parsed body; empty when the body is another shape."""
    if not isinstance(document, dict):
        return []
    raw = document.get("errors")
    if not isinstance(raw, list):
        return []
    errors: list[MessageError] = []
    for item in raw:
        try:
            errors.append(converter.structure(item, MessageError))
        except PARSE_ERRORS:  # one malformed entry must not hide the others
            continue
    return errors


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked the client to wait, or ``None`` if it did not say.

    Precedence: ``retry-after-ms``, then ``Retry-After`` (seconds or an HTTP date), then
    ``x-ratelimit-reset`` (seconds until the rate-limit window resets).
    """
    value = headers.get("retry-after-ms")
    if value is not None:
        seconds = _non_negative(value)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is not None:
        seconds = _non_negative(value)
        if seconds is not None:
            return seconds
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            current = time.time() if now is None else now
            return max(0.0, when.timestamp() - current)
    value = headers.get("x-ratelimit-reset")
    if value is not None:
        return _non_negative(value)
    return None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo:
    """Telnyx's ``x-ratelimit-limit``, ``-remaining`` and ``-reset`` headers."""

    def count(name: str) -> int | None:
        value = _non_negative(headers.get(name, ""))
        return None if value is None else int(value)

    return RateLimitInfo(
        limit=count("x-ratelimit-limit"),
        remaining=count("x-ratelimit-remaining"),
        reset=_non_negative(headers.get("x-ratelimit-reset", "")),
    )


def _non_negative(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return max(0.0, number)


def _sentences(title: str | None, detail: str | None) -> str:
    """Telnyx's title and detail as one text: ``Resource not found. The requested ...``."""
    title = (title or "").strip()
    detail = (detail or "").strip()
    if title and detail and title.lower() != detail.lower():
        return f"{title} {detail}" if title[-1] in ".!?:;" else f"{title}. {detail}"
    return title or detail


def error_from_response(
    converter: cattrs.Converter, status: int, headers: Mapping[str, str], body: bytes
) -> APIStatusError:
    """The :class:`APIStatusError` subclass for a non-2xx answer, with Telnyx's details."""
    errors = parse_errors(converter, _load_json(body))
    summary = f"Telnyx answered {status}"
    if errors:
        first = errors[0]
        described = _sentences(first.title, first.detail)
        summary += f" (code {first.code}): {described}" if first.code else f": {described}"
    cls = status_error_class(status)
    return cls(
        summary,
        status_code=status,
        errors=errors,
        request_id=headers.get("x-request-id"),
        retry_after=parse_retry_after(headers),
        body=body,
    )
