"""Runs the command line as a user would: a separate process, ``python -m telnyx_group_mms``."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

COMMAND = [sys.executable, "-m", "telnyx_group_mms"]

# Like COMMAND, but with Ctrl-C (SIGINT) handled as in a terminal even when this test run
# inherited SIGINT ignored (a background job of a non-interactive shell, some CI runners).
_INTERRUPTIBLE = [
    sys.executable,
    "-c",
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('telnyx_group_mms', run_name='__main__', alter_sys=True)",
]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    """Run a command to completion."""
    done = subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


class Server:
    """A long-running command (``sandbox``), its stdout read line by line with a timeout."""

    def __init__(self, args: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [*_INTERRUPTIBLE, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def readline(self, timeout: float = 30) -> str | None:
        """The next stdout line; None once stdout is closed."""
        return self._lines.get(timeout=timeout)

    def finish(self, timeout: float = 30) -> Run:
        """Wait for the process to exit (killing it if it does not)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout)
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.process.stdout.close()
        stderr = self.process.stderr.read()
        self.process.stderr.close()
        rest: list[str] = []
        while not self._lines.empty():
            line = self._lines.get()
            if line is not None:
                rest.append(line)
        return Run(self.process.returncode, "\n".join(rest), stderr)
