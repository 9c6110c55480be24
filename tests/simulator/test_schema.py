"""Structured-output instances: every generated value validates against its schema (checked with jsonschema)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from gateway.simulator.schema import instance, strict_schema_problem

NODE = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
    "required": ["name", "children"],
    "additionalProperties": False,
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "strict object": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "temperature": {"type": "number", "exclusiveMinimum": -50, "exclusiveMaximum": 60},
            "raining": {"type": "boolean"},
            "note": {"type": ["string", "null"]},
            "kind": {"const": "forecast"},
        },
        "required": ["city", "unit", "days", "temperature", "raining", "note", "kind"],
        "additionalProperties": False,
    },
    "arrays": {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4},
            "empty": {"type": "array", "items": {"type": "integer"}, "maxItems": 0},
            "many": {"type": "array", "items": {"type": "integer"}, "minItems": 6},
            "unique": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
        },
        "required": ["tags", "empty", "many", "unique", "pair"],
        "additionalProperties": False,
    },
    "defs and refs": {
        "type": "object",
        "$defs": {
            "Step": {
                "type": "object",
                "properties": {"explanation": {"type": "string"}, "output": {"type": "string"}},
                "required": ["explanation", "output"],
                "additionalProperties": False,
            },
            "Size": {"type": "string", "enum": ["small", "large"]},
        },
        "properties": {
            "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}},
            "size": {"$ref": "#/$defs/Size", "description": "sibling keywords are kept"},
            "final_answer": {"type": "string"},
        },
        "required": ["steps", "size", "final_answer"],
        "additionalProperties": False,
    },
    "anyOf and nullable": {
        "type": "object",
        "properties": {
            "value": {"anyOf": [{"type": "integer", "minimum": 10}, {"type": "string", "maxLength": 3}]},
            "maybe": {"anyOf": [{"$ref": "#/definitions/Point"}, {"type": "null"}]},
            "one": {"oneOf": [{"type": "boolean"}, {"type": "null"}]},
        },
        "definitions": {
            "Point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            }
        },
        "required": ["value", "maybe", "one"],
        "additionalProperties": False,
    },
    "recursive": NODE,
    "allOf": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string", "minLength": 30}}, "required": ["b"]},
        ]
    },
    "numbers": {
        "type": "object",
        "properties": {
            "even": {"type": "integer", "multipleOf": 2, "minimum": 3, "maximum": 9},
            "tenth": {"type": "number", "multipleOf": 0.1, "minimum": 0, "maximum": 1},
            "negative": {"type": "integer", "exclusiveMaximum": 0},
            "narrow": {"type": "number", "minimum": 2.5, "maximum": 2.5},
        },
        "required": ["even", "tenth", "negative", "narrow"],
    },
    "strings": {
        "type": "object",
        "properties": {
            "short": {"type": "string", "maxLength": 4},
            "long": {"type": "string", "minLength": 80},
            "exact": {"type": "string", "minLength": 5, "maxLength": 5},
            "when": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "mail": {"type": "string", "format": "email"},
            "id": {"type": "string", "format": "uuid"},
            "link": {"type": "string", "format": "uri"},
        },
        "required": ["short", "long", "exact", "when", "day", "mail", "id", "link"],
    },
    "open object": {"type": "object", "additionalProperties": {"type": "integer"}},
    "untyped": {"properties": {"x": {}}, "required": ["x"]},
    "top-level array": {"type": "array", "items": {"type": "number"}, "minItems": 1},
}


def words(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    yield "[sim-cheap]"
    while True:
        yield " " + rng.choice(["alpha", "beta", "gamma", "delta"])


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_instances_validate(name: str) -> None:
    schema = SCHEMAS[name]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    values = [instance(schema, random.Random(seed), words(seed)) for seed in range(25)]
    for value in values:
        errors = [e.message for e in validator.iter_errors(value)]
        assert not errors, (value, errors)
    assert len({repr(v) for v in values}) > 1 or name == "untyped"  # seeded: the values vary


def test_instances_are_deterministic_and_strings_come_from_the_words() -> None:
    schema = SCHEMAS["defs and refs"]
    first = instance(schema, random.Random(7), words(7))
    assert first == instance(schema, random.Random(7), words(7))
    text = "".join(itertools.islice(words(7), 200))
    strings = [step["explanation"] for step in first["steps"]] or [first["final_answer"]]
    assert text.startswith(strings[0]) and strings[0].startswith("[sim-cheap]")


def test_recursion_is_bounded() -> None:
    for seed in range(10):
        value = instance(NODE, random.Random(seed), words(seed))
        depth = 0
        while value["children"]:
            value, depth = value["children"][0], depth + 1
        assert depth <= 10


def test_strict_schemas() -> None:
    for name in ("strict object", "arrays", "defs and refs", "anyOf and nullable", "recursive"):
        assert strict_schema_problem(SCHEMAS[name]) is None, name
    open_object = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert strict_schema_problem(open_object) == (
        "In context=(), 'additionalProperties' is required to be supplied and to be false."
    )
    nested = {**SCHEMAS["strict object"], "properties": {"inner": {**open_object, "additionalProperties": False}}}
    nested["required"] = ["inner"]
    assert strict_schema_problem(nested) is None
    nested["properties"]["inner"]["required"] = []
    problem = strict_schema_problem(nested)
    assert problem is not None and "context=('properties', 'inner')" in problem and "Missing 'a'" in problem
    assert strict_schema_problem({"type": "array", "items": {}}) is not None
