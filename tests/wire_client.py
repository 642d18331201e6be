"""Raw HTTP to a sandbox, bypassing the SDK: to see exactly what the sandbox answers."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .conftest import FROM, TO

GOOD_BODY: dict[str, Any] = {"from": FROM, "to": TO, "text": "Hello"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.json()["errors"]
        return errors

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.errors]


def post(
    base_url: str,
    body: bytes | dict[str, Any] | None = None,
    *,
    path: str = "/messages/group_mms",
    key: str | None = "test-key",
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> Answer:
    """One request on a fresh connection; a dict body is sent as JSON."""
    raw = (
        json.dumps(GOOD_BODY if body is None else body).encode()
        if not isinstance(body, bytes)
        else body
    )
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    if content_type is not None:
        sent["Content-Type"] = content_type
    return _exchange(base_url, method, urlsplit(base_url).path + path, raw, sent)


def control(base_url: str, route: str, *, key: str | None = "test-key", query: str = "") -> Answer:
    """``GET /_sandbox/<route>`` of the sandbox whose API root is ``base_url``."""
    sent = {} if key is None else {"Authorization": f"Bearer {key}"}
    target = f"/_sandbox/{route}" + (f"?{query}" if query else "")
    return _exchange(base_url, "GET", target, None, sent)


def _exchange(
    base_url: str, method: str, target: str, body: bytes | None, headers: dict[str, str]
) -> Answer:
    """One request on a fresh connection."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return Answer(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=response.read(),
        )
    finally:
        conn.close()
