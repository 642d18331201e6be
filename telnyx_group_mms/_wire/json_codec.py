"""JSON bytes in and out of a send: orjson where it is installed, the same values either way.

Parsing the answer and encoding the request are a large share of what one send costs
this package; orjson does both in a fraction of the time of :mod:`json`. It is a
dependency on CPython; elsewhere (PyPy) the standard library does the work. Either way
the results are those of :mod:`json`, which the tests check value for value:

- orjson reads integers beyond 64 bits as floats, so a body with a run of 19 or more
  digits (found with one pass in C) goes to :func:`json.loads`, which keeps them exact;
- what orjson refuses and :mod:`json` reads (``NaN``, ``1e999``, a lone surrogate
  escape, a byte-order mark) is handed to :func:`json.loads` too.

The one difference left: orjson reads nesting up to 1024 levels deep, where
:func:`json.loads` may run out of recursion a little before (about 990 levels).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["FAST", "compact", "dumps", "dumps_stdlib", "loads", "loads_stdlib"]

#: Compact JSON text by :mod:`json`, as Telnyx writes it: no spaces, non-ASCII kept as is.
#: The one spelling of it in the package (request bodies, the sandbox's answers and
#: webhooks, the bulk ledger's row identities).
compact: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# Every digit becomes "0" and every other byte a space: a run of 19 digits (the
# shortest integer orjson may turn into a float) is then a plain substring search.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_WIDE_INTEGER = b"0" * 19


def dumps_stdlib(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value`` by :mod:`json` (non-ASCII kept as is)."""
    return compact(value).encode()


def loads_stdlib(body: bytes) -> Any:
    """:func:`json.loads`, for the tests to compare :func:`loads` with.

    Raises:
        ValueError: Not JSON (:class:`json.JSONDecodeError`, or :class:`UnicodeDecodeError`).
        RecursionError: Nested deeper than the parser can follow.
    """
    return json.loads(body)


try:
    import orjson
except ImportError:  # pragma: no cover - an interpreter orjson is not installed for (PyPy)
    FAST = False
    dumps = dumps_stdlib
    loads = loads_stdlib
else:
    FAST = True

    def dumps(value: Any) -> bytes:
        """Compact UTF-8 JSON of ``value``: byte for byte what :func:`dumps_stdlib` gives
        for strings, booleans, ``None`` and lists of them (all a request holds).

        Raises:
            TypeError: ``value`` holds something JSON cannot carry.
        """
        return orjson.dumps(value)

    def loads(body: bytes) -> Any:
        """The JSON value of ``body``, as :func:`json.loads` reads it.

        Raises:
            ValueError: Not JSON (:class:`json.JSONDecodeError`, or :class:`UnicodeDecodeError`).
            RecursionError: Nested deeper than :func:`json.loads` can follow.
        """
        if _WIDE_INTEGER in body.translate(_DIGITS_AS_ZERO):
            return json.loads(body)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return json.loads(body)
