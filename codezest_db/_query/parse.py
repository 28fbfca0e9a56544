"""Parse ``queries/`` with aiosql, once, into `QuerySpec`: the only aiosql parsing import.

A query file is one domain (``queries/auth.sql``), or a folder of files is
(``queries/auth/*.sql``). Each block reads::

    -- name: get_user_by_email(email)^
    -- record_class: User
    -- Fetch an active user by email, ignoring case.
    select ...

The ``record_class`` line names the model of the rows (required for ``^`` and
plain selects, refused elsewhere); the comment under it becomes the
function's ``__doc__``, less its metadata lines:

- ``optional: a, b``: those parameters default to None;
- ``not null: c``: result columns `codezest-db check` takes as never NULL;
- ``plan: custom``: never prepared, so PostgreSQL plans every call for its
  own values (a generic plan would be much slower for some of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from .._resources import queries_dir
from ..errors import QueryError

if TYPE_CHECKING:  # aiosql is imported when the first domain loads, not with the package
    from aiosql.types import QueryDatum, SQLOperationType

__all__ = ["QuerySpec", "domain_files", "load_domain", "load_specs", "reads_only"]

ROWS = ("SELECT", "SELECT_ONE")  # names of aiosql's SQLOperationType members
_SUPPORTED = (*ROWS, "SELECT_VALUE", "INSERT_UPDATE_DELETE")
_META = re.compile(r"^(optional|not null|plan)\s*:\s*(.*)$", re.M | re.I)
# aiosql keeps a record_class line whose class it does not know as the first
# line of the doc comment: that is how an unknown model is told apart from none.
_UNKNOWN_RECORD = re.compile(r"\Arecord_class\s*:\s*(\S*)")
_IN_QUERY = re.compile(r"\bin query (\w+)|\bfor: (\w+)")


@dataclass(frozen=True)
class QuerySpec:
    """What a query file says about one query."""

    domain: str
    name: str
    sql: str
    doc: str
    operation: SQLOperationType
    model: type[BaseModel] | None
    params: tuple[str, ...]
    optional: frozenset[str]
    source: str  # file:line of its name line
    not_null: frozenset[str] = frozenset()  # result columns asserted never NULL
    custom_plan: bool = False  # never prepared: planned for each call's values
    reads: bool = False  # its SQL only reads: a replica may answer it

    @property
    def qualname(self) -> str:
        return f"{self.domain}.{self.name}"


def domain_files(root: Path) -> dict[str, list[Path]]:
    """The query files under *root*, by domain, without reading them."""
    domains: dict[str, list[Path]] = {}
    for path in sorted(root.iterdir()):
        files = sorted(path.glob("*.sql")) if path.is_dir() else [path]
        files = [f for f in files if f.suffix == ".sql"]
        if files:
            domains.setdefault(path.stem, []).extend(files)
    return domains


def load_specs(root: Path | None = None) -> dict[str, list[QuerySpec]]:
    """Parse every domain under *root* (default: the shipped ``queries/``).

    Raises QueryError at the first broken file.
    """
    files = domain_files(root or queries_dir())
    return {domain: load_domain(domain, paths) for domain, paths in files.items()}


def load_domain(domain: str, files: list[Path]) -> list[QuerySpec]:
    """Parse one domain's files; raise QueryError naming the file and line of a bad block."""
    from aiosql.adapters.pyformat import PyFormatAdapter
    from aiosql.query_loader import QueryLoader
    from aiosql.utils import SQLLoadException, SQLParseException

    from .. import models  # the record classes

    record_classes = {name: getattr(models, name) for name in models.__all__}
    # aiosql's psycopg adapter turns ``:name`` into ``%(name)s`` once, here; the
    # adapters that run the queries (`codezest_db._query.rows`) are its subclasses.
    loader = QueryLoader(PyFormatAdapter(), record_classes, attribute=None)  # type: ignore[no-untyped-call]
    seen: dict[str, str] = {}
    specs = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            data = loader.load_query_data_from_sql(text, [], path)
        except (SQLParseException, SQLLoadException) as exc:
            raise QueryError(f"{_where(path, text, str(exc))}: {exc}") from None
        for datum in data:
            spec = _spec(domain, datum)
            if spec.name in seen:
                raise QueryError(
                    f"{spec.source}: query {spec.qualname} is already defined at {seen[spec.name]}"
                )
            seen[spec.name] = spec.source
            specs.append(spec)
    return specs


