"""Check a call's values against the PostgreSQL types of its query's parameters.

The types come from `codezest_db._query.signatures`, which ``codezest-db stubs``
writes in the same run as the typed signatures (what PostgreSQL reports for
each parameter when the query is prepared), so the check and the signature
cannot disagree. A refusal is InvalidValue (an InvalidParameters and a
ConstraintViolation) naming the query, the
parameter, the expected type and what was given (its type and size, never
the whole value); nothing is sent.

Rules: no float where an integer is expected (1999.5 is not an amount), no
bool for a number, no list, dict or number where text is expected, None only
for a parameter the signature marks ``X | None``, an enum label that exists,
a uuid that parses; text at most `MAX_TEXT` characters, anything else
written as a string at most `MAX_SCALAR`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from psycopg.types.json import Json, Jsonb
from pydantic import BaseModel

from ..errors import InvalidParameters, InvalidValue
from . import signatures

__all__ = ["MAX_SCALAR", "MAX_TEXT", "ParamCheck", "checker"]

MAX_TEXT = 1024 * 1024  # characters of one text parameter
MAX_SCALAR = 1024  # characters of a uuid, number, enum, address or time written as text

Check = Callable[[str, str, Any], None]


def _shown(value: Any) -> str:
    """What was given: its type and size, and a short prefix of its text."""
    kind = type(value).__name__
    if isinstance(value, str | bytes):
        return f"{kind} of {len(value)} characters" if len(value) > 40 else f"{kind} {value!r}"
    if isinstance(value, list | tuple | dict | set):
        return f"{kind} of {len(value)} items"
    text = repr(value)
    return f"{kind} {text[:40]}{'…' if len(text) > 40 else ''}"


def _refuse(query: str, name: str, expected: str, value: Any) -> InvalidValue:
    return InvalidValue(f"{query}: parameter {name} expects {expected}, got {_shown(value)}")


def _exact(expected: str, *types: type, longest: int = MAX_SCALAR, parse: Any = None) -> Check:
    def check(query: str, name: str, value: Any) -> None:
        kind = type(value)
        if kind in types:
            return
        if kind is str and parse is not None:
            if len(value) > longest:
                raise _refuse(query, name, f"{expected} (at most {longest} characters)", value)
            try:
                parse(value)
            except ValueError:
                raise _refuse(query, name, expected, value) from None
            return
        if kind is bool or not isinstance(value, types):
            raise _refuse(query, name, expected, value)

    return check


def _text(query: str, name: str, value: Any) -> None:
    if type(value) is not str:
        if isinstance(value, str):  # a str subclass, e.g. a StrEnum member
            return
        raise _refuse(query, name, "text (str)", value)
    if len(value) > MAX_TEXT:
        raise _refuse(query, name, f"text of at most {MAX_TEXT} characters", value)


def _json(query: str, name: str, value: Any) -> None:
    if not isinstance(value, dict | BaseModel | Jsonb | Json):
        raise _refuse(query, name, "a JSON object (dict, pydantic model or Jsonb)", value)


def _array(query: str, name: str, value: Any) -> None:
    if not isinstance(value, list | tuple):
        raise _refuse(query, name, "an array (list)", value)


def _ip(value: str) -> None:
    ipaddress.ip_interface(value)


def _numeric(value: str) -> None:
    try:
        Decimal(value)
    except ArithmeticError:
        raise ValueError(value) from None


_CHECKS: dict[str, Check] = {
    "text": _text,
    "varchar": _text,
    "bpchar": _text,
    "citext": _text,
    "name": _text,
    "uuid": _exact("a uuid (UUID or its text)", UUID, parse=UUID),
    "int2": _exact("an integer (int)", int),
    "int4": _exact("an integer (int)", int),
    "int8": _exact("an integer (int)", int),
    "numeric": _exact("a number (Decimal or int)", Decimal, int, parse=_numeric),
    "float4": _exact("a number (float or int)", float, int),
    "float8": _exact("a number (float or int)", float, int),
    "bool": _exact("a boolean (bool)", bool),
    "timestamptz": _exact("a datetime", datetime, parse=datetime.fromisoformat),
    "timestamp": _exact("a datetime", datetime, parse=datetime.fromisoformat),
    "date": _exact("a date", date, parse=date.fromisoformat),
    "time": _exact("a time", time, parse=time.fromisoformat),
    "interval": _exact("a timedelta", timedelta),
    "bytea": _exact("bytes", bytes, bytearray, memoryview),
    "inet": _exact("an IP address", ipaddress.IPv4Address, ipaddress.IPv6Address, parse=_ip),
    "jsonb": _json,
    "json": _json,
    "array": _array,
}


def _enum(labels: tuple[str, ...], type_name: str) -> Check:
    allowed = frozenset(labels)
    expected = f"a {type_name} ({', '.join(labels)})"

    def check(query: str, name: str, value: Any) -> None:
        text = value.value if isinstance(value, Enum) else value
        if type(text) is not str and not isinstance(text, str):
            raise _refuse(query, name, expected, value)
        if text not in allowed:
            raise _refuse(query, name, expected, value if len(str(text)) < 80 else text)

    return check


def checker(
    query: str, types: Mapping[str, tuple[str, bool]], enums: Mapping[str, tuple[str, ...]]
) -> Callable[[dict[str, Any]], None]:
    """A check of one query's values: *types* maps a parameter to (type, may be None).

    A type is a PostgreSQL type name, ``array``, or ``enum:<Name>`` with its
    labels in *enums*; an unknown type is not checked.
    """
    checks: list[tuple[str, Check | None, bool]] = []
    for name, (pg_type, nullable) in types.items():
        if pg_type.startswith("enum:"):
            enum_name = pg_type.removeprefix("enum:")
            checks.append((name, _enum(enums[enum_name], enum_name), nullable))
        else:
            checks.append((name, _CHECKS.get(pg_type), nullable))

    def check(values: dict[str, Any]) -> None:
        for name, one, nullable in checks:
            value = values.get(name)
            if value is None:
                if not nullable:
                    raise InvalidValue(
                        f"{query}: parameter {name} cannot be None (the SQL needs a value)"
                    )
            elif one is not None:
                one(query, name, value)

    return check


# Parameter types sent as they are; checked first because isinstance() against
# a pydantic model class is slow, and this runs for every parameter of every call.
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, UUID, datetime, date, Decimal})


class ParamCheck:
    """Checks a call's keyword arguments against a query's parameters: names, then types."""

    __slots__ = ("allowed", "defaults", "qualname", "required", "types")

    def __init__(self, qualname: str, params: Iterable[str], optional: Iterable[str]) -> None:
        self.qualname = qualname
        self.allowed = frozenset(params)
        self.defaults = dict.fromkeys(optional)
        self.required = self.allowed - self.defaults.keys()
        types = signatures.PARAMS.get(qualname)
        self.types = checker(qualname, types, signatures.ENUMS) if types else None

    def __call__(self, given: dict[str, Any]) -> dict[str, Any]:
        if given.keys() != self.allowed:
            given = self._complete(given)
        if self.types is not None:
            self.types(given)
        for value in given.values():
            if type(value) not in _PLAIN:
                return _adapt(given)
        return given

    def _complete(self, given: dict[str, Any]) -> dict[str, Any]:
        missing = sorted(self.required - given.keys())
        unknown = sorted(given.keys() - self.allowed)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown {', '.join(unknown)}")
            expected = ", ".join(sorted(self.allowed)) or "none"
            raise InvalidParameters(
                f"{self.qualname}: {'; '.join(parts)} parameter(s) (expected: {expected})"
            )
        return {**self.defaults, **given}


def _adapt(params: dict[str, Any]) -> dict[str, Any]:
    # A dict is always a json object here; lists stay lists (PostgreSQL arrays).
    adapted = dict(params)
    for key, value in params.items():
        if type(value) in _PLAIN:
            continue
        if isinstance(value, dict):
            adapted[key] = Jsonb(value)
        elif isinstance(value, BaseModel):
            adapted[key] = Jsonb(value.model_dump(mode="json"))
    return adapted
