"""Every query, sync and asyncio, under Hypothesis: a result of the right shape or a typed error.

Each example draws a query of a domain and a value for each of its
parameters: mostly a value of the parameter's PostgreSQL type (from the same
generated table the runtime checks), sometimes junk (None, floats, lists,
dicts, bytes, long or NUL-bearing text). The outcome must be a result of the
query's shape or a `codezest_db.errors.DatabaseError`, nothing else, within
the connection's statement timeout; each example runs in a savepoint rolled
back after it, and the pool still serves afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Json, Jsonb

from codezest_db import aio, errors, queries
from codezest_db._query.params import ParamCheck
from codezest_db._query.signatures import ENUMS, PARAMS

DOMAINS = ["activity", "auth", "learning", "notifications", "payments"]
EXAMPLES = 120  # per domain and flavour: a bounded budget for CI

_text = st.text(max_size=40)
_junk = st.one_of(
    st.none(),
    st.floats(allow_nan=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(_text, st.integers(), max_size=3),
    st.binary(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=30),
    st.just("x" * 5000),
    st.just("a\x00b"),
)
_VALID: dict[str, st.SearchStrategy[Any]] = {
    "uuid": st.uuids(),
    "text": _text,
    "varchar": _text,
    "bpchar": st.text(min_size=3, max_size=3),
    "citext": _text,
    "int2": st.integers(-(2**15), 2**15),
    "int4": st.integers(-(2**31), 2**31),
    "int8": st.integers(-(2**63), 2**63),
    "numeric": st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.integers(-(10**6), 10**6),
    "float8": st.floats(allow_nan=False),
    "bool": st.booleans(),
    "timestamptz": st.datetimes(timezones=st.just(UTC)),
    "timestamp": st.datetimes(),
    "date": st.dates(),
    "interval": st.timedeltas(min_value=timedelta(days=-1000), max_value=timedelta(days=1000)),
    "bytea": st.binary(max_size=20),
    "inet": st.ip_addresses(),
    "jsonb": st.dictionaries(_text, _text | st.integers(), max_size=3),
    "array": st.lists(_text, max_size=3),
}


def value_for(pg_type: str) -> st.SearchStrategy[Any]:
    if pg_type.startswith("enum:"):
        valid: st.SearchStrategy[Any] = st.sampled_from(ENUMS[pg_type.removeprefix("enum:")])
    else:
        valid = _VALID.get(pg_type, _text)
    return st.one_of(valid, valid, valid, _junk)  # mostly well-typed


@st.composite
def calls(draw: st.DrawFn, domain: str) -> tuple[str, dict[str, Any]]:
    names = sorted(n for n in PARAMS if n.startswith(f"{domain}."))
    if domain == "activity":
        names.append("activity.record_events")
    qualname = draw(st.sampled_from(names))
    if qualname == "activity.record_events":
        event = st.fixed_dictionaries({"name": _text}, optional={"user_id": st.uuids() | _junk})
        return qualname, {"events": draw(st.lists(event | _junk, max_size=3) | _junk)}
    params = {name: draw(value_for(kind)) for name, (kind, _) in PARAMS[qualname].items()}
    return qualname, params


def shaped(fn: Any, result: Any) -> bool:
    """Whether *result* has the shape *fn*'s operation promises."""
    spec = fn.spec
    kind = spec.operation.name
    if kind == "INSERT_UPDATE_DELETE":
        return isinstance(result, int)
    if kind == "SELECT":
        return isinstance(result, list) and all(isinstance(r, spec.model) for r in result)
    if kind == "SELECT_ONE":
        return result is None or isinstance(result, spec.model)
    return isinstance(result, str | int | float | Decimal | bool | uuid.UUID | list | dict) or (
        result is None or hasattr(result, "isoformat")
    )


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # bounded by statement_timeout and the suite's per-test timeout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
    derandomize=True,
)


@pytest.mark.parametrize("domain", DOMAINS)
def test_sync_calls_give_a_result_or_a_typed_error(configured: str, domain: str) -> None:
    seen = {"result": 0, "error": 0}
    with psycopg.connect(configured, options="-c statement_timeout=5000") as conn:

        @FUZZ
        @given(call=calls(domain))
        def run(call: tuple[str, dict[str, Any]]) -> None:
            qualname, params = call
            fn = getattr(getattr(queries, domain), qualname.split(".")[1])
            try:
                with conn.transaction(force_rollback=True):
                    result = fn(conn, **params)
            except errors.DatabaseError:
                seen["error"] += 1
                return
            seen["result"] += 1
            assert shaped(fn, result), (qualname, result)

        run()
        conn.rollback()
    assert seen["result"] > 0 and seen["error"] > 0, seen  # both kinds of outcome were met
    assert queries.learning.list_languages() is not None  # the pool still serves


@pytest.mark.parametrize("domain", DOMAINS)
def test_async_calls_give_a_result_or_a_typed_error(configured: str, domain: str) -> None:
    async def main() -> None:
        conn = await psycopg.AsyncConnection.connect(
            configured, options="-c statement_timeout=5000"
        )
        try:
            loop = asyncio.get_running_loop()
            outcomes: list[tuple[str, Any]] = []

            @FUZZ
            @given(call=calls(domain))
            def collect(call: tuple[str, dict[str, Any]]) -> None:
                outcomes.append(call)

            collect()
            seen = {"result": 0, "error": 0}
            for qualname, params in outcomes:
                fn = getattr(getattr(aio.queries, domain), qualname.split(".")[1])
                try:
                    async with conn.transaction(force_rollback=True):
                        result = await fn(conn, **params)
                except errors.DatabaseError:
                    seen["error"] += 1
                    continue
                seen["result"] += 1
                assert shaped(fn, result), (qualname, result)
            assert seen["result"] > 0 and seen["error"] > 0, seen
            assert loop.is_running()
            assert await aio.queries.learning.list_languages() is not None
        finally:
            await conn.close()
            await aio.close()

    asyncio.run(main())


def _outcome(step: Any, given: dict[str, Any]) -> tuple[str, Any]:
    try:
        checked = step(dict(given))
    except errors.DatabaseError as exc:
        return type(exc).__name__, str(exc)
    # A Jsonb wrapper has no equality of its own: compare what it wraps.
    return "value", {
        name: (type(value).__name__, value.obj) if isinstance(value, Jsonb | Json) else value
        for name, value in checked.items()
    }


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_quick_parameter_pass_agrees_with_the_rules(domain: str) -> None:
    """`ParamCheck`'s one-pass path for common calls accepts exactly what its rules
    accept, and returns the same values: every draw is checked both ways (no server)."""
    checks = {}

    @FUZZ
    @given(call=calls(domain))
    def agree(call: tuple[str, dict[str, Any]]) -> None:
        qualname, params = call
        if qualname not in checks:
            spec = getattr(getattr(queries, domain), qualname.split(".")[1]).spec
            checks[qualname] = ParamCheck(qualname, spec.params, spec.optional)
        check = checks[qualname]

        def by_the_rules(given: dict[str, Any]) -> dict[str, Any]:
            if given.keys() != check.allowed:
                given = check._complete(given)
            return check._checked(given)

        assert _outcome(check, params) == _outcome(by_the_rules, params)

    agree()
    # The quick path is taken at all: most of this domain's queries can use it.
    assert sum(check.all_quick for check in checks.values()) >= len(checks) // 2, checks
