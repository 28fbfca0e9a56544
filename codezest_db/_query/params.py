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

Every value is checked before anything is sent, typed in the signatures or
not: text (a str anywhere, also inside a list or a JSON value) must encode as
UTF-8 (a lone surrogate such as ``"\\ud800"`` is refused) and hold at most
`MAX_TEXT` characters. A JSON value (a dict, a pydantic model, or the object
of a ``Jsonb``/``Json`` without a ``dumps`` of its own) is walked without
recursion and rebuilt by one rule, the one of pydantic's
``model_dump(mode="json")``, so a model and a dict holding the same data send
the same JSON: a datetime, date or time becomes its ISO 8601 text, a
timedelta its ISO 8601 duration, a UUID and a Decimal their text, an enum
member its value, a tuple a list, a model its ``model_dump(mode="json")``
(by the model's own config: pydantic writes a NaN there as null, bytes as
text), then checked like a dict. Refused: a key that is not a str, text
holding NUL (jsonb cannot store ``\\u0000``), a NaN or infinite float, an integer of more than
about `MAX_SCALAR` digits, anything else JSON cannot carry (bytes, a set,
...), nesting deeper than `MAX_JSON_DEPTH`, or more than `MAX_JSON` in all
(characters of its text plus one per item). A list (a PostgreSQL array) is
walked for its text the same way, nested at most `MAX_JSON_DEPTH`. All of it
runs in time linear in the value and bounded by those limits.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from psycopg.types.json import Json, Jsonb
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from ..errors import DatabaseError, InvalidParameters, InvalidValue
from . import signatures

__all__ = [
    "MAX_JSON",
    "MAX_JSON_DEPTH",
    "MAX_SCALAR",
    "MAX_TEXT",
    "ParamCheck",
    "checker",
    "json_value",
    "unsent",
]

MAX_TEXT = 1024 * 1024  # characters of one text parameter
# Rows of a page: every list query takes ``limit`` (default DEFAULT_LIMIT, in its
# SQL) and refuses more than MAX_LIMIT rather than cut the page short unseen (a
# caller paging until a short page would stop early).
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SCALAR = 1024  # characters of a uuid, number, enum, address or time written as text
MAX_JSON_DEPTH = 64  # levels of nested objects and arrays in one JSON value (or list)
MAX_JSON = MAX_TEXT  # characters of text (keys and strings) plus items, in one JSON value
_MAX_INT_BITS = 3401  # 2**3401 has 1,024 digits: a larger integer is refused in JSON

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


def _check_str(query: str, name: str, value: str, where: str = "") -> None:
    """Refuse text that UTF-8 cannot carry (a lone surrogate) or longer than MAX_TEXT.

    Never shows the text itself: only its size and where the bad character is.
    """
    if len(value) > MAX_TEXT:
        raise InvalidValue(
            f"{query}: parameter {name}{where} expects text of at most {MAX_TEXT} characters,"
            f" got str of {len(value)} characters"
        )
    if value.isascii():  # O(1) in CPython: the common case costs nothing more
        return
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise InvalidValue(
            f"{query}: parameter {name}{where} holds text UTF-8 cannot encode"
            f" (a lone surrogate at character {exc.start} of {len(value)})"
        ) from None


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
    _check_str(query, name, value)


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

# The one Python type per PostgreSQL type whose values pass its check as they
# are (a subset of _PLAIN): a call giving only such values (text short and
# ASCII) is done in one pass (`ParamCheck`); any other goes the whole way.
_QUICK: dict[str, type] = {
    "text": str,
    "varchar": str,
    "bpchar": str,
    "citext": str,
    "name": str,
    "uuid": UUID,
    "int2": int,
    "int4": int,
    "int8": int,
    "numeric": Decimal,
    "float4": float,
    "float8": float,
    "bool": bool,
    "timestamptz": datetime,
    "date": date,
    "bytea": bytes,
}


