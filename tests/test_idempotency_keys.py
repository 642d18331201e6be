"""Idempotency keys: each rule, against the sandbox, with both stores and both clients.

Every test counts what reached the sandbox: "nothing sent" is a request count that did
not move.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO, fast_retry
from .fanout_support import eventually


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


class Client:
    """The async or the sync client, driven through one awaitable interface."""

    def __init__(self, kind: str, **settings: Any) -> None:
        self.kind = kind
        if kind == "async":
            self.core: Any = tgm.AsyncTelnyx(**settings)
        else:
            self.core = tgm.Telnyx(**settings)

    async def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.kind == "async":
            return await method(*args, **kwargs)
        return await asyncio.to_thread(method, *args, **kwargs)

    async def send(self, key: str | None, *, text: str = "hi", to: list[str] = TO) -> tgm.Message:
        send = self.core.messages.send_group_mms
        result: tgm.Message = await self.call(
            send, from_=FROM, to=to, text=text, idempotency_key=key
        )
        return result

    async def close(self) -> None:
        if self.kind == "async":
            await self.core.aclose()
        else:
            await asyncio.to_thread(self.core.close)


@pytest.fixture(params=["async", "sync"])
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Run = Callable[[Awaitable[Any]], Any]


@pytest.fixture
def run() -> Iterator[Run]:
    """Runs a step of a test on the test's one event loop (an async client keeps to one)."""
    loop = asyncio.new_event_loop()

    def step(awaitable: Awaitable[Any]) -> Any:
        async def main() -> Any:
            return await awaitable

        return loop.run_until_complete(main())

    yield step
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


@pytest.fixture
def make(sandbox: Sandbox, client_kind: str, run: Run) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def build(**settings: Any) -> Client:
        settings.setdefault("api_key", KEY)
        settings.setdefault("base_url", sandbox.base_url)
        settings.setdefault("retry", fast_retry(max_attempts=1))
        client = Client(client_kind, **settings)
        made.append(client)
        return client

    yield build
    for client in made:
        run(client.close())


