"""The stores' PostgreSQL connection: one-line errors naming host and database, never a password."""

from __future__ import annotations

import asyncio

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.stores import _postgres

from .services import free_port


def test_is_postgres_url_accepts_both_schemes_only() -> None:
    assert _postgres.is_postgres_url("postgresql://h/db")
    assert _postgres.is_postgres_url("POSTGRES://h/db")
    assert not _postgres.is_postgres_url("ledger.sqlite")
    assert not _postgres.is_postgres_url("redis://h")
    assert not _postgres.is_postgres_url(None)


def test_redact_hides_the_password_in_userinfo_and_query() -> None:
    assert (
        _postgres.redact("postgresql://bob:hunter2@db.example:5433/app")
        == "postgresql://bob:***@db.example:5433/app"
    )
    assert "hunter2" not in _postgres.redact("postgresql://bob@h/app?password=hunter2")


def test_a_bad_port_is_one_line_naming_the_setting() -> None:
    with pytest.raises(tgm.BackendUnavailableError) as info:
        _postgres.parse_url("postgresql://bob:hunter2@h:99999/app", setting="--ledger")
    assert str(info.value).startswith("--ledger: not a valid PostgreSQL URL")
    assert "hunter2" not in str(info.value) and "\n" not in str(info.value)


def test_an_unreachable_server_names_host_and_database_not_the_password() -> None:
    port = free_port()
    target = _postgres.parse_url(
        f"postgresql://bob:hunter2@127.0.0.1:{port}/app", setting="--ledger"
    )
    with pytest.raises(tgm.BackendUnavailableError) as info:
        asyncio.run(_postgres.connect(target, setting="--ledger", connect_timeout=2))
    text = str(info.value)
    assert f"127.0.0.1:{port}/app" in text and "hunter2" not in text and "\n" not in text
    assert info.value.backend == "postgresql" and info.value.where == f"127.0.0.1:{port}/app"
    assert info.value.__cause__ is None


def test_a_missing_database_is_one_line(postgres_url: str) -> None:
    missing = postgres_url.split("?")[0].rsplit("/", 1)[0] + "/tgm_no_such_database"
    target = _postgres.parse_url(missing, setting="idempotency_store")
    with pytest.raises(tgm.BackendUnavailableError, match="tgm_no_such_database"):
        asyncio.run(_postgres.connect(target, setting="idempotency_store"))


def test_schema_is_created_once_and_a_newer_version_is_refused(postgres_url: str) -> None:
    target = _postgres.parse_url(postgres_url, setting="--ledger")
    ddl = ("CREATE TABLE IF NOT EXISTS probe_rows (n integer)",)

    async def scenario() -> None:
        conns = [await _postgres.connect(target, setting="--ledger") for _ in range(4)]
        await asyncio.gather(
            *(
                _postgres.ensure_schema(
                    c, component="probe", version=1, ddl=ddl, where=target.where
                )
                for c in conns
            )
        )
        cur = await conns[0].execute(
            "SELECT schema_version FROM telnyx_group_mms_meta WHERE component = 'probe'"
        )
        assert await cur.fetchall() == [(1,)]
        with pytest.raises(tgm.BackendUnavailableError, match="newer than this release"):
            await _postgres.ensure_schema(
                conns[0], component="probe", version=0, ddl=ddl, where=target.where
            )
        for c in conns:
            await c.close()

    asyncio.run(scenario())
