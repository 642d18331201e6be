"""Hypothesis strategies shared by the fuzz tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Numbers at and past the edges of int, float and Decimal fields, drawn often.
extremes = st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), 10**400, -(10**400), 2**63, 1e308, 5e-324]
)


def json_values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Any JSON value, objects keyed by ``keys``.

    Numbers include what no field can hold: integers of any size, infinities (``1e999``
    reads back as one) and NaN, all of which ``json`` writes and reads.
    """
    scalars = (
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | extremes
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=20,
    )


def deep_json(max_depth: int = 200_000) -> st.SearchStrategy[bytes]:
    """JSON arrays nested deeper than a recursive parser can follow (or just shallow enough)."""
    return st.integers(min_value=500, max_value=max_depth).map(
        lambda depth: b"[" * depth + b"]" * depth
    )


#: Any text, lone surrogates included (what ``errors="surrogateescape"`` or a JSON
#: ``"\ud800"`` escape leaves in a ``str``).
#: (Built from single characters: ``st.text`` would merge the alphabets and lose them.)
any_text = st.lists(
    st.characters() | st.characters(categories=["Cs"]), min_size=1, max_size=30
).map("".join)
#: Any number, and the same as a string (Telnyx sends some amounts as strings).
numbers = extremes | st.integers() | st.floats() | st.decimals().map(str)
# Where a message holds numbers (and, for contrast, where it holds text and dates).
MESSAGE_PATHS: list[tuple[str | int, ...]] = [
    ("parts",), ("num_chars",), ("wait_seconds",), ("media", 0, "size"), ("cost", "amount"),
    ("cost_breakdown", "rate", "amount"), ("text",), ("received_at",), ("to", 0, "status"),
]  # fmt: skip


def nest(path: tuple[str | int, ...], value: object) -> Any:
    """``{"media": [{"size": value}]}`` for the path ``("media", 0, "size")``."""
    for step in reversed(path):
        value = [value] if isinstance(step, int) else {step: value}
    return value