class ParamCheck:
    """Checks a call's keyword arguments against a query's parameters: names, then types.

    The common call (every value of exactly its parameter's type, None only
    where the signature allows it, text short and ASCII) is checked in one
    pass over the values; any other is checked rule by rule (`checker`), as
    the quick pass would have accepted nothing the rules refuse.
    """

    __slots__ = (
        "all_quick",
        "allowed",
        "defaults",
        "limited",
        "qualname",
        "quick",
        "required",
        "types",
    )

    def __init__(self, qualname: str, params: Iterable[str], optional: Iterable[str]) -> None:
        self.qualname = qualname
        self.allowed = frozenset(params)
        self.defaults = dict.fromkeys(optional)
        self.required = self.allowed - self.defaults.keys()
        types = signatures.PARAMS.get(qualname)
        self.types = checker(qualname, types, signatures.ENUMS) if types else None
        self.limited = "limit" in self.allowed
        # name -> (the type its values pass as, whether None passes); typed parameters only
        self.quick: dict[str, tuple[type, bool]] = {
            name: (_QUICK[pg_type], nullable)
            for name, (pg_type, nullable) in (types or {}).items()
            if pg_type in _QUICK
        }
        self.all_quick = self.quick.keys() == self.allowed  # (no parameters: nothing to check)

    def __call__(self, given: dict[str, Any]) -> dict[str, Any]:
        if given.keys() != self.allowed:
            given = self._complete(given)
        if self.all_quick:  # every parameter has a quick rule
            quick = self.quick
            for name, value in given.items():
                rule = quick[name]
                kind = type(value)
                if kind is str:
                    if rule[0] is not str or len(value) > MAX_TEXT or not value.isascii():
                        break
                elif kind is not rule[0] and (value is not None or not rule[1]):
                    break
            else:
                if self.limited:
                    _check_limit(self.qualname, given["limit"])
                return given
        return self._checked(given)

    def _checked(self, given: dict[str, Any]) -> dict[str, Any]:
        if self.types is not None:
            self.types(given)
        if self.limited:
            _check_limit(self.qualname, given["limit"])
        plain = True
        for name, value in given.items():
            kind = type(value)
            if kind is str:
                if len(value) > MAX_TEXT or not value.isascii():
                    _check_str(self.qualname, name, value)
            elif kind not in _PLAIN:
                plain = False
        return given if plain else _adapt(self.qualname, given)

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


def _check_limit(query: str, limit: Any) -> None:
    if limit is None:
        return
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue(
            f"{query}: parameter limit expects a whole number from 1 to {MAX_LIMIT} "
            f"(None: {DEFAULT_LIMIT}), got {_shown(limit)}"
        )


def _adapt(query: str, params: dict[str, Any]) -> dict[str, Any]:
    # A dict is always a json object here; lists stay lists (PostgreSQL arrays).
    adapted = dict(params)
    for name, value in params.items():
        if type(value) in _PLAIN:
            continue
        if isinstance(value, dict | BaseModel):
            adapted[name] = Jsonb(json_value(query, name, value))
        elif isinstance(value, Json | Jsonb):
            if value.dumps is None:  # a dumps of the caller's own is theirs to answer for
                adapted[name] = type(value)(json_value(query, name, value.obj))
        elif isinstance(value, list | tuple):
            _check_list(query, name, value)
        elif isinstance(value, str):  # a str subclass (a StrEnum member)
            _check_str(query, name, value)
    return adapted


class _Path:
    """Where a value sits in a JSON value: built as the walk goes, shown only on refusal."""

    __slots__ = ("key", "parent")

    def __init__(self, parent: _Path | None, key: Any) -> None:
        self.parent, self.key = parent, key

    def child(self, key: Any) -> _Path:
        return _Path(self, key)

    def __str__(self) -> str:
        keys: list[Any] = []
        node: _Path | None = self
        while node is not None:
            keys.append(node.key)
            node = node.parent
        shown = []
        for key in reversed(keys[:-2]):  # the last two: the root and the value's slot in it
            if isinstance(key, int):
                shown.append(f"[{key}]")
            else:
                text = key if len(key) <= 40 else f"{key[:40]}…"
                shown.append(f"[{text.encode(errors='backslashreplace').decode()!r}]")
        if len(shown) > 8:  # the innermost keys say where; the message stays short
            shown = ["…", *shown[-8:]]
        return " at $" + "".join(shown)


# Leaves converted by pydantic's own rule for model_dump(mode="json").
_CONVERTED = (datetime, date, time, timedelta, UUID, Decimal)


def json_value(query: str, name: str, value: Any) -> Any:
    """*value* as JSON can carry it, by pydantic's ``mode="json"`` rule; or InvalidValue.

    Iterative (a 100,000-deep value is refused, never a RecursionError), one
    visit per item, and at most `MAX_JSON` items and characters: linear in the
    value and bounded by the limits.
    """
    size = 0
    root: list[Any] = []
    # Each entry: the (key, item) pairs still to visit, the container they go
    # to, its depth, and where it sits.
    stack: list[tuple[Iterator[tuple[Any, Any]], Any, int, _Path]] = [
        (iter([(0, value)]), root, 0, _Path(None, "$"))
    ]

    def refuse(why: str, path: _Path) -> InvalidValue:
        return InvalidValue(f"{query}: parameter {name} (JSON) {why}{path}")

    while stack:
        items, target, depth, path = stack[-1]
        for key, item in items:
            size += 1
            if type(target) is dict:
                if type(key) is not str:
                    raise refuse(f"has a key of type {type(key).__name__}, not str", path)
                size += len(key)
                if not key.isascii():
                    _check_str(query, name, key, f" (a JSON key{path})")
                if "\x00" in key:
                    raise refuse("has a key holding NUL (\\u0000), which jsonb cannot store", path)
            kind = type(item)
            if kind is str:
                size += len(item)
                if not item.isascii() and size <= MAX_JSON:
                    _check_str(query, name, item, f" (JSON{path.child(key)})")
                if "\x00" in item:
                    raise refuse(
                        "has text holding NUL (\\u0000), which jsonb cannot store", path.child(key)
                    )
            elif kind is int:
                if item.bit_length() > _MAX_INT_BITS:
                    raise refuse("has an integer of more than 1,024 digits", path.child(key))
            elif kind is float:
                if not math.isfinite(item):
                    raise refuse(f"has {item!r}, which JSON cannot carry", path.child(key))
            elif kind is not bool and item is not None:
                item = _leaf(item)
                if item is _REFUSED:
                    why = (
                        "pydantic cannot dump"
                        if isinstance(item, BaseModel)
                        else "JSON cannot carry"
                    )
                    raise refuse(f"has a {kind.__name__}, which {why}", path.child(key))
                if type(item) is dict or type(item) is list:
                    if depth >= MAX_JSON_DEPTH:
                        raise refuse(f"nests deeper than {MAX_JSON_DEPTH} levels", path)
                    child: Any = {} if type(item) is dict else []
                    pairs = iter(item.items()) if type(item) is dict else enumerate(item)
                    _put(target, key, child)
                    stack.append((pairs, child, depth + 1, path.child(key)))
                    break  # the child's items first; this container's resume after
                if type(item) is str:
                    size += len(item)
                    if not item.isascii() and size <= MAX_JSON:
                        _check_str(query, name, item, f" (JSON{path.child(key)})")
                    if "\x00" in item:
                        raise refuse("has text holding NUL (\\u0000)", path.child(key))
            if size > MAX_JSON:
                raise refuse(f"holds more than {MAX_JSON} characters and items", _Path(None, "$"))
            _put(target, key, item)
        else:
            stack.pop()
    return root[0]


