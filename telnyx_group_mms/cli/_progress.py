"""Progress of a batch on the command line: a bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Final, Never

import click
from tqdm import tqdm

from ..bulk._runner import BulkProgress

__all__ = ["EXIT_INTERRUPTED", "LINE_INTERVAL", "Progress", "progress_shown"]

#: Seconds between progress lines when the output is not a terminal.
LINE_INTERVAL: Final = 5.0
#: The exit status after Ctrl-C, as shells report a process ended by SIGINT.
EXIT_INTERRUPTED: Final = 130


class Progress:
    """A bar on a terminal; otherwise a plain line every few seconds and at the end.

    Call it with each new :class:`BulkProgress`; :meth:`close` it when the batch ends.
    """

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._bar: tqdm[Never] | None = None
        self._interactive = out.isatty()
        self._last_line = 0.0

    def __call__(self, state: BulkProgress) -> None:
        if self._interactive:
            self._draw(state)
            return
        now = time.monotonic()
        finished = state.done == state.total
        if state.done and (finished or now - self._last_line >= LINE_INTERVAL):
            self._last_line = now
            click.echo(
                f"progress: {state.done}/{state.total} done (sent {state.sent}, failed "
                f"{state.failed}, unknown {state.unknown}) {state.rate:.1f} msg/s",
                file=self._out,
            )

    def _draw(self, state: BulkProgress) -> None:
        if self._bar is None:
            self._bar = tqdm(total=state.total, unit="msg", file=self._out, leave=True)
        bar = self._bar
        bar.set_postfix(sent=state.sent, failed=state.failed, unknown=state.unknown, refresh=False)
        bar.update(state.done - bar.n)

    def close(self) -> None:
        """End the bar, if one was drawn. Idempotent."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def progress_shown(*, interrupted: str | Callable[[], str]) -> Iterator[Progress]:
    """Progress on stdout for the body; on Ctrl-C, ``interrupted`` on stderr and exit 130.

    ``interrupted`` may be a function, to say what the interruption left behind. The bar
    is closed however the body ends, before any error is reported.
    """
    progress = Progress(sys.stdout)
    try:
        yield progress
    except KeyboardInterrupt:
        progress.close()
        click.echo(interrupted if isinstance(interrupted, str) else interrupted(), err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        progress.close()
