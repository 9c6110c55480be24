"""Reading fields of a raw JSON request body, with 400s that name the field (``param``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from gateway.protocol.errors import InvalidRequest

T = TypeVar("T")
_KINDS: Mapping[type, str] = MappingProxyType(
    {str: "a string", dict: "an object", list: "a list", bool: "a boolean", int: "an integer"}
)


def need(obj: Mapping[str, Any], key: str, kind: type[T], param: str) -> T:
    """``obj[key]``, which must be present, not null, and of ``kind``."""
    value = obj.get(key)
    if value is None:
        raise InvalidRequest(f"{param} is required", param=param)
    return check(value, kind, param)


def check(value: object, kind: type[T], param: str) -> T:
    """``value`` if it is of ``kind`` (a boolean is not an integer), else a 400 naming ``param``."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidRequest(f"{param} must be {_KINDS.get(kind, kind.__name__)}", param=param)
    return value


def unsupported(param: str, message: str) -> InvalidRequest:
    """A 400 ``unsupported_feature`` naming ``param``."""
    return InvalidRequest(message, param=param, code="unsupported_feature")


def positive(obj: Mapping[str, Any], key: str, param: str) -> int:
    """``obj[key]``, which must be an integer of at least 1."""
    value = need(obj, key, int, param)
    if value < 1:
        raise InvalidRequest(f"{param} must be at least 1", param=param)
    return value
