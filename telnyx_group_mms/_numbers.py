"""The shapes of the numbers Telnyx takes, and what a sending number's shape says of its kind."""

from __future__ import annotations

import enum
import re
from typing import Final

__all__ = ["E164", "SHORT_CODE", "TOLL_FREE_PREFIXES", "SenderKind", "sender_kind"]

#: A +E.164 phone number: ``+``, a country code not starting with 0, 2 to 15 digits in all.
E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
#: A short code: 5 or 6 digits.
SHORT_CODE: Final = re.compile(r"[0-9]{5,6}")
#: The NANP toll-free area codes, as the start of a +E.164 number.
TOLL_FREE_PREFIXES: Final = ("+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888")


class SenderKind(enum.StrEnum):
    """The kind of a sending number, as far as its digits tell."""

    LONG_CODE = "long_code"
    TOLL_FREE = "toll_free"
    SHORT_CODE = "short_code"


def sender_kind(number: str) -> SenderKind:
    """The kind of ``number``, by its prefix alone.

    A +E.164 number in a NANP toll-free area code (+1 800, 833, 844, 855, 866, 877, 888)
    is toll-free, a bare 5-6 digit code a short code, anything else a long code. Which
    kind a number really has is on the Telnyx account; the digits are a good guess only.
    """
    if number.startswith(TOLL_FREE_PREFIXES):
        return SenderKind.TOLL_FREE
    if SHORT_CODE.fullmatch(number) is not None:
        return SenderKind.SHORT_CODE
    return SenderKind.LONG_CODE
