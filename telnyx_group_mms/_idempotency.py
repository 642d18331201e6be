"""Sends under an idempotency key: claim the key durably, POST, record the outcome.

The key never leaves this process: Telnyx declares no idempotency header for this
endpoint, so nothing of it is sent. What makes a second call safe is the record,
committed before the POST, that every later call with the key reads first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeAlias

from ._wire import json_codec
from ._wire.digest import request_digest
from .errors import (
    APIError,
    BackendUnavailableError,
    IdempotencyKeyReusedError,
    Outcome,
    OutcomeUnknownError,
    RequestValidationError,
    SendInProgressError,
    TelnyxError,
)
from .models import GroupMmsRequest, Message
from .stores._keys import ClaimKind, IdempotencyStore, KeyStatus
from .stores._postgres import is_postgres_url
from .stores._states import SendState

if TYPE_CHECKING:
    import cattrs

    from ._config import ClientConfig
    from .stores._postgres_keys import PostgresIdempotencyStore
    from .stores._sqlite_keys import SqliteIdempotencyStore

__all__ = ["MAX_KEY_LENGTH", "AsyncIdempotencyKeys", "IdempotencyStoreSetting"]

logger = logging.getLogger("telnyx_group_mms")

#: The longest idempotency key accepted, in characters.
MAX_KEY_LENGTH: Final = 255
# While another holder sends, look again after this long, doubling up to the cap.
_FIRST_LOOK: Final = 0.05
_LONGEST_LOOK: Final = 0.5

#: What ``idempotency_store=`` takes.
IdempotencyStoreSetting: TypeAlias = str | os.PathLike[str] | IdempotencyStore


def open_store(
    value: IdempotencyStoreSetting,
) -> tuple[IdempotencyStore, SqliteIdempotencyStore | PostgresIdempotencyStore | None]:
    """The store an ``idempotency_store=`` setting names, and it again if the client owns it.

    No I/O: a store connects on its first use.

    Raises:
        TelnyxError: The setting is none of a path, a ``postgresql://`` URL or a store.
    """
    if is_postgres_url(value):
        from .stores._postgres_keys import PostgresIdempotencyStore

        postgres = PostgresIdempotencyStore(str(value))
        return postgres, postgres
    if isinstance(value, str | os.PathLike):
        from .stores._sqlite_keys import SqliteIdempotencyStore

        if not str(value):
            raise TelnyxError("idempotency_store: an empty path; give a file path or a URL")
        sqlite = SqliteIdempotencyStore(value)
        return sqlite, sqlite
    if isinstance(value, IdempotencyStore):
        return value, None
    raise TelnyxError(
        "idempotency_store must be a file path (SQLite), a postgresql:// URL or an "
        f"IdempotencyStore, got {type(value).__name__}"
    )


def hold_for(config: ClientConfig) -> float:
    """The longest one send may take, every attempt and wait included, plus a margin:
    past it, an ``IN_FLIGHT`` record whose holder cannot be checked reads as unknown."""
    retry = config.retry
    waits = (retry.max_attempts - 1) * max(retry.max_backoff, retry.max_retry_after)
    return retry.max_attempts * config.timeout + waits + 30.0


def check_key(key: object) -> str:
    """``key``, if it is a usable idempotency key.

    Raises:
        RequestValidationError: It is not a string of 1 to 255 characters.
    """
    if not isinstance(key, str):
        raise RequestValidationError(
            f"idempotency_key must be a string, got {type(key).__name__}", field="idempotency_key"
        )
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise RequestValidationError(
            f"idempotency_key must be 1 to {MAX_KEY_LENGTH} characters, got {len(key)}",
            field="idempotency_key",
        )
    return key


class KeyedSends:
    """A client's sends under idempotency keys, through one store and one key scope."""

    def __init__(
        self,
        setting: IdempotencyStoreSetting,
        *,
        config: ClientConfig,
    ) -> None:
        self.store, self._owned = open_store(setting)
        self._scope = config.scope
        self._hold = hold_for(config)
        self._wait = config.timeout
        self._retry_unknown = config.retry.retry_unknown_outcome

    def derived(self, config: ClientConfig) -> KeyedSends:
        """The same store and scope for a client from ``with_options``, timed by its settings;
        it does not close the store."""
        twin = object.__new__(KeyedSends)
        twin.store, twin._owned, twin._scope = self.store, None, self._scope
        twin._hold, twin._wait = hold_for(config), config.timeout
        twin._retry_unknown = config.retry.retry_unknown_outcome
        return twin

    async def send(
        self,
        request: GroupMmsRequest,
        key: str,
        *,
        post: Callable[[], Awaitable[Message]],
        converter: cattrs.Converter,
    ) -> Message:
        """Send ``request`` under ``key``, at most once for as long as the record is kept.

        Raises:
            OutcomeUnknownError: An earlier send under the key may have gone out.
            SendInProgressError: Another send under the key outlasted the wait.
            IdempotencyKeyReusedError: The key was first used for another request.
            BackendUnavailableError: The store cannot be used; nothing was sent.
        """
        digest = request_digest(request)
        owner = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._wait
        look = _FIRST_LOOK
        while True:
            claim = await self.store.claim(
                scope=self._scope, key=key, digest=digest, owner=owner, hold=self._hold
            )
            if claim.kind is ClaimKind.CLAIMED:
                break
            if claim.kind is ClaimKind.SENT:
                return converter.structure(
                    json_codec.loads((claim.message or "{}").encode()), Message
                )
            if claim.kind is ClaimKind.REUSED:
                raise IdempotencyKeyReusedError(key)
            if claim.kind is ClaimKind.UNKNOWN:
                raise OutcomeUnknownError(key)
            left = give_up - loop.time()
            if left <= 0:
                raise SendInProgressError(key, waited=self._wait)
            await asyncio.sleep(min(look, left))
            look = min(look * 2, _LONGEST_LOOK)
        try:
            message = await post()
        except BaseException as exc:
            outcome = self._outcome_of(exc)
            state = SendState.UNKNOWN if outcome is Outcome.UNKNOWN else SendState.FAILED
            await self._settle(key, owner, state, error=_describe(exc))
            raise
        text = json_codec.dumps(converter.unstructure(message)).decode()
        await self._settle(key, owner, SendState.SENT, message=text)
        return message

    def _outcome_of(self, error: BaseException) -> Outcome:
        if isinstance(error, APIError):
            return error.outcome
        if isinstance(error, BackendUnavailableError) and not self._retry_unknown:
            # A shared rate limit that failed stops a send before its POST; retries
            # follow only safe failures, so no earlier attempt can have gone out.
            return Outcome.SAFE
        # Cancelled mid-send, or a failure that is not Telnyx's answer: it may have gone.
        return Outcome.UNKNOWN

    async def _settle(
        self,
        key: str,
        owner: str,
        state: SendState,
        *,
        message: str | None = None,
        error: str | None = None,
    ) -> None:
        try:
            await self.store.settle(
                scope=self._scope, key=key, owner=owner, state=state, message=message, error=error
            )
        except Exception as exc:  # noqa: BLE001 - the send's own result or error matters more
            # The record stays in flight; once its holder is gone it reads as unknown,
            # so the next call with the key sends nothing.
            logger.warning(
                "could not record the outcome (%s) of idempotency key %r: %s", state, key, exc
            )

    async def status(self, key: str) -> KeyStatus | None:
        return await self.store.status(scope=self._scope, key=check_key(key))

    async def resolve(self, key: str, *, message_id: str) -> bool:
        if not isinstance(message_id, str) or not message_id:
            raise ValueError(f"message_id must be a non-empty string, got {message_id!r}")
        message = json_codec.compact({"id": message_id})
        return await self.store.resolve(scope=self._scope, key=check_key(key), message=message)

    async def mark_not_sent(self, key: str) -> bool:
        return await self.store.mark_not_sent(scope=self._scope, key=check_key(key))

    async def aclose(self) -> None:
        if self._owned is not None:
            await self._owned.aclose()

    def forget(self) -> None:
        """In a forked child: drop the parent's connection unclosed (see the stores)."""
        if self._owned is not None:
            self._owned.forget()


