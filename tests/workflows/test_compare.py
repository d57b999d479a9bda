"""`app.workflow_compare`: the typed comparison the decision query uses, case by case."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from apps import state

MISSING = object()

CASES = [
    # (actual, operator, expected, holds)
    ("80", "eq", 80, True),            # a number written as text equals the number
    (80, "eq", "80.0", True),
    ("080", "gte", 80, True),
    ("80", "gt", 79, True),
    ("80", "gt", 100, False),          # as numbers: 80 < 100 (as text "80" > "100")
    ("9", "lt", "10", True),           # both read as numbers: 9 < 10
    ("abc", "lt", "abd", True),
    ("b", "gt", "a", True),
    ("2026-11-20", "gte", "2026-11-01", True),   # ISO dates compare as text
    (" 1e3 ", "eq", 1000, True),
    ("1e999", "gt", 1, True),          # big exponent: a number, no overflow
    ("NaN", "eq", "NaN", True),        # not a number here: compared as text
    ("NaN", "gt", 1, True),            # text "NaN" > text "1"
    ("enterprise", "eq", "enterprise", True),
    ("Enterprise", "eq", "enterprise", False),   # eq is exact text
    ("Enterprise plan", "contains", "enterprise", True),  # contains ignores case
    (["sso", "audit"], "contains", "sso", True),
    ([1, 2, 3], "contains", "2", True),
    ("80", "in", [80, 90], True),
    ("70", "in", [80, 90], False),
    ("HOT", "in", ["HOT", "WARM"], True),
    (True, "eq", "true", True),
    ("x", "neq", "y", True),
    ("80", "neq", 80, False),
    (MISSING, "eq", None, True),       # a missing field equals null
    (None, "eq", None, True),
    (MISSING, "neq", "x", True),
    (MISSING, "eq", "x", False),
    (MISSING, "gt", 1, False),
    (MISSING, "contains", "x", False),
    (MISSING, "in", ["x"], False),
    ("x", "eq", None, False),
    (5, "between", 1, False),          # unknown operator: never holds (the validator refuses it first)
]


@pytest.mark.parametrize("actual, operator, expected, holds", CASES)
def test_typed_comparison(actual, operator, expected, holds):
    with state.engine().connect() as connection:
        result = connection.execute(
            text("select app.workflow_compare(cast(:actual as jsonb), :operator, cast(:expected as jsonb))"),
            {"actual": None if actual is MISSING else json.dumps(actual), "operator": operator,
             "expected": json.dumps(expected)}).scalar()
    assert result is holds
