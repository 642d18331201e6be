"""The PostgreSQL bulk ledger's tables and statements (psycopg ``%(name)s`` parameters).

Three tables: a batch (its generation, the digest of the input that started it, its
``retry_unknown`` setting), its workers (each with a lease on the server's clock), and its
rows. A row's ``holder`` is the worker that claimed it; ``attempts`` counts the times it
was committed ``in_flight`` and fences every outcome; ``decided`` is the generation in
which it was last given an outcome, so a row that failed or went unknown in this
generation is not taken again by another worker of the same generation.
"""

from __future__ import annotations

from typing import Final

__all__: list[str] = []  # internal: used by the PostgreSQL ledger

SCHEMA_VERSION: Final = 1
BATCHES: Final = "telnyx_group_mms_bulk_batches"
WORKERS: Final = "telnyx_group_mms_bulk_workers"
ROWS: Final = "telnyx_group_mms_bulk_rows"
# The server's clock, in seconds: the hosts' clocks need not agree.
NOW: Final = "extract(epoch FROM clock_timestamp())::float8"


def _sql(text: str) -> str:
    return text.format(b=BATCHES, w=WORKERS, r=ROWS, now=NOW)


DDL: Final = tuple(
    _sql(statement)
    for statement in (
        "CREATE TABLE IF NOT EXISTS {b} ("
        " name TEXT PRIMARY KEY, generation INTEGER NOT NULL, input_digest TEXT NOT NULL,"
        " retry_unknown BOOLEAN NOT NULL, created DOUBLE PRECISION NOT NULL,"
        " updated DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {w} ("
        " id TEXT PRIMARY KEY, batch TEXT NOT NULL REFERENCES {b} (name) ON DELETE CASCADE,"
        " host TEXT NOT NULL, pid INTEGER NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('active', 'done', 'expired')),"
        " generation INTEGER NOT NULL, retry_unknown BOOLEAN NOT NULL,"
        " lease DOUBLE PRECISION NOT NULL, started DOUBLE PRECISION NOT NULL,"
        " lease_until DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {w}_by_batch ON {w} (batch, state)",
        "CREATE TABLE IF NOT EXISTS {r} ("
        " batch TEXT NOT NULL REFERENCES {b} (name) ON DELETE CASCADE, id TEXT NOT NULL,"
        " line INTEGER NOT NULL, body TEXT,"
        " state TEXT NOT NULL"
        " CHECK (state IN ('pending', 'in_flight', 'sent', 'failed', 'unknown')),"
        " generation INTEGER NOT NULL, decided INTEGER NOT NULL DEFAULT 0,"
        " holder TEXT, worker TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
        " message_id TEXT, error_code TEXT, error_detail TEXT,"
        " updated DOUBLE PRECISION NOT NULL, PRIMARY KEY (batch, id))",
        "CREATE INDEX IF NOT EXISTS {r}_by_line ON {r} (batch, generation, line, id)",
        "CREATE INDEX IF NOT EXISTS {r}_claimable ON {r} (batch, generation, line)"
        " WHERE holder IS NULL AND body IS NOT NULL"
        " AND state IN ('pending', 'failed', 'unknown')",
        "CREATE INDEX IF NOT EXISTS {r}_held ON {r} (batch, holder) WHERE holder IS NOT NULL",
    )
)

# -- joining a batch -------------------------------------------------------------------