_REFUSED: Any = object()


def _put(target: Any, key: Any, item: Any) -> None:
    if type(target) is list:
        target.append(item)
    else:
        target[key] = item


def _leaf(item: Any) -> Any:
    """A value of a JSON container that is not a plain scalar: converted, or _REFUSED."""
    kind = type(item)
    if kind is dict or kind is list:
        return item
    if kind is tuple:
        return list(item)
    if isinstance(item, Enum):
        return None if item.value is None else _leaf(item.value)
    if isinstance(item, str):  # a subclass: its text
        return str.__str__(item)
    if isinstance(item, bool):
        return bool(item)
    if isinstance(item, int):
        return int(item) if item.bit_length() <= _MAX_INT_BITS else _REFUSED
    if isinstance(item, float):
        return float(item) if math.isfinite(item) else _REFUSED
    if isinstance(item, _CONVERTED):
        return to_jsonable_python(item)
    if isinstance(item, BaseModel):
        try:
            return item.model_dump(mode="json")
        except (ValueError, TypeError, RecursionError):  # pydantic's "depth exceeded", ...
            return _REFUSED
    if isinstance(item, dict):  # a subclass
        return dict(item)
    if isinstance(item, list | tuple):
        return list(item)
    return _REFUSED


def _check_list(query: str, name: str, value: list[Any] | tuple[Any, ...]) -> None:
    """Check the text of a list (a PostgreSQL array, or rows of a Python query), iteratively.

    Its items are not converted; text inside nested lists, tuples and dicts
    must encode, and nesting is at most MAX_JSON_DEPTH.
    """
    stack: list[tuple[Iterator[Any], int]] = [(iter(value), 1)]
    while stack:
        items, depth = stack[-1]
        for item in items:
            kind = type(item)
            if kind is str:
                if len(item) > MAX_TEXT or not item.isascii():
                    _check_str(query, name, item, " (an item of the list)")
            elif kind in _PLAIN:
                pass
            elif isinstance(item, list | tuple | dict):
                if depth >= MAX_JSON_DEPTH:
                    raise InvalidValue(
                        f"{query}: parameter {name} nests deeper than {MAX_JSON_DEPTH} levels"
                    )
                inner = [*item.keys(), *item.values()] if isinstance(item, dict) else item
                stack.append((iter(inner), depth + 1))
                break
            elif isinstance(item, str):
                _check_str(query, name, item, " (an item of the list)")
        else:
            stack.pop()


# What psycopg may raise, beside its own errors, adapting a value it was given
# (json.dumps of a caller's own dumps, a str the client encoding cannot take,
# a nesting too deep for its dumpers, a number out of range).
UNSENT = (UnicodeError, RecursionError, OverflowError, TypeError, ValueError)


def unsent(query: str, exc: BaseException, *, python: bool = False) -> InvalidValue | None:
    """The InvalidValue for *exc* (one of `UNSENT`) if adapting a value raised it, else None.

    Not ours to map: our own errors, a row a model refused (ValidationError),
    a result the client cannot decode, and a TypeError or ValueError of a
    query written in Python (*python*), which are its own.
    """
    if isinstance(exc, DatabaseError | ValidationError | UnicodeDecodeError):
        return None
    if python and isinstance(exc, TypeError | ValueError) and not isinstance(exc, UnicodeError):
        return None
    text = str(exc)
    text = text if len(text) <= 200 else f"{text[:200]}…"
    return InvalidValue(f"{query}: a value could not be sent ({type(exc).__name__}: {text})")
