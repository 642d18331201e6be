"""The ``telnyx-group-mms`` command (also ``python -m telnyx_group_mms``).

Each subcommand lives in a module of its own, imported only when it runs (or when help
lists it), so ``send`` does not pay for the sandbox. Add a command by naming its module
in :data:`COMMANDS`, or with ``main.add_command(...)``.
"""

from __future__ import annotations

import importlib

import click

from .._version import __version__

__all__ = ["COMMANDS", "main"]

#: Subcommand name -> ``"module:attribute"`` of its :class:`click.Command`.
COMMANDS: dict[str, str] = {
    "bulk": "telnyx_group_mms.cli._bulk:bulk",
    "demo": "telnyx_group_mms.cli._demo:demo",
    "sandbox": "telnyx_group_mms.cli._sandbox:sandbox",
    "send": "telnyx_group_mms.cli._send:send",
    "status": "telnyx_group_mms.cli._status:status",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="telnyx-group-mms")
def main() -> None:
    """Send group MMS through Telnyx, or run a local Telnyx sandbox.

    The API key and base URL come from --api-key/--base-url or the environment
    (TELNYX_API_KEY, TELNYX_BASE_URL).
    """