ADD_BATCH: Final = _sql(
    "INSERT INTO {b} (name, generation, input_digest, retry_unknown, created, updated)"
    " VALUES (%(batch)s, 0, '', false, {now}, {now}) ON CONFLICT (name) DO NOTHING"
)
LOCK_BATCH: Final = _sql(
    "SELECT generation, input_digest, retry_unknown FROM {b} WHERE name = %(batch)s FOR UPDATE"
)
# Live workers other than the caller, and those of them run with another retry_unknown.
LIVE_OTHERS: Final = _sql(
    "SELECT count(*), count(*) FILTER (WHERE retry_unknown <> %(retry)s) FROM {w}"
    " WHERE batch = %(batch)s AND state = 'active' AND lease_until > {now} AND id <> %(me)s"
)
NEW_GENERATION: Final = _sql(
    "UPDATE {b} SET generation = generation + 1, input_digest = %(digest)s,"
    " retry_unknown = %(retry)s, updated = {now} WHERE name = %(batch)s RETURNING generation"
)
# New rows start pending, a bad row (no body) failed; known rows keep their state, and a
# row not sent yet takes the latest body (webhook settings are not part of its id).
REGISTER: Final = _sql(
    "INSERT INTO {r} AS r (batch, id, line, body, state, error_code, error_detail,"
    " generation, updated)"
    " SELECT %(batch)s, u.id, u.line, u.body,"
    " CASE WHEN u.body IS NULL THEN 'failed' ELSE 'pending' END,"
    " CASE WHEN u.body IS NULL THEN 'invalid_row' END, u.reason, %(gen)s, {now}"
    " FROM unnest(%(ids)s::text[], %(lines)s::int[], %(bodies)s::text[], %(reasons)s::text[])"
    " AS u (id, line, body, reason)"
    " ON CONFLICT (batch, id) DO UPDATE SET line = excluded.line,"
    " generation = excluded.generation,"
    " body = CASE WHEN r.state = 'sent' OR excluded.body IS NULL THEN r.body"
    " ELSE excluded.body END,"
    " error_detail = CASE WHEN excluded.body IS NULL THEN excluded.error_detail"
    " ELSE r.error_detail END"
)
KNOWN_ROWS: Final = _sql(
    "SELECT count(*) FROM {r} WHERE batch = %(batch)s AND generation = %(gen)s"
    " AND id = ANY(%(ids)s::text[])"
)
ADD_WORKER: Final = _sql(
    "INSERT INTO {w} (id, batch, host, pid, state, generation, retry_unknown, lease, started,"
    " lease_until) VALUES (%(me)s, %(batch)s, %(host)s, %(pid)s, 'active', %(gen)s,"
    " %(retry)s, %(lease)s, {now}, {now} + %(lease)s)"
)

# -- a worker's lease ------------------------------------------------------------------

_LIVE: Final = _sql(
    "EXISTS (SELECT 1 FROM {w} WHERE id = %(me)s AND state = 'active' AND lease_until > {now})"
)
# An expired lease is not renewed: others may already have decided for its rows.
RENEW: Final = _sql(
    "UPDATE {w} SET lease_until = {now} + lease"
    " WHERE id = %(me)s AND state = 'active' AND lease_until > {now} RETURNING id"
)
LEASE_LIVE: Final = "SELECT " + _LIVE
# Expired workers: their rows in flight become unknown (never pending: they may have
# gone out), the rows they claimed but had not started go back to be claimed.
REAP: Final = _sql(
    "WITH dead AS (UPDATE {w} SET state = 'expired' WHERE batch = %(batch)s"
    " AND state = 'active' AND lease_until < {now} RETURNING id),"
    " gone AS (SELECT id FROM dead UNION"
    " SELECT id FROM {w} WHERE batch = %(batch)s AND state <> 'active'),"
    " lost AS (UPDATE {r} SET state = 'unknown', holder = NULL, decided = %(gen)s,"
    " error_code = 'worker_lost', error_detail = %(why)s, updated = {now}"
    " WHERE batch = %(batch)s AND holder IN (SELECT id FROM gone) AND state = 'in_flight'"
    " RETURNING 1),"
    " back AS (UPDATE {r} SET holder = NULL WHERE batch = %(batch)s"
    " AND holder IN (SELECT id FROM gone) AND state <> 'in_flight' RETURNING 1)"
    " SELECT (SELECT count(*) FROM dead), (SELECT count(*) FROM lost),"
    " (SELECT count(*) FROM back)"
)
HELD_BY_OTHERS: Final = _sql(
    "SELECT count(*) FROM {r} WHERE batch = %(batch)s AND holder IS NOT NULL AND holder <> %(me)s"
)
# A clean exit: rows still in flight (an interruption) become unknown, claims go back.
LEAVE: Final = (
    _sql(
        "UPDATE {r} SET state = 'unknown', holder = NULL, decided = %(gen)s,"
        " error_code = 'interrupted', error_detail = %(why)s, updated = {now}"
        " WHERE batch = %(batch)s AND holder = %(me)s AND state = 'in_flight'"
    ),
    _sql("UPDATE {r} SET holder = NULL WHERE batch = %(batch)s AND holder = %(me)s"),
    _sql("UPDATE {w} SET state = 'done', lease_until = {now} WHERE id = %(me)s"),
)

