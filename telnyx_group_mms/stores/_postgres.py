"""The PostgreSQL connection of the durable stores: one reading of a URL, one way to connect.

psycopg is imported here only, and only when a PostgreSQL store is used; its exceptions
leave this package as :class:`~telnyx_group_mms.errors.BackendUnavailableError`, whose text
names the host and database but never the password.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

import attrs

from ..errors import BackendUnavailableError

if TYPE_CHECKING:
    from psycopg import AsyncConnection

T = TypeVar("T")

SCHEMES: Final = ("postgresql", "postgres")
EXTRA_HINT: Final = "pip install 'telnyx-group-mms[postgres]'"
META_TABLE: Final = "telnyx_group_mms_meta"


def is_postgres_url(value: object) -> bool:
    """Whether ``value`` is a string naming a PostgreSQL server (``postgresql://`` or ``postgres://``)."""
    return isinstance(value, str) and value.split("://", 1)[0].lower() in SCHEMES and "://" in value


@attrs.frozen(kw_only=True)
class PostgresTarget:
    """A PostgreSQL URL read once: what to connect to, and how to name it without its password."""

    url: str
    host: str
    port: int | None
    database: str

    @property
    def where(self) -> str:
        """``host:port/database``, for messages (never the user's password)."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.host}{port}/{self.database}"


def parse_url(url: str, *, setting: str) -> PostgresTarget:
    """Read a ``postgresql://`` URL, refusing one that cannot name a server.

    Raises:
        BackendUnavailableError: The URL is malformed (the text names ``setting``, not the
            password).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BackendUnavailableError(
            f"{setting}: not a valid PostgreSQL URL ({redact(url)}): {exc}",
            backend="postgresql",
            where=redact(url),
        ) from None
    if parts.scheme.lower() not in SCHEMES:
        raise BackendUnavailableError(
            f"{setting}: expected a postgresql:// URL, got {redact(url)}",
            backend="postgresql",
            where=redact(url),
        )
    host = parts.hostname or "localhost"
    database = parts.path.lstrip("/") or (parts.username or "")
    return PostgresTarget(url=url, host=host, port=port, database=database)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe to print."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    user, at, hostpart = netloc.rpartition("@")
    if at and ":" in user:
        user = user.split(":", 1)[0] + ":***"
    netloc = f"{user}{at}{hostpart}"
    # A password may also ride in the query (?password=...): drop the whole query.
    tail = tail.split("?", 1)[0]
    return f"{scheme}{sep}{netloc}{slash}{tail}"


def load_driver() -> Any:
    """Import psycopg, or say in one line which extra installs it."""
    try:
        return importlib.import_module("psycopg")
    except ImportError:
        raise BackendUnavailableError(
            f"PostgreSQL support needs the postgres extra: {EXTRA_HINT}",
            backend="postgresql",
            where="",
        ) from None


async def connect(
    target: PostgresTarget, *, setting: str, connect_timeout: float = 10.0
) -> AsyncConnection[Any]:
    """Open one autocommit connection to ``target``.

    The URL goes to libpq as it is, so ``sslmode``, ``sslrootcert`` and the other libpq
    settings pass through.

    Raises:
        BackendUnavailableError: The server cannot be reached, the database does not exist,
            or the credentials are refused.
    """
    psycopg = load_driver()
    try:
        conn: AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
            target.url, autocommit=True, connect_timeout=max(1, int(connect_timeout))
        )
    except psycopg.Error as exc:
        raise BackendUnavailableError(
            f"{setting}: cannot connect to PostgreSQL at {target.where}: "
            f"{_first_line(exc, target)}",
            backend="postgresql",
            where=target.where,
        ) from None
    return conn


def _first_line(exc: BaseException, target: PostgresTarget) -> str:
    # libpq's messages can quote the conninfo; never let a password through.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = urlsplit(target.url).password
    if password:
        text = text.replace(password, "***")
    return text


