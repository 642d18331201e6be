"""A task that a queue may run more than once texts the group once: idempotency keys.

Task queues (Celery with ``acks_late``, arq, RQ, Taskiq) run a job at least once: a
worker that dies after sending but before acknowledging has its task run again. Give
each send a key derived from the task's own identity, and a durable store, and every
re-run returns the first run's message instead of texting eight people again::

    python examples/task_queue_worker.py            # offline, against the sandbox
    python examples/task_queue_worker.py --store postgresql://localhost/app

With a SQLite file the guarantee holds for the processes of one machine; with a
PostgreSQL URL (``pip install 'telnyx-group-mms[postgres]'``) for every worker on
every host. The plain retry loop below stands in for the queue: the task "crashes"
after its send on its first two runs, as a worker killed before its acknowledgement
would, and the queue runs it again.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from telnyx_group_mms import Message, OutcomeUnknownError, SendInProgressError, Telnyx
from telnyx_group_mms.sandbox import Sandbox


class WorkerDied(Exception):
    """Stands for a worker killed after its send, before the queue heard back."""


def notify_group(client: Telnyx, *, order_id: str, run: int) -> Message:
    """The task: tell a group their order shipped. Safe to run any number of times."""
    message = client.messages.send_group_mms(
        from_="+13125551234",
        to=["+18655551234", "+14155551234"],
        text=f"Order {order_id} has shipped.",
        # The task's identity, not a random value: every run of it shares the key.
        idempotency_key=f"order-shipped:{order_id}",
    )
    if run < 3:
        raise WorkerDied(f"run {run}: died after sending, before acknowledging")
    return message


def run_with_retries(client: Telnyx, *, order_id: str, attempts: int = 3) -> Message:
    """What a task queue does with a task whose worker died: run it again."""
    for run in range(1, attempts + 1):
        try:
            return notify_group(client, order_id=order_id, run=run)
        except WorkerDied as exc:
            print(f"  {exc}; the queue runs the task again")
        except SendInProgressError:
            print(f"  run {run}: another worker is sending it right now; retry later")
        except OutcomeUnknownError as exc:
            # A worker died mid-send: check Telnyx's records, then settle the key with
            # client.idempotency_keys.resolve(...) or .mark_not_sent(...).
            print(f"  run {run}: {exc}")
            raise
    raise RuntimeError("the task never completed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a SQLite file or a postgresql:// URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, Sandbox() as sandbox:
        store = args.store or str(Path(scratch) / "idempotency.db")
        with Telnyx(
            api_key="KEY_sandbox", base_url=sandbox.base_url, idempotency_store=store
        ) as client:
            message = run_with_retries(client, order_id="A-1001")
        print(
            f"task ran 3 times; message {message.id}; POSTs that reached Telnyx: "
            f"{sandbox.request_count}"
        )
        return sandbox.request_count


if __name__ == "__main__":
    raise SystemExit(0 if main() == 1 else 1)
