"""Which requests the sandbox serves at all: those addressed to it, not to another site.

A web page can reach a server on the visitor's machine by DNS rebinding: its own name
comes to resolve to 127.0.0.1, and the browser, which sees the same origin, lets the
page read the answers. Such a request still carries the page's name in ``Host``. So
the sandbox answers only requests whose ``Host`` is a name or an address it listens
on (and ``localhost``), and its own control routes take a state-changing request
only with a JSON body, which no cross-origin form or beacon can send.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ._app import errors_response
from ._control import CONTROL_PREFIX
from ._wire import api_error

__all__ = ["ANY_ADDRESS", "HostPolicy", "host_guard"]

#: Addresses that mean "every interface", each with the loopback address a client on
#: this machine reaches it by.
ANY_ADDRESS: Final = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}
# Methods that change nothing, which a browser may send anywhere anyway.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_VERDICTS_KEPT = 64
# Characters a Host header never holds, though urllib would read past them.
_NOT_IN_HOST = frozenset("/?#@\\ \t")


def _normal(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@attrs.frozen(kw_only=True)
class HostPolicy:
    """The ``Host`` headers the sandbox answers.

    Attributes:
        names: Host names and addresses accepted, lowercased, without brackets.
        any_ip: Also any IP address: the sandbox listens on every interface, and an
            address, unlike a name, cannot be rebound to another site.
    """

    names: frozenset[str]
    any_ip: bool

    @classmethod
    def listening_on(cls, host: str, *, extra: Iterable[str] = ()) -> HostPolicy:
        """The policy of a sandbox listening on ``host``, also answering ``extra`` names."""
        names = {"localhost", *(_normal(name) for name in extra)}
        any_ip = host in ANY_ADDRESS
        if any_ip:
            names.add(socket.gethostname().lower())
        else:
            names.add(_normal(host))
        if "localhost" in names:
            names.update(("127.0.0.1", "::1"))
        return cls(names=frozenset(names), any_ip=any_ip)

    def allows(self, header: str | None) -> bool:
        """True when a request with this ``Host`` header (``None``: none) is served."""
        if not header or any(c in _NOT_IN_HOST for c in header):
            return False
        try:
            parts = urlsplit(f"//{header}")
            parts.port  # noqa: B018 - raises for a port that is not one
        except ValueError:
            return False
        if not parts.hostname:
            return False
        host = _normal(parts.hostname)
        return host in self.names or (self.any_ip and _is_ip(host))

    def describe(self) -> str:
        """The names it accepts, for an error message."""
        shown = sorted(self.names) + (["any IP address"] if self.any_ip else [])
        return ", ".join(shown)


def host_guard(policy: HostPolicy) -> Middleware:
    """The middleware that refuses requests not addressed to the sandbox (421) and
    state-changing control requests without a JSON body (415)."""

    # A client sends the same Host every time: decide once per value (a few kept).
    verdicts: dict[str | None, bool] = {}

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        allowed = verdicts.get(host)
        if allowed is None:
            if len(verdicts) >= _VERDICTS_KEPT:
                verdicts.clear()
            allowed = verdicts[host] = policy.allows(host)
        if not allowed:
            detail = (
                f"The Host header does not name this sandbox; it answers to {policy.describe()}."
            )
            return errors_response(421, [api_error("10015", detail)], _request_id())
        if (
            request.path.startswith(CONTROL_PREFIX)
            and request.method not in _SAFE_METHODS
            and request.content_type != "application/json"
        ):
            detail = "A request that changes the sandbox must have a JSON body."
            return errors_response(415, [api_error("10015", detail)], _request_id())
        return await handler(request)

    return guard


def _request_id() -> dict[str, str]:
    return {"x-request-id": str(uuid.uuid4())}
