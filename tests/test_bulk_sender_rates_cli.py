"""``bulk --per-sender-rate RATE|auto`` and ``--sender-rate NUMBER=RATE``: parsing and errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import telnyx_group_mms as tgm
from telnyx_group_mms.cli import main
from telnyx_group_mms.cli._bulk import bulk
from telnyx_group_mms.cli._sender_rate_options import per_sender_rate_setting
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, KEY, TO

TOLL_FREE = "+18885550100"
OTHER = "+13125550000"


def parsed(*args: str) -> tgm.PerSenderRate | None:
    """What the command line's per-sender options amount to, as ``bulk`` passes them on."""
    with bulk.make_context("bulk", [__file__, *args]) as ctx:
        return per_sender_rate_setting(ctx.params["per_sender_rate"], ctx.params["sender_rates"])


def test_no_option_means_no_per_sender_limit() -> None:
    assert parsed() is None


@pytest.mark.parametrize("word", ["auto", "AUTO", " auto "])
def test_auto_means_telnyxs_default_rate_for_each_kind_of_number(word: str) -> None:
    setting = parsed("--per-sender-rate", word)
    assert setting == tgm.SenderRates()
    assert isinstance(setting, tgm.SenderRates)
    assert (setting.rate_for(TOLL_FREE), setting.rate_for(FROM)) == (20.0, 0.1)


def test_a_number_is_one_rate_for_every_sender_as_before() -> None:
    assert parsed("--per-sender-rate", "2.5") == 2.5


def test_sender_rate_gives_named_numbers_their_own_rate_over_auto() -> None:
    setting = parsed(
        "--per-sender-rate",
        "auto",
        "--sender-rate",
        f"{OTHER}=3",
        "--sender-rate",
        f"{TOLL_FREE}=50",
    )
    assert setting == tgm.SenderRates(overrides={OTHER: 3.0, TOLL_FREE: 50.0})


def test_sender_rate_over_a_plain_rate_keeps_that_rate_for_the_others() -> None:
    setting = parsed("--per-sender-rate", "2", "--sender-rate", f"{OTHER}=3")
    assert isinstance(setting, tgm.SenderRates)
    assert [setting.rate_for(n) for n in (OTHER, FROM, TOLL_FREE)] == [3.0, 2.0, 2.0]


def test_sender_rate_alone_limits_only_the_named_numbers() -> None:
    setting = parsed("--sender-rate", f"{OTHER}=3")
    assert isinstance(setting, tgm.SenderRates)
    assert [setting.rate_for(n) for n in (OTHER, FROM, TOLL_FREE)] == [3.0, None, None]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--per-sender-rate", "fast"], "'fast' is not a number; give a positive number or 'auto'"),
        (["--per-sender-rate", "0"], "'0' is not a positive number"),
        (["--per-sender-rate", "-1"], "'-1' is not a positive number"),
        (["--per-sender-rate", "inf"], "'inf' is not a positive number"),
        (["--sender-rate", "+18885550100"], "'+18885550100' is not NUMBER=RATE"),
        (["--sender-rate", "18885550100=5"], "'18885550100' is not a +E.164 number"),
        (["--sender-rate", "+18885550100=none"], "'none' is not a number"),
        (["--sender-rate", "+18885550100=0"], "'0' is not a positive number"),
        # Positive, but too small for one message's interval to be finite.
        (["--per-sender-rate", "1e-320"], "'1e-320' is not a positive number"),
        (["--sender-rate", "+18885550100=1e-320"], "'1e-320' is not a positive number"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_option(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"from,to,text\n{FROM},{TO[0]},hi\n")
    result = CliRunner().invoke(main, ["bulk", str(path), "--dry-run", *args])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{args[0]}': {message}" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    with pytest.raises(click.BadParameter):
        parsed(*args)


def test_a_bulk_run_with_rates_by_kind_sends_every_row(
    tmp_path: Path, telnyx_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", telnyx_sandbox.base_url)
    rows = [f"{TOLL_FREE},{TO[0]},toll-free {n}" for n in range(10)]
    rows += [f"{FROM},{TO[0]},long code", *(f"{OTHER},{TO[0]},other {n}" for n in range(3))]
    path = tmp_path / "in.csv"
    path.write_text("from,to,text\n" + "".join(f"{row}\n" for row in rows))
    # Toll-free at 20/s and the named number at 5/s send at once; the long code sends one.
    result = CliRunner().invoke(
        main, ["bulk", str(path), "--per-sender-rate", "auto", "--sender-rate", f"{OTHER}=5"]
    )
    assert result.exit_code == 0, result.output
    assert "rows 14: sent 14" in result.output
    assert len(telnyx_sandbox.messages) == 14
