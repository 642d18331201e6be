"""A fresh PostgreSQL schema for one benchmark run, and its removal: shared by the benchmarks."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit


def fresh_schema(url: str) -> tuple[str, str] | None:
    """A new schema on ``url``'s server: (a URL whose connections use it, its name).

    ``None`` when psycopg is missing or the server cannot be reached.
    """
    try:
        import psycopg
    except ImportError:
        return None
    schema = f"tgm_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error:
        return None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=f"options=-csearch_path%3D{schema}")), schema


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
