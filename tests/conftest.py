from __future__ import annotations

import logging
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import telnyx_group_mms as tgm

from .scripted_server import ScriptedServer
from .services import (
    POSTGRES_VARIABLE,
    REDIS_VARIABLE,
    ThrowawayPostgres,
    ThrowawayRedis,
    fresh_postgres_schema,
    fresh_redis_namespace,
    unavailable,
)

# The pytest plugin is tested as a user would meet it: in a pytest run of its own.
pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    # A test run started as a background job of a non-interactive shell (as some CI
    # runners do) inherits SIGINT ignored, and so would every process it starts. The
    # Ctrl-C tests need what a terminal gives: SIGINT raising KeyboardInterrupt.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


FROM = "+13125551234"
TO = ["+18655551234", "+14155551234"]
KEY = "KEY_test_secret_0123456789"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted loopback server, on its own thread so sync and async tests share it."""
    srv = ScriptedServer().start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _no_telnyx_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key or base URL must never leak into a test.
    for name in ("TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_PUBLIC_KEY"):
        monkeypatch.delenv(name, raising=False)


def fast_retry(**overrides: object) -> tgm.RetryPolicy:
    """A policy with near-zero backoff, so retry tests do not sleep."""
    settings: dict[str, object] = {"initial_backoff": 0.001, "max_backoff": 0.002}
    settings.update(overrides)
    return tgm.RetryPolicy(**settings)  # type: ignore[arg-type]


@pytest.fixture
def no_asyncio_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail on "Task was destroyed but it is pending" and friends (logged, not warned)."""
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        yield
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of the shared PostgreSQL whose connections use a fresh schema, dropped afterwards."""
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An ``idempotency_store=`` setting: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "keys.db")
    else:
        with fresh_postgres_schema() as url:
            yield url


@pytest.fixture
def redis_namespace() -> Iterator[tuple[str, str]]:
    """(url, namespace) on the shared Redis; the namespace's keys are deleted afterwards."""
    with fresh_redis_namespace() as pair:
        yield pair


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A started PostgreSQL cluster of the test's own, which it may stop and start."""
    if shutil.which("initdb") is None:
        unavailable(POSTGRES_VARIABLE, "initdb", "initdb is not on the PATH")
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    """A started redis-server of the test's own, which it may stop and start."""
    if shutil.which("redis-server") is None:
        unavailable(REDIS_VARIABLE, "redis-server", "redis-server is not on the PATH")
    server = ThrowawayRedis().start()
    try:
        yield server
    finally:
        server.close()
