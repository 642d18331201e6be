"""The ``telnyx-group-mms`` command line; each command lives in a module of its own."""

from __future__ import annotations

import click

from ._version import __version__
from .cli_bulk import bulk

__all__ = ["main"]


@click.group()
@click.version_option(__version__, prog_name="telnyx-group-mms")
def main() -> None:
    """Send Telnyx group MMS from the command line."""


main.add_command(bulk)
