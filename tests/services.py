"""Real PostgreSQL and Redis servers for tests: the machine's shared ones, and throwaway ones.

Tests find the shared servers through ``TELNYX_TEST_POSTGRES_URL`` and ``TELNYX_TEST_REDIS_URL``
(defaulting to the local servers). When one cannot be reached, a test that needs it skips
with a message naming the variable, or fails when ``CI`` is set. A test that stops or
restarts a server uses a throwaway one on a free port, never the shared one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

POSTGRES_VARIABLE = "TELNYX_TEST_POSTGRES_URL"
REDIS_VARIABLE = "TELNYX_TEST_REDIS_URL"
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def unavailable(variable: str, url: str, reason: str) -> NoReturn:
    """Skip (or, under ``CI``, fail) a test whose server cannot be reached."""
    message = f"{variable}: no server at {url} ({reason}); set {variable} to a reachable server"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_VARIABLE, DEFAULT_POSTGRES_URL)


def redis_base_url() -> str:
    return os.environ.get(REDIS_VARIABLE, DEFAULT_REDIS_URL)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq's ``options`` set so that every connection uses ``schema`` first."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("options="))
    option = f"options=-csearch_path%3D{schema}"
    return urlunsplit(parts._replace(query=f"{query}&{option}" if query else option))


@contextlib.contextmanager
def fresh_postgres_schema(base_url: str | None = None) -> Iterator[str]:
    """A new schema on the shared server, dropped afterwards; yields a URL that uses it."""
    import psycopg

    url = base_url or postgres_base_url()
    schema = f"tgm_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        unavailable(
            POSTGRES_VARIABLE,
            url,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "error",
        )
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield with_search_path(url, schema)
        finally:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextlib.contextmanager
def fresh_redis_namespace(base_url: str | None = None) -> Iterator[tuple[str, str]]:
    """A new key prefix on the shared Redis, deleted afterwards; yields (url, namespace)."""
    import redis

    url = base_url or redis_base_url()
    namespace = f"tgm-test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable(REDIS_VARIABLE, url, str(exc))
    try:
        yield url, namespace
    finally:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root; the machine has a postgres user for them.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class ThrowawayPostgres:
    """A PostgreSQL cluster of a test's own, on a free port, that the test may stop and start."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="tgm-pg-"))
        self.data = self.directory / "data"
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        subprocess.run(
            _as_postgres(
                ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> ThrowawayPostgres:
        opts = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-w",
                    "-l",
                    str(self.directory / "log"),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return self

    def stop(self, *, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def close(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class ThrowawayRedis:
    """A redis-server of a test's own, on a free port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ThrowawayRedis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return self
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        self.stop()