# -- claiming and sending --------------------------------------------------------------

_CLAIMABLE: Final = (
    "holder IS NULL AND body IS NOT NULL AND (state = 'pending'"
    " OR (state = 'failed' AND decided < %(gen)s)"
    " OR (%(retry)s AND state = 'unknown' AND decided < %(gen)s))"
)
CLAIMABLE_COUNT: Final = _sql(
    "SELECT count(*) FROM {r} WHERE batch = %(batch)s AND generation = %(gen)s AND " + _CLAIMABLE
)
CLAIM: Final = _sql(
    "WITH c AS (SELECT id FROM {r} WHERE batch = %(batch)s AND generation = %(gen)s"
    " AND line > %(after)s AND "
    + _CLAIMABLE
    + " AND "
    + _LIVE
    + " ORDER BY line LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
    " UPDATE {r} AS r SET holder = %(me)s FROM c WHERE r.batch = %(batch)s AND r.id = c.id"
    " RETURNING r.id, r.line, r.body, r.attempts"
)
# Committed right before the POST, only by the row's holder with a live lease. A mark
# already made (its commit's answer lost with the connection) is made again harmlessly.
MARK: Final = _sql(
    "UPDATE {r} AS r SET state = 'in_flight', attempts = v.attempt, worker = %(me)s,"
    " updated = {now} FROM unnest(%(ids)s::text[], %(attempts)s::int[]) AS v (id, attempt)"
    " WHERE r.batch = %(batch)s AND r.id = v.id AND r.holder = %(me)s"
    " AND ((r.attempts = v.attempt - 1 AND r.state IN ('pending', 'failed', 'unknown'))"
    " OR (r.state = 'in_flight' AND r.attempts = v.attempt)) AND " + _LIVE + " RETURNING r.id"
)
# Fenced: only the holder, for the attempt it made, while the row is still in flight.
# A worker that returns after others decided (its lease expired) writes nothing. The
# second arm finds the write again when its commit's answer was lost with the connection.
RECORD: Final = _sql(
    "UPDATE {r} AS r SET state = v.state, message_id = v.message_id, error_code = v.code,"
    " error_detail = v.detail, holder = NULL, decided = %(gen)s, updated = {now}"
    " FROM unnest(%(ids)s::text[], %(attempts)s::int[], %(states)s::text[],"
    " %(message_ids)s::text[], %(codes)s::text[], %(details)s::text[])"
    " AS v (id, attempt, state, message_id, code, detail)"
    " WHERE r.batch = %(batch)s AND r.id = v.id AND r.attempts = v.attempt"
    " AND ((r.holder = %(me)s AND r.state = 'in_flight')"
    " OR (r.holder IS NULL AND r.worker = %(me)s AND r.state = v.state))"
    " RETURNING r.id"
)

# -- reading ---------------------------------------------------------------------------

BATCH: Final = _sql("SELECT generation, retry_unknown FROM {b} WHERE name = %(batch)s")
COUNTS: Final = _sql(
    "SELECT CASE WHEN body IS NULL THEN 'bad' ELSE state END, count(*) FROM {r}"
    " WHERE batch = %(batch)s AND generation = %(gen)s GROUP BY 1"
)
OUTCOMES: Final = _sql(
    "SELECT line, state, message_id, error_code, error_detail, id FROM {r}"
    " WHERE batch = %(batch)s AND generation = %(gen)s AND (line, id) > (%(line)s, %(id)s)"
    " ORDER BY line, id LIMIT %(n)s"
)
WORKERS_OF: Final = _sql(
    "SELECT w.id, w.host, w.pid, w.lease_until - {now},"
    " (SELECT count(*) FROM {r} r WHERE r.batch = w.batch AND r.worker = w.id"
    " AND r.state = 'sent' AND r.generation = w.generation)"
    " FROM {w} w WHERE w.batch = %(batch)s AND w.state = 'active' AND w.lease_until > {now}"
    " ORDER BY w.started"
)
