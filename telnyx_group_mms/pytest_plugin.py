"""pytest plugin: a ``telnyx_sandbox`` fixture for your own test suite.

Registered through the ``pytest11`` entry point, so installing the package is enough::

    def test_sends(telnyx_sandbox):
        with Telnyx(api_key="test", base_url=telnyx_sandbox.base_url) as client:
            client.messages.send_group_mms(from_="+13125551234", to=["+18655551234"], text="hi")
        assert len(telnyx_sandbox.messages) == 1

Importing this module does nothing else: the sandbox itself is imported by the fixtures,
and only by tests that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, ParamSpec

import pytest

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["telnyx_sandbox", "telnyx_sandbox_factory"]

P = ParamSpec("P")


def _starting(make: Callable[P, Sandbox], started: list[Sandbox]) -> Callable[P, Sandbox]:
    # Typed like the Sandbox constructor, so a type checker sees the factory's options.
    def start(*args: P.args, **kwargs: P.kwargs) -> Sandbox:
        sandbox = make(*args, **kwargs).start()
        started.append(sandbox)
        return sandbox

    return start


@pytest.fixture
def telnyx_sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with your own settings: ``telnyx_sandbox_factory(api_key="k", mps=5)``.

    Takes the keyword arguments of :class:`~telnyx_group_mms.sandbox.Sandbox`. Each
    sandbox runs on its own thread, so sync and async tests can use it, and is stopped
    when the test ends.
    """
    from .sandbox import Sandbox

    started: list[Sandbox] = []
    try:
        yield _starting(Sandbox, started)
    finally:
        for sandbox in reversed(started):
            sandbox.stop()


@pytest.fixture
def telnyx_sandbox(telnyx_sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A running sandbox with default settings: point a client at its ``base_url``."""
    return telnyx_sandbox_factory()