def test_the_same_key_and_message_again_returns_the_first_message_and_sends_nothing(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    client = make(idempotency_store=store)

    async def scenario() -> tuple[tgm.Message, tgm.Message, tgm.Message]:
        first = await client.send("order-1")
        again = await client.send("order-1")
        # The same group in another order is the same message.
        reordered = await client.send("order-1", to=list(reversed(TO)))
        return first, again, reordered

    first, again, reordered = run(scenario())
    assert first.id is not None
    assert again == first
    assert reordered == first
    assert sandbox.request_count == 1


def test_a_different_message_under_a_used_key_is_refused_unsent(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    client = make(idempotency_store=store)
    run(client.send("order-1"))
    with pytest.raises(tgm.IdempotencyKeyReusedError, match="'order-1'") as caught:
        run(client.send("order-1", text="a different text"))
    assert isinstance(caught.value, ValueError)
    assert caught.value.key == "order-1"
    assert sandbox.request_count == 1


@pytest.mark.parametrize("fault", [Fault.status(503), Fault.status(429), Fault.status(422)])
def test_after_a_failure_that_sent_nothing_the_key_may_be_sent_again(
    make: Callable[..., Client], sandbox: Sandbox, store: str, fault: Fault, run: Run
) -> None:
    client = make(idempotency_store=store)
    sandbox.faults.script(fault)
    with pytest.raises(tgm.APIStatusError) as caught:
        run(client.send("order-1"))
    assert not caught.value.outcome_unknown
    message = run(client.send("order-1"))
    assert message.id is not None
    assert sandbox.request_count == 2
    assert run(client.call(client.core.idempotency_keys.status, "order-1")).state is (
        tgm.SendState.SENT
    )


@pytest.mark.parametrize("fault", [Fault.status(500), Fault.drop()])
def test_after_an_unknown_outcome_the_key_raises_and_sends_nothing(
    make: Callable[..., Client], sandbox: Sandbox, store: str, fault: Fault, run: Run
) -> None:
    client = make(idempotency_store=store)
    sandbox.faults.script(fault)
    with pytest.raises(tgm.APIError) as first:
        run(client.send("order-1"))
    assert first.value.outcome_unknown
    with pytest.raises(tgm.OutcomeUnknownError, match="'order-1'") as again:
        run(client.send("order-1"))
    assert again.value.outcome_unknown and again.value.key == "order-1"
    assert sandbox.request_count == 1
    status = run(client.call(client.core.idempotency_keys.status, "order-1"))
    assert status.state is tgm.SendState.UNKNOWN


def test_an_unknown_key_resolved_as_sent_returns_that_message_id_unsent(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    client = make(idempotency_store=store)
    keys = client.core.idempotency_keys
    sandbox.faults.script(Fault.status(500))
    with pytest.raises(tgm.InternalServerError):
        run(client.send("order-1"))
    assert run(client.call(keys.resolve, "order-1", message_id="msg-from-telnyx")) is True
    message = run(client.send("order-1"))
    assert message.id == "msg-from-telnyx"
    assert sandbox.request_count == 1
    # Only an unknown key can be settled this way.
    assert run(client.call(keys.resolve, "order-1", message_id="other")) is False
    assert run(client.call(keys.mark_not_sent, "order-1")) is False


def test_an_unknown_key_marked_not_sent_goes_out_on_the_next_send(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    client = make(idempotency_store=store)
    sandbox.faults.script(Fault.status(504))
    with pytest.raises(tgm.InternalServerError):
        run(client.send("order-1"))
    assert run(client.call(client.core.idempotency_keys.mark_not_sent, "order-1")) is True
    assert run(client.send("order-1")).id is not None
    assert sandbox.request_count == 2


def test_keys_are_scoped_by_api_key(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    first = make(idempotency_store=store, api_key="KEY_account_one")
    second = make(idempotency_store=store, api_key="KEY_account_two")
    a = run(first.send("order-1"))
    b = run(second.send("order-1"))
    assert a.id != b.id
    assert sandbox.request_count == 2


def test_a_key_without_a_store_is_refused_at_once(
    make: Callable[..., Client], sandbox: Sandbox, run: Run
) -> None:
    client = make()
    with pytest.raises(tgm.TelnyxError, match="idempotency_store="):
        run(client.send("order-1"))
    with pytest.raises(tgm.TelnyxError, match="idempotency_store="):
        run(client.call(client.core.idempotency_keys.status, "order-1"))
    assert sandbox.request_count == 0


@pytest.mark.parametrize("key", ["", "k" * 256, 42])
def test_an_unusable_key_is_refused_naming_the_field(
    make: Callable[..., Client], sandbox: Sandbox, tmp_path: Path, key: object, run: Run
) -> None:
    client = make(idempotency_store=tmp_path / "keys.db")
    with pytest.raises(tgm.RequestValidationError, match="idempotency_key") as caught:
        run(client.send(key))  # type: ignore[arg-type]
    assert caught.value.field == "idempotency_key"
    assert sandbox.request_count == 0


def test_a_key_of_255_characters_is_accepted(
    make: Callable[..., Client], sandbox: Sandbox, tmp_path: Path, run: Run
) -> None:
    client = make(idempotency_store=tmp_path / "keys.db")
    run(client.send("k" * 255))
    run(client.send("k" * 255))
    assert sandbox.request_count == 1


def test_an_unusable_sqlite_path_fails_before_sending(
    make: Callable[..., Client], sandbox: Sandbox, tmp_path: Path, run: Run
) -> None:
    client = make(idempotency_store=tmp_path / "missing-dir" / "keys.db")
    with pytest.raises(tgm.BackendUnavailableError, match="missing-dir") as caught:
        run(client.send("order-1"))
    assert "nothing was sent" in str(caught.value)
    assert sandbox.request_count == 0


def test_an_unreachable_postgres_fails_before_sending_without_the_password(
    make: Callable[..., Client], sandbox: Sandbox, run: Run
) -> None:
    from .services import free_port

    url = f"postgresql://user:s3cret-pw@127.0.0.1:{free_port()}/keysdb"
    client = make(idempotency_store=url)
    with pytest.raises(tgm.BackendUnavailableError) as caught:
        run(client.send("order-1"))
    text = str(caught.value)
    assert "127.0.0.1" in text and "keysdb" in text and "s3cret-pw" not in text
    assert "\n" not in text
    assert sandbox.request_count == 0


def test_a_send_waits_for_another_holder_and_returns_its_message(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    holder = make(idempotency_store=store)
    waiter = make(idempotency_store=store)
    sandbox.faults.script(Fault.delay(0.6))

    async def scenario() -> tuple[tgm.Message, tgm.Message]:
        first = asyncio.ensure_future(holder.send("order-1"))
        await eventually(lambda: sandbox.request_count > 0)
        second = await waiter.send("order-1")
        return await first, second

    first, second = run(scenario())
    assert second == first
    assert sandbox.request_count == 1


def test_a_send_that_outwaits_its_timeout_raises_in_progress_unsent(
    make: Callable[..., Client], sandbox: Sandbox, store: str, run: Run
) -> None:
    holder = make(idempotency_store=store)
    waiter = make(idempotency_store=store, timeout=0.3)
    sandbox.faults.script(Fault.delay(1.5))

    async def scenario() -> tuple[float, BaseException | None, tgm.Message]:
        first = asyncio.ensure_future(holder.send("order-1"))
        await eventually(lambda: sandbox.request_count > 0)
        started = time.monotonic()
        error: BaseException | None = None
        try:
            await waiter.send("order-1")
        except tgm.SendInProgressError as exc:
            error = exc
        return time.monotonic() - started, error, await first

    waited, error, message = run(scenario())
    assert isinstance(error, tgm.SendInProgressError) and error.key == "order-1"
    assert waited >= 0.3  # it waited its timeout before giving up
    assert message.id is not None
    assert sandbox.request_count == 1
    # Once the holder finished, the key answers with its message.
    assert run(waiter.send("order-1")) == message


def test_records_older_than_the_retention_are_forgotten_and_pruned(
    client_kind: str, sandbox: Sandbox, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "keys.db"

    async def scenario() -> None:
        short = tgm.SqliteIdempotencyStore(path, retention=0.5)
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=sandbox.base_url, idempotency_store=short
        ) as client:
            await client.messages.send_group_mms(
                from_=FROM, to=TO, text="hi", idempotency_key="old"
            )
            await asyncio.sleep(0.6)
            # Past the retention the key is free again: this sends.
            await client.messages.send_group_mms(
                from_=FROM, to=TO, text="hi", idempotency_key="old"
            )
            await client.messages.send_group_mms(
                from_=FROM, to=TO, text="hi", idempotency_key="other"
            )
            await asyncio.sleep(0.6)
        await short.aclose()
        # A store opened later prunes, on its first claim, what the retention dropped.
        later = tgm.SqliteIdempotencyStore(path, retention=0.5)
        await later.claim(scope="s", key="new", digest="d", owner="o", hold=10)
        await later.aclose()

    run(scenario())
    assert sandbox.request_count == 3
    with sqlite3.connect(path) as db:
        keys = [row[0] for row in db.execute("SELECT key FROM idempotency_keys")]
    assert keys == ["new"]


def test_a_store_of_ones_own_is_used_through_the_protocol(
    sandbox: Sandbox, tmp_path: Path, run: Run
) -> None:
    class Counting:
        """A store that delegates, counting claims: a user's own backend."""

        def __init__(self) -> None:
            self.inner = tgm.SqliteIdempotencyStore(tmp_path / "keys.db")
            self.claims = 0

        async def claim(self, **kwargs: Any) -> tgm.Claim:
            self.claims += 1
            return await self.inner.claim(**kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    own = Counting()
    assert isinstance(own, tgm.IdempotencyStore)

    async def scenario() -> None:
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=sandbox.base_url, idempotency_store=own
        ) as client:
            for _ in range(2):
                await client.messages.send_group_mms(
                    from_=FROM, to=TO, text="hi", idempotency_key="k"
                )
        await own.inner.aclose()

    run(scenario())
    assert own.claims == 2
    assert sandbox.request_count == 1


def test_an_unusable_store_setting_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(tgm.TelnyxError, match="idempotency_store must be"):
        tgm.AsyncTelnyx(api_key=KEY, idempotency_store=42)  # type: ignore[arg-type]
    with pytest.raises(tgm.TelnyxError, match="idempotency_store"):
        tgm.Telnyx(api_key=KEY, idempotency_store="postgresql://h:notaport/db")
    with pytest.raises(ValueError, match="retention"):
        tgm.SqliteIdempotencyStore("keys.db", retention=0)


def test_the_key_never_reaches_telnyx(
    make: Callable[..., Client], sandbox: Sandbox, tmp_path: Path, run: Run
) -> None:
    client = make(idempotency_store=tmp_path / "keys.db")
    run(client.send("order-1-secret-key"))
    (recorded,) = sandbox.requests
    assert b"order-1-secret-key" not in recorded.body
    assert all("order-1-secret-key" not in v for v in recorded.headers.values())
    assert not any("idempotency" in name.lower() for name in recorded.headers)


def test_the_sqlite_store_and_its_journal_are_private_to_their_owner(
    sandbox: Sandbox, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "keys.db"

    async def scenario() -> None:
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=sandbox.base_url, idempotency_store=path
        ) as client:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="hi", idempotency_key="k")
            for name in ("keys.db", "keys.db-wal", "keys.db-shm"):
                assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name

    run(scenario())


@pytest.mark.parametrize("planted", ["symlink", "world-writable"])
def test_a_planted_sqlite_store_is_refused_before_sending(
    sandbox: Sandbox, tmp_path: Path, run: Run, planted: str
) -> None:
    path = tmp_path / "keys.db"
    if planted == "symlink":
        path.symlink_to(tmp_path / "elsewhere.db")
    else:
        path.touch()
        path.chmod(0o666)

    async def scenario() -> None:
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=sandbox.base_url, idempotency_store=path
        ) as client:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="hi", idempotency_key="k")

    refused = r"idempotency_store: .*keys\.db"
    with pytest.raises(tgm.BackendUnavailableError, match=refused) as caught:
        run(scenario())
    assert "nothing was sent" in str(caught.value)
    assert sandbox.request_count == 0
    assert not (tmp_path / "elsewhere.db").exists()
