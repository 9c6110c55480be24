"""JSON-schema instances for ``response_format: json_schema``, and OpenAI's strict-mode schema rules.

:func:`instance` builds a value that validates against the schema, deterministically from the ``rng`` it is
given. Supported: ``type`` (also lists), ``properties`` / ``required`` / ``additionalProperties`` (only declared
properties are emitted; a schema-valued ``additionalProperties`` gets one ``"key"`` entry), ``items`` /
``prefixItems`` / ``minItems`` / ``maxItems`` / ``uniqueItems``, ``enum``, ``const``, ``anyOf`` / ``oneOf`` (one
option, null only when nesting gets deep), ``allOf`` (merged), ``$ref`` into the same document (``#``,
``#/$defs/...``, ``#/definitions/...``, any JSON pointer), string ``minLength`` / ``maxLength`` and common
``format``s, and numeric bounds (inclusive and exclusive) and ``multipleOf``. ``pattern`` is not honoured.

Free-form strings are taken, in order, from ``words``: the model's text answer tokens (tag first). So the first
free string of an answer is a prefix of that model's text answer, which is how the sim-judge recognises
structured answers (:mod:`gateway.simulator.judge`).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from typing import Any

_MAX_DEPTH = 8
_COMBINATORS = ("anyOf", "oneOf")


def _formatted(fmt: str, rng: random.Random) -> str | None:
    day, hour, minute = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
    month = rng.randint(1, 12)
    match fmt:
        case "date-time":
            return f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z"
        case "date":
            return f"2024-{month:02d}-{day:02d}"
        case "time":
            return f"{hour:02d}:{minute:02d}:00Z"
        case "duration":
            return f"P{day}D"
        case "email":
            return f"user{day}@example.com"
        case "hostname":
            return "example.com"
        case "uri" | "url":
            return f"https://example.com/{day}"
        case "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        case "ipv4":
            return f"192.0.2.{day}"
        case "ipv6":
            return f"2001:db8::{day}"
        case _:
            return None


def instance(schema: Any, rng: random.Random, words: Iterator[str]) -> Any:
    """A value valid against ``schema`` (a JSON schema document), drawn from ``rng`` and ``words``."""
    return _Builder(schema, rng, words).value(schema, 0)


class _Builder:
    def __init__(self, root: Any, rng: random.Random, words: Iterator[str]) -> None:
        self.root, self.rng, self.words = root, rng, words

    def value(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, dict):  # `true` / missing: anything goes
            return self.string({})
        schema = self._resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self.rng.choice(enum)
        for key in _COMBINATORS:
            options = schema.get(key)
            if isinstance(options, list) and options:
                return self.value(self._pick(options, depth), depth + 1)
        return self._typed(schema, _kind(schema), depth)

    def _resolve(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        """Follow ``$ref`` and merge ``allOf`` (sibling keywords override what they point at)."""
        while isinstance(schema.get("$ref"), str) and depth < 64:
            target = _pointer(self.root, schema["$ref"])
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            depth += 1
        parts = schema.get("allOf")
        if isinstance(parts, list):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in parts:
                part = self._resolve(part, depth + 1) if isinstance(part, dict) else {}
                merged = _merge(merged, part)
            return merged
        return schema

    def _pick(self, options: list[Any], depth: int) -> Any:
        nulls = [o for o in options if isinstance(o, dict) and o.get("type") == "null"]
        if depth >= _MAX_DEPTH and nulls:
            return nulls[0]
        return self.rng.choice([o for o in options if o not in nulls] or options)

    def _typed(self, schema: dict[str, Any], kind: str, depth: int) -> Any:
        match kind:
            case "object":
                return self._object(schema, depth)
            case "array":
                return self._array(schema, depth)
            case "integer" | "number":
                return _number(schema, kind == "integer", self.rng)
            case "boolean":
                return self.rng.random() < 0.5
            case "null":
                return None
            case _:
                return self.string(schema)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = [r for r in schema.get("required", []) if isinstance(r, str)]
        names = required if depth >= _MAX_DEPTH else [*properties, *(r for r in required if r not in properties)]
        result = {name: self.value(properties.get(name, {}), depth + 1) for name in names}
        extra = schema.get("additionalProperties")
        if not result and isinstance(extra, dict) and depth < _MAX_DEPTH:
            result["key"] = self.value(extra, depth + 1)
        return result

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        low = max(int(schema.get("minItems", 0)), 0)
        high = int(schema.get("maxItems", max(low + 3, len(prefix))))
        if schema.get("items") is False:
            high = min(high, len(prefix))
        count = low if depth >= _MAX_DEPTH else self.rng.randint(min(max(low, 1), high), max(low, min(high, low + 3)))
        items: list[Any] = []
        unique = schema.get("uniqueItems") is True
        for _ in range(count * 10):  # uniqueItems: a few tries per item, then settle for fewer
            if len(items) >= count:
                break
            item = self.value(self._item_schema(schema, prefix, len(items)), depth + 1)
            if not (unique and item in items):
                items.append(item)
        while len(items) < low:  # cannot be unique: minItems wins
            items.append(self.value(self._item_schema(schema, prefix, len(items)), depth + 1))
        return items

    @staticmethod
    def _item_schema(schema: dict[str, Any], prefix: list[Any], position: int) -> Any:
        return prefix[position] if position < len(prefix) else schema.get("items", {})

    def string(self, schema: dict[str, Any]) -> str:
        formatted = _formatted(str(schema.get("format", "")), self.rng)
        if formatted is not None:
            return formatted
        text = "".join(next(self.words) for _ in range(self.rng.randint(3, 6))).strip()
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        while len(text) < low:
            text += next(self.words)
        if isinstance(high, int):
            text = text[:high]
        return text + "x" * max(low - len(text), 0)


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    merged = {**left, **right}
    if isinstance(left.get("properties"), dict) and isinstance(right.get("properties"), dict):
        merged["properties"] = {**left["properties"], **right["properties"]}
    if isinstance(left.get("required"), list) and isinstance(right.get("required"), list):
        merged["required"] = [*left["required"], *(r for r in right["required"] if r not in left["required"])]
    return merged


def _pointer(root: Any, ref: str) -> dict[str, Any]:
    node = root
    if ref.startswith("#"):
        for part in ref[1:].lstrip("/").split("/") if ref.strip("#/") else []:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _number(schema: dict[str, Any], integer: bool, rng: random.Random) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    low_x, high_x = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = 1 if integer else 0.01
    if isinstance(low_x, int | float) and not isinstance(low_x, bool):
        low = max(low, low_x + step) if isinstance(low, int | float) else low_x + step
    if isinstance(high_x, int | float) and not isinstance(high_x, bool):
        high = min(high, high_x - step) if isinstance(high, int | float) else high_x - step
    low = low if isinstance(low, int | float) else (high - 100 if isinstance(high, int | float) else 0)
    high = high if isinstance(high, int | float) else low + 100
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        return _multiple(low, high, multiple, integer, rng)
    if integer:
        return rng.randint(math.ceil(low), max(math.floor(high), math.ceil(low)))
    return min(max(round(rng.uniform(low, high), 2), low), high)


def _multiple(low: float, high: float, multiple: float, integer: bool, rng: random.Random) -> int | float:
    """A multiple of ``multiple`` in [low, high]; preferably one whose float division is exact (0.6 / 0.1 is not)."""
    first = math.ceil(low / multiple)
    ks = list(range(first, max(math.floor(high / multiple), first) + 1))
    rng.shuffle(ks)
    values = [round(k * multiple, 10) for k in ks[:50]]
    value = next((v for v in values if (v / multiple).is_integer()), values[0])
    return int(value) if integer else value


def strict_schema_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` breaks OpenAI's strict-mode rules (every object closed, every property required), or None."""
    if _kind(schema) != "object" and "$ref" not in schema:
        return "In context=(), schema must be a JSON Schema of 'type: \"object\"'."
    return _strict_problem(schema, ())


def _strict_problem(schema: Any, context: tuple[str, ...]) -> str | None:
    if not isinstance(schema, dict):
        return None
    if _kind(schema) == "object" and "$ref" not in schema and not any(k in schema for k in _COMBINATORS):
        if schema.get("additionalProperties") is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        missing = [name for name in properties if name not in schema.get("required", [])]
        if missing:
            return (
                f"In context={context}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
    for key, child in _children(schema):
        problem = _strict_problem(child, (*context, *key))
        if problem is not None:
            return problem
    return None


def _children(schema: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key in ("properties", "$defs", "definitions"):
        if isinstance(schema.get(key), dict):
            for name, child in schema[key].items():
                yield (key, name), child
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(schema.get(key), list):
            for position, child in enumerate(schema[key]):
                yield (key, str(position)), child
    if isinstance(schema.get("items"), dict):
        yield ("items",), schema["items"]
