"""The test fixtures reach real servers, isolate each test, and leave nothing behind."""

from __future__ import annotations

import psycopg
import pytest
import redis

from .services import ThrowawayPostgres, ThrowawayRedis, with_search_path


def test_postgres_url_fixture_uses_a_schema_of_its_own(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE probe (n integer)")
        row = conn.execute("SELECT current_schema()").fetchone()
    assert row is not None and row[0].startswith("tgm_test_")


def test_with_search_path_keeps_other_query_settings() -> None:
    url = with_search_path("postgresql://u@h/db?sslmode=disable", "s1")
    assert url == "postgresql://u@h/db?sslmode=disable&options=-csearch_path%3Ds1"


def test_redis_namespace_fixture_deletes_its_keys() -> None:
    from .services import fresh_redis_namespace

    with fresh_redis_namespace() as (url, namespace):
        client = redis.Redis.from_url(url)
        client.set(f"{namespace}:probe", "1")
    assert client.exists(f"{namespace}:probe") == 0
    client.close()


def test_throwaway_postgres_stops_and_starts(throwaway_postgres: ThrowawayPostgres) -> None:
    with psycopg.connect(throwaway_postgres.url, connect_timeout=3) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    throwaway_postgres.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(throwaway_postgres.url, connect_timeout=2)
    throwaway_postgres.start()
    with psycopg.connect(throwaway_postgres.url, connect_timeout=3) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_throwaway_redis_stops_and_starts(throwaway_redis: ThrowawayRedis) -> None:
    client = redis.Redis.from_url(throwaway_redis.url, socket_connect_timeout=1)
    assert client.ping()
    throwaway_redis.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    throwaway_redis.start()
    assert client.ping()
    client.close()
