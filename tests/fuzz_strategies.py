"""Hypothesis strategies for the fuzz suite: request bodies near and far from their schema.

Every field is drawn either from values its schema means to accept (so examples reach the
store) or from anything JSON can carry, and the texts lean on what breaks stores: NUL,
lone surrogates, long strings, numbers beyond 64 bits, ``NaN`` and ``Infinity``. The
settings are bounded and derandomized, so the suite takes the same seconds on every run.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: The same examples on every run, few enough that the whole suite adds seconds.
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

NASTY_TEXT = st.sampled_from(
    ["", " ", "\u0000", "a\u0000b", "\ud800", "x\udfff", "\u202e", "é", "<@U0ALICE>", "'; --"]
)
#: Any character, lone surrogates included (the default ``text()`` leaves them out).
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
TEXT = st.one_of(
    NASTY_TEXT,
    st.text(min_size=1, max_size=20),
    st.text(ANY_CHARACTER, min_size=1, max_size=8),
)
LONG_TEXT = st.one_of(TEXT, st.integers(150, 2100).map(lambda n: "x" * n))
NUMBER = st.one_of(
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 2**31, math.inf, math.nan, -1, 0]),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
JSON_VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
JSON_OBJECT = st.dictionaries(TEXT, JSON_VALUE, max_size=3)
TIMESTAMP = st.one_of(
    st.sampled_from(
        [
            "2026-12-05T10:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-14:00",
            "2026-13-01T00:00:00Z",
            "2026-12-05T10:00:00",
        ]
    ),
    st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
)
IDENTIFIER = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True),
    st.sampled_from(["gate:q1", "handoff:h1", "park:p1"]),
    TEXT,
)
ACTION = st.one_of(st.sampled_from(["send_reply", "refund", "tag", "route", "nope"]), TEXT)


def body(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[Any]:
    """Mostly a body of the schema's shape (its values may still be ones no store keeps),
    sometimes one with a field of any JSON, a required field missing or an unknown field,
    and rarely any JSON value at all."""
    shaped = st.fixed_dictionaries(required, optional=optional)
    names = sorted({*required, *optional})

    def one_field_wild(found: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.tuples(st.sampled_from(names), JSON_VALUE).map(
            lambda pair: {**found, pair[0]: pair[1]}
        )

    def one_field_missing(found: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(sorted(required) or names).map(
            lambda name: {key: value for key, value in found.items() if key != name}
        )

    return st.one_of(
        *[shaped] * 6,
        shaped.flatmap(one_field_wild),
        shaped.flatmap(one_field_missing),
        shaped.map(lambda found: {**found, "unknown_field": 1}),
        JSON_VALUE,
    )


def encoded(value: Any) -> st.SearchStrategy[bytes]:
    """``value`` as JSON text (``NaN``/``Infinity`` as Python writes them), or rarely raw
    bytes that are not JSON or not UTF-8."""
    as_json = st.just(json.dumps(value, allow_nan=True).encode())
    return st.one_of(*[as_json] * 9, st.binary(max_size=12))


EVENT = body(
    {"type": st.sampled_from(["prompt", "model", "tool", "note", "gate", "bogus"])},
    {
        "id": IDENTIFIER,
        "name": TEXT,
        "status": TEXT,
        "started_at": TIMESTAMP,
        "ended_at": TIMESTAMP,
        "duration_ms": NUMBER,
        "input": JSON_VALUE,
        "output": JSON_VALUE,
        "error": LONG_TEXT,
        "model": LONG_TEXT,
        "settings": JSON_OBJECT,
        "prompt_version": TEXT,
        "tokens_in": NUMBER,
        "tokens_out": NUMBER,
    },
)

BODIES: dict[str, st.SearchStrategy[Any]] = {
    "runs": body(
        {},
        {
            "run_id": IDENTIFIER,
            "input_source": LONG_TEXT,
            "prompt_version": TEXT,
            "model": LONG_TEXT,
            "metadata": JSON_OBJECT,
        },
    ),
    "events": body({"events": st.lists(EVENT, min_size=0, max_size=3)}, {}),
    "finish": body(
        {"status": st.sampled_from(["succeeded", "failed", "cancelled", "running"])},
        {"result": JSON_VALUE, "error": LONG_TEXT},
    ),
    "gate": body(
        {"action": ACTION},
        {
            "request_id": IDENTIFIER,
            "draft": LONG_TEXT,
            "confidence": st.one_of(st.floats(0, 1), NUMBER),
            "summary": LONG_TEXT,
            "payload": JSON_VALUE,
        },
    ),
    "handoffs": body(
        {
            "kind": st.sampled_from(["draft", "tool_failure", "other", "nope"]),
            "summary": LONG_TEXT,
        },
        {
            "request_id": IDENTIFIER,
            "action": ACTION,
            "draft": LONG_TEXT,
            "confidence": NUMBER,
            "tool": LONG_TEXT,
            "error": LONG_TEXT,
            "last_step": LONG_TEXT,
            "context": JSON_VALUE,
        },
    ),
    "park": body(
        {"last_step": LONG_TEXT},
        {
            "request_id": IDENTIFIER,
            "input_ref": LONG_TEXT,
            "extracted": JSON_VALUE,
            "error": LONG_TEXT,
        },
    ),
    "claim": body({}, {"limit": NUMBER}),
    "pause": body({}, {"reason": LONG_TEXT}),
    "resume": body({}, {"note": LONG_TEXT}),
}

#: Path parameters: real-looking, over-long, with control characters, or URL syntax.
PATH_PARAMETER = st.one_of(
    IDENTIFIER,
    st.sampled_from(["%00", "%2F", "..", "%ZZ", "a%20b", "x" * 300, "ticket-triage", "all"]),
)
QUERY_VALUE = st.one_of(
    TEXT, st.sampled_from(["1e999", "nan", "-1", "60", "0.5", "parked,resumed", "%00"])
)
