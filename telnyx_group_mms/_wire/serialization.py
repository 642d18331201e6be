"""The one place wire names live: a cattrs converter between Telnyx JSON and the models.

Build it with :func:`make_converter` (or share the cached one from :func:`get_converter`);
nothing is built at import time.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ..errors import RequestValidationError
from ..models import (
    Direction,
    GroupMmsRequest,
    Message,
    MessageType,
    RecipientStatus,
    Sender,
)

__all__ = [
    "PARSE_ERRORS",
    "get_converter",
    "make_converter",
    "request_field_for",
    "request_from_wire",
]

#: What structuring malformed input can raise; callers turn these into their own errors.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    cattrs.BaseValidationError,
    cattrs.StructureHandlerNotFoundError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    # A JSON number too large for a float (1e999) is infinity, which no int can hold.
    OverflowError,
)

#: A structure hook, as cattrs calls it: ``hook(value, type)``.
Hook = Callable[[Any, Any], Any]

# attrs fields whose Python name differs from the wire name.
_RENAMES = {"from_": "from"}


def _structure_decimal(value: object, _: type) -> Decimal:
    # Telnyx documents ``amount`` as a string but has been seen sending numbers;
    # going through str() keeps 0.1 as Decimal("0.1") rather than its binary value.
    if value.__class__ is not str and (
        isinstance(value, bool) or not isinstance(value, str | int | float | Decimal)
    ):
        raise ValueError(f"not a decimal amount: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    parsed = datetime.fromisoformat(value)
    # A timestamp without an offset is UTC at Telnyx; never hand out naive datetimes.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _unstructure_datetime(value: datetime) -> str:
    text = value.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _structure_bool(value: object, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _structure_str(value: object, _: type) -> str:
    # Codes are strings on the wire but integers in some documents: keep their text.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"not a string: {value!r}")


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # JSON objects are dicts; the ABC check is only for other mappings.
    return value.__class__ is dict or isinstance(value, Mapping)


def _structure_opt_str(value: object, _: Any) -> str | None:
    # The commonest field type of all, so it skips even the call to _structure_str.
    if value is None or value.__class__ is str:
        return value
    return _structure_str(value, str)


def _is_optional(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) in (Union, types.UnionType) and len(args) == 2 and type(None) in args


def _optional(
    optional_type: Any, conv: cattrs.Converter, attrs_or_none: Mapping[type, Hook]
) -> Hook:
    # cattrs' own hook for ``X | None`` looks X's hook up again for every value; a
    # message has dozens of optional fields, which made that lookup the largest single
    # cost of parsing one. Here X's hook is looked up once.
    (inner,) = (arg for arg in get_args(optional_type) if arg is not type(None))
    if inner is str:
        return _structure_opt_str
    hook = conv.get_structure_hook(inner)
    # An attrs model built by _strict_attrs has a variant that takes None itself: one
    # call per value instead of two.
    direct = attrs_or_none.get(inner)
    if direct is not None:
        return direct

    def structure(value: object, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure


def _enum_or_str(enum_cls: type[Any]) -> Callable[[object, Any], object]:
    members: Mapping[str, object] = enum_cls._value2member_map_

    def structure(value: object, _: Any) -> object:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"not a string: {value!r}")
        # A value Telnyx adds later stays usable as its plain string.
        return members.get(value, value)

    return structure


def _structure_sender(value: object, _: type) -> Sender:
    # The send response has an object here; some Telnyx documents show a bare number.
    if isinstance(value, str):
        return Sender(phone_number=value)
    if not _is_mapping(value):
        raise ValueError(f"not a sender: {value!r}")
    return Sender(
        phone_number=_structure_opt_str(value.get("phone_number"), str),
        carrier=_structure_opt_str(value.get("carrier"), str),
        line_type=_structure_opt_str(value.get("line_type"), str),
    )


def _structure_dict(value: object, _: type) -> dict[str, Any]:
    if not _is_mapping(value):
        raise ValueError(f"not an object: {value!r}")
    return dict(value)


def _strict_attrs(cl: Any, conv: cattrs.Converter, attrs_or_none: dict[type, Hook]) -> Hook:
    # The generated function would take a string for an object and return all defaults.
    generated = make_dict_structure_fn(cl, conv)

    def fail(value: object) -> ValueError:
        return ValueError(f"{cl.__name__} must be a JSON object, not {type(value).__name__}")

    def structure(value: object, _: Any) -> Any:
        if not _is_mapping(value):
            raise fail(value)
        return generated(value, cl)

    def structure_or_none(value: object, _: Any) -> Any:
        if value is None:
            return None
        if not _is_mapping(value):
            raise fail(value)
        return generated(value, cl)

    attrs_or_none[cl] = structure_or_none
    return structure


def _is_list(type_: Any) -> bool:
    return get_origin(type_) is list


def _strict_list(list_type: Any, conv: cattrs.Converter, *, null_is_empty: bool = False) -> Hook:
    # The default hook iterates any iterable: a string would become a list of characters.
    (item_type,) = getattr(list_type, "__args__", (Any,))
    item_hook = conv.get_structure_hook(item_type)

    def structure(value: object, _: Any) -> list[Any]:
        if value.__class__ is not list:
            if value is None and null_is_empty:
                return []
            if not isinstance(value, list):
                raise ValueError(f"expected a JSON array, not {type(value).__name__}")
        return [item_hook(item, item_type) for item in value]

    return structure


def make_converter() -> cattrs.Converter:
    """Build the converter between Telnyx's wire JSON and this package's models.

    Structuring is tolerant (missing fields become ``None`` or empty lists, unknown
    fields land in ``Message.extra``); unstructuring emits wire names and omits ``None``.
    """
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)

    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook_func(lambda t: t == dict[str, Any], _structure_dict)
    conv.register_structure_hook(Sender, _structure_sender)
    # Filled by _strict_attrs as it builds each model's hook; read by _optional.
    attrs_or_none: dict[type, Hook] = {}
    conv.register_structure_hook_factory(
        attrs.has, lambda cl, c: _strict_attrs(cl, c, attrs_or_none)
    )
    conv.register_structure_hook_factory(_is_list, _strict_list)
    for enum_cls in (Direction, MessageType, RecipientStatus):
        conv.register_structure_hook(enum_cls | str | None, _enum_or_str(enum_cls))
    conv.register_structure_hook_factory(_is_optional, lambda t, c: _optional(t, c, attrs_or_none))

    conv.register_unstructure_hook(
        GroupMmsRequest,
        make_dict_unstructure_fn(
            GroupMmsRequest, conv, _cattrs_omit_if_default=True, from_=override(rename="from")
        ),
    )

    _register_message(conv)
    return conv


def _register_message(conv: cattrs.Converter) -> None:
    fields = attrs.fields(attrs.resolve_types(Message))
    known = frozenset(_RENAMES.get(f.name, f.name) for f in fields if f.name != "extra")
    # Telnyx sends ``null`` for empty lists at times; treat it as absent (an empty list).
    null_lists: dict[str, Any] = {
        f.name: override(struct_hook=_strict_list(f.type, conv, null_is_empty=True))
        for f in fields
        if _is_list(f.type)
    }
    structure_known = make_dict_structure_fn(
        Message, conv, extra=override(omit=True), from_=override(rename="from"), **null_lists
    )
    # Like Telnyx, a message on the wire spells out every field, null or empty included.
    unstructure_known = make_dict_unstructure_fn(
        Message, conv, extra=override(omit=True), from_=override(rename="from")
    )

    def structure_message(value: object, _: type) -> Message:
        if not _is_mapping(value):
            raise ValueError(f"a message must be a JSON object, not {type(value).__name__}")
        message = structure_known(value, Message)
        if not value.keys() <= known:  # a set comparison in C: no loop when nothing is extra
            extra = {k: v for k, v in value.items() if k not in known}
            object.__setattr__(message, "extra", extra)
        return message

    def unstructure_message(message: Message) -> dict[str, Any]:
        wire: dict[str, Any] = unstructure_known(message)
        if message.extra:
            wire.update({k: v for k, v in message.extra.items() if k not in wire})
        return wire

    conv.register_structure_hook(Message, structure_message)
    conv.register_unstructure_hook(Message, unstructure_message)


@functools.cache
def get_converter() -> cattrs.Converter:
    """The converter shared by every client, built on first use."""
    return make_converter()


@functools.cache
def _request_fields() -> dict[str, str]:
    return {_RENAMES.get(f.name, f.name): f.name for f in attrs.fields(GroupMmsRequest)}


def request_field_for(wire_name: str) -> str | None:
    """The :class:`GroupMmsRequest` field for a wire name (``"from"`` -> ``"from_"``)."""
    return _request_fields().get(wire_name)


def request_from_wire(data: Mapping[str, Any]) -> GroupMmsRequest:
    """Build a request from its wire form (``{"from": ..., "to": [...], ...}``).

    Strict: an unknown key is refused (a misspelt ``media_url`` must not be dropped
    silently), and values are checked by :class:`GroupMmsRequest`, not coerced.

    Raises:
        RequestValidationError: A key is unknown or missing, or a value is invalid.
    """
    fields: dict[str, Any] = {}
    for key, value in data.items():
        name = request_field_for(key)
        if name is None:
            raise RequestValidationError(f"{key}: not a field of a group MMS request", field=key)
        fields[name] = value
    for wire, name in (("from", "from_"), ("to", "to")):
        if fields.get(name) is None:
            raise RequestValidationError(f"{wire}: is required", field=name)
    try:
        return GroupMmsRequest(**fields)
    except RequestValidationError as exc:
        raise _in_wire_terms(exc) from None


def _in_wire_terms(error: RequestValidationError) -> RequestValidationError:
    """``error`` naming the field as the input wrote it (``from: ...``, not ``from_: ...``).

    The reason reaches whoever wrote the JSON key or CSV column, who never saw the
    Python name; ``field`` keeps the Python name, as everywhere.
    """
    field = error.field or ""
    name, bracket, rest = field.partition("[")
    wire = _RENAMES.get(name)
    message = str(error)
    if wire is None or not message.startswith(f"{field}:"):
        return error
    return RequestValidationError(wire + bracket + rest + message[len(field) :], field=field)
