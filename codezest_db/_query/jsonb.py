"""JSON out: json and jsonb columns decoded by pydantic-core's parser, not ``json.loads``.

psycopg decodes a json or jsonb value with ``json.loads`` unless told
otherwise: 1.2-1.5 us for a small object, more than validating the whole row
into its model. ``pydantic_core.from_json`` (jiter, the Rust parser pydantic
itself uses, installed with it) gives the same Python values in about a fifth
of that. Where it refuses a document ``json.loads`` takes (nesting deeper than
its limit of 200 levels), ``json.loads`` reads it: every value is the one
psycopg would give.

It is installed through psycopg's public ``set_json_loads``: on each pooled
connection once, when the pool opens it; for a connection passed as ``conn``,
only on the cursor of a query whose rows may hold JSON and be many (installing
on a cursor costs about 7 us), so the caller's connection is never changed.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import AdaptersMap
from psycopg.types.json import set_json_loads
from pydantic import BaseModel
from pydantic_core import from_json

from .rows import schema_has

__all__ = ["holds_json", "install", "installed", "loads"]


def loads(data: bytes | str) -> Any:
    """A JSON document's value, as ``json.loads`` gives it."""
    try:
        return from_json(data, cache_strings="keys")
    except ValueError:  # deeper than jiter goes: json.loads decides
        return json.loads(data)


def install(context: Any) -> None:
    """Decode json and jsonb with `loads` on *context* (a connection or a cursor)."""
    set_json_loads(loads, context)


class _Scratch:
    """An adaptation context of its own, to learn which loader `install` registers."""

    def __init__(self) -> None:
        self.adapters = AdaptersMap(psycopg.adapters)


_scratch = _Scratch()
install(_scratch)
_JSONB = psycopg.adapters.types["jsonb"].oid
_OURS = _scratch.adapters.get_loader(_JSONB, pq.Format.TEXT)


def installed(conn: Any) -> bool:
    """Whether *conn*'s cursors decode JSON with `loads` already (a pooled connection)."""
    return conn.adapters.get_loader(_JSONB, pq.Format.TEXT) is _OURS


def holds_json(model: type[BaseModel]) -> bool:
    """Whether a field of *model* could take a JSON column's value (a dict, list or Any)."""
    return schema_has(model.__pydantic_core_schema__, _JSON_LIKE)


_JSON_LIKE = frozenset({"dict", "list", "any", "json"})