async def ensure_schema(
    conn: AsyncConnection[Any], *, component: str, version: int, ddl: tuple[str, ...], where: str
) -> None:
    """Create a component's tables on first use and record its schema version.

    Many workers may start at once: an advisory lock makes one of them create the schema
    while the others wait, and a version newer than this release knows is refused.

    Raises:
        BackendUnavailableError: The stored schema is newer than this release, or the DDL failed.
    """
    psycopg = load_driver()
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"telnyx_group_mms:{component}",)
            )
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} "
                "(component text PRIMARY KEY, schema_version integer NOT NULL)"
            )
            cur = await conn.execute(
                f"SELECT schema_version FROM {META_TABLE} WHERE component = %s", (component,)
            )
            row = await cur.fetchone()
            if row is not None and int(row[0]) > version:
                raise BackendUnavailableError(
                    f"the {component} schema at {where} is version {row[0]}, "
                    f"newer than this release's {version}; "
                    "upgrade telnyx-group-mms",
                    backend="postgresql",
                    where=where,
                )
            if row is not None and int(row[0]) == version:
                # Already there: CREATE INDEX IF NOT EXISTS would still lock the table
                # against writes for a moment, while other workers are writing to it.
                return
            for statement in ddl:
                await conn.execute(statement)
            if row is None:
                await conn.execute(
                    f"INSERT INTO {META_TABLE} (component, schema_version) VALUES (%s, %s)",
                    (component, version),
                )
    except psycopg.Error as exc:
        raise BackendUnavailableError(
            f"cannot create the {component} schema at {where}: {str(exc).strip().splitlines()[0]}",
            backend="postgresql",
            where=where,
        ) from None


# Connections a forked child inherited: never used, never closed (see PostgresSession.forget).
_INHERITED: list[Any] = []


class PostgresSession:
    """The one connection of a PostgreSQL store, used by one statement sequence at a time.

    The connection is opened on first use and prepared once (``prepare``: the schema, a
    session identity); a broken one is dropped and the next call opens another. Driver
    errors leave as :class:`BackendUnavailableError`, naming the host and database.
    """

    def __init__(
        self,
        target: PostgresTarget,
        *,
        setting: str,
        prepare: Callable[[AsyncConnection[Any]], Awaitable[None]],
    ) -> None:
        self.target = target
        self._setting = setting
        self._prepare = prepare
        self._conn: AsyncConnection[Any] | None = None
        self._lock: asyncio.Lock | None = None

    async def run(
        self,
        work: Callable[[AsyncConnection[Any]], Awaitable[T]],
        *,
        consequence: str = "nothing was sent",
    ) -> T:
        """``work(connection)``, alone on the connection.

        Raises:
            BackendUnavailableError: The server cannot be reached, or a statement failed
                (the text ends with ``consequence``).
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        psycopg = load_driver()
        async with self._lock:
            db = await self._connection()
            try:
                return await work(db)
            except psycopg.Error as exc:
                if db.closed or db.broken:
                    self._conn = None
                raise BackendUnavailableError(
                    f"{self._setting}: PostgreSQL at {self.target.where} failed: "
                    f"{_first_line(exc, self.target)}; {consequence}",
                    backend="postgresql",
                    where=self.target.where,
                ) from None

    @property
    def is_open(self) -> bool:
        """Whether the connection is open (after a failure: whether it survived)."""
        return self._conn is not None and not self._conn.closed

    async def _connection(self) -> AsyncConnection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        db = await connect(self.target, setting=self._setting)
        try:
            await self._prepare(db)
        except BaseException:
            await db.close()
            raise
        self._conn = db
        return db

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    def forget(self) -> None:
        """In a forked child: drop the parent's connection without closing it.

        Closing it here would end the parent's database session, on the socket both
        processes share; it is kept, unused, for the life of the child.
        """
        if self._conn is not None:
            _INHERITED.append(self._conn)
            self._conn = None
        self._lock = None