def _describe(error: BaseException) -> str:
    # Never the text: Telnyx echoes phone numbers in its details.
    code = getattr(error, "code", None)
    status = getattr(error, "status_code", None)
    parts = [type(error).__name__]
    if status is not None:
        parts.append(str(status))
    if code:
        parts.append(f"code {code}")
    return " ".join(parts)


NO_STORE: Final = (
    "idempotency_key needs a client built with idempotency_store= (a file path, a "
    "postgresql:// URL or an IdempotencyStore); nothing was sent"
)


class AsyncIdempotencyKeys:
    """The records of a client's idempotency keys; reached as ``client.idempotency_keys``.

    For settling a key whose send's outcome is unknown (:class:`OutcomeUnknownError`),
    once Telnyx's message records have told what happened.
    """

    def __init__(self, keys: KeyedSends | None) -> None:
        self._keys = keys

    def _sends(self) -> KeyedSends:
        if self._keys is None:
            raise TelnyxError(NO_STORE.replace("idempotency_key needs", "idempotency_keys need"))
        return self._keys

    async def status(self, key: str) -> KeyStatus | None:
        """Where ``key`` stands (``SENT``, ``FAILED``, ``IN_FLIGHT`` or ``UNKNOWN``), or
        ``None`` when no record of it is kept."""
        return await self._sends().status(key)

    async def resolve(self, key: str, *, message_id: str) -> bool:
        """Record an unknown key as sent, as message ``message_id``: later sends under it
        return a :class:`Message` with that id, and send nothing.

        Returns:
            False when the key's outcome was not unknown (nothing changed).
        """
        return await self._sends().resolve(key, message_id=message_id)

    async def mark_not_sent(self, key: str) -> bool:
        """Record an unknown key as not sent: the next send under it goes out.

        Returns:
            False when the key's outcome was not unknown (nothing changed).
        """
        return await self._sends().mark_not_sent(key)