def _where(path: Path, text: str, message: str) -> str:
    """``file:line`` of the block an aiosql error is about (its message names the query)."""
    found = _IN_QUERY.search(message)
    name = found and (found.group(1) or found.group(2))
    if name:
        line = re.search(rf"^\s*--\s*name\s*:\s*{re.escape(name)}\b", text, re.M)
        if line:
            return f"{path}:{text.count(chr(10), 0, line.start()) + 1}"
    return str(path)


def _spec(domain: str, datum: QueryDatum) -> QuerySpec:
    fname, lineno = datum.floc
    source = f"{fname}:{lineno}"
    name, op = datum.query_name, datum.operation_type
    unknown = _UNKNOWN_RECORD.match(datum.doc_comments)
    what = f"query {domain}.{name}"
    if op.name not in _SUPPORTED:
        raise QueryError(
            f"{source}: {what}: use '^' (one row), no suffix (rows), '$' (a value) "
            "or '!' (row count)"
        )
    if op.name in ROWS and datum.record_class is None:
        model = f"unknown model {unknown.group(1)!r}" if unknown else "no model declared"
        raise QueryError(
            f"{source}: {what} returns rows but has {model}: add '-- record_class: Model' "
            "under the name line, Model from codezest_db.models"
        )
    if op.name not in ROWS and (unknown or datum.record_class is not None):
        raise QueryError(f"{source}: {what} returns no rows; drop its record_class")
    meta = _metadata(datum.doc_comments)
    params = tuple(datum.parameters or ())
    optional = meta.get("optional", frozenset())
    if not optional <= set(params):
        raise QueryError(f"{source}: {what}: optional names unknown parameters")
    plan = meta.get("plan", frozenset())
    if plan - {"custom"}:
        raise QueryError(f"{source}: {what}: the only plan line is 'plan: custom'")
    return QuerySpec(
        domain=domain,
        name=name,
        sql=datum.sql,
        doc=_META.sub("", datum.doc_comments).strip(),
        operation=op,
        model=datum.record_class,
        params=params,
        optional=optional,
        source=source,
        not_null=meta.get("not null", frozenset()),
        custom_plan="custom" in plan,
        reads=op.name != "INSERT_UPDATE_DELETE" and reads_only(datum.sql),
    )


def _metadata(comments: str) -> dict[str, frozenset[str]]:
    meta: dict[str, set[str]] = {}
    for match in _META.finditer(comments):
        names = (n.strip() for n in match.group(2).split(","))
        meta.setdefault(match.group(1).lower(), set()).update(n for n in names if n)
    return {key: frozenset(names) for key, names in meta.items()}


_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|truncate|copy|call|do|lock|nextval|setval"
    r"|pg_advisory_\w*lock\w*|set_config|for\s+(no\s+key\s+)?update|for\s+(key\s+)?share)\b",
    re.I,
)
# A call of a function of our schemas (the partition jobs): it may write, so never a read.
_SCHEMA_CALL = re.compile(r"\b(auth|learning|payments|notifications|activity)\.\w+\s*\(", re.I)


def reads_only(sql: str) -> bool:
    """Whether *sql* only reads: a select (or with ... select) that names no write.

    Conservative by construction: any write keyword, a row lock or a call of a
    function known to write anywhere in the statement counts as a write, and so
    does any call of a function of our schemas. A writing function elsewhere
    would not be seen: none of our queries calls one, and a test runs every
    query classed as a read on a read-only replica.
    """
    text = _STRINGS_AND_COMMENTS.sub(" ", sql).strip().lower()
    return (
        text.startswith(("select", "with", "values", "table"))
        and not _WRITES.search(text)
        and not _SCHEMA_CALL.search(text)
    )
