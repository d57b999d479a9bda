"""Recursive key/type comparison of a sandbox response against a recorded example.

Paths look like `$.versions.*.dist` (`*` = any value of a dict whose keys are data, such as
versions) and `$.items[]` (`[]` = every element of a list).
"""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "http"


def recorded(upstream: str, name: str) -> dict:
    """A recorded example: {"source", "request", "status", "headers", "body" | "body_text"}."""
    return json.loads((FIXTURES / upstream / f"{name}.json").read_text(encoding="utf-8"))


def kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python, not in JSON schemas
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_differences(actual: object, expected: object, path: str = "$", maps: frozenset[str] = frozenset(),
                      lenient: frozenset[str] = frozenset()) -> list[str]:
    """Every place where `actual` differs from `expected` in keys or value types.

    - null on either side matches anything (nullable fields are null in one example, set in another);
    - `maps`: dict paths whose keys are data (compare every value against the example's first value);
    - `lenient`: dict paths where the example is not exhaustive (the world supplies the document):
      missing and extra keys are allowed there, types of shared keys must still match.
    """
    if actual is None or expected is None:
        return []
    if kind(actual) != kind(expected):
        return [f"{path}: {kind(actual)} where the real API has {kind(expected)}"]
    if isinstance(expected, list):
        problems = []
        for item in actual if expected else []:
            # Lists may mix variants (issues and pull requests): compare with the variant of the same keys.
            same_keys = [e for e in expected if isinstance(e, dict) and isinstance(item, dict) and e.keys() == item.keys()]
            problems += shape_differences(item, (same_keys or expected)[0], path + "[]", maps, lenient)
        return problems
    if not isinstance(expected, dict):
        return []
    if path in maps:
        sample = next(iter(expected.values()), None)
        return [p for key, value in actual.items()
                for p in shape_differences(value, sample, path + ".*", maps, lenient)] if sample is not None else []
    problems = []
    if path not in lenient:
        problems += [f"{path}.{key}: missing (the real API has it)" for key in expected if key not in actual]
        problems += [f"{path}.{key}: invented (the real API has no such field)" for key in actual
                     if key not in expected]
    for key in expected.keys() & actual.keys():
        problems += shape_differences(actual[key], expected[key], f"{path}.{key}", maps, lenient)
    return problems


def assert_same_shape(actual: object, expected: object, maps: tuple[str, ...] = (),
                      lenient: tuple[str, ...] = ()) -> None:
    problems = shape_differences(actual, expected, "$", frozenset(maps), frozenset(lenient))
    assert not problems, "shape differs from the recorded example:\n  " + "\n  ".join(problems[:40])


def assert_has_keys(document: dict, keys: tuple[str, ...], where: str = "$") -> None:
    missing = [key for key in keys if key not in document]
    assert not missing, f"{where} lacks {missing}"
