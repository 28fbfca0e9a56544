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

aiosql only parses, through its public loader (``aiosql.from_path`` with the
``psycopg`` driver name), which rewrites ``:name`` into psycopg's ``%(name)s``
once, here. Its query functions are read for what they say and dropped:
`codezest_db._query.statement` turns each spec into a `Statement` (its
operation says what a call returns), and `codezest_db._query.execute` (or
its asyncio source) runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .._resources import queries_dir
from ..errors import QueryError

if TYPE_CHECKING:  # aiosql is imported when the first domain loads, not with the package
    from aiosql.types import SQLOperationType

__all__ = ["QuerySpec", "domain_files", "load_domain", "load_specs", "reads_only"]

ROWS = ("SELECT", "SELECT_ONE")  # names of aiosql's SQLOperationType members
_SUPPORTED = (*ROWS, "SELECT_VALUE", "INSERT_UPDATE_DELETE")
_META = re.compile(r"^(optional|not null|plan)\s*:\s*(.*)$", re.M | re.I)
# aiosql is given no record classes (its record_classes argument is deprecated,
# and its query functions do not say which class they were given), so the
# record_class line under the name line stays the first line of the doc comment.
# Group 1 is the name as written, group 2 the model name read from it, as aiosql would.
_RECORD = re.compile(r"\Arecord_class\s*:\s*((\w*)\S*)[^\n]*\n?")
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


def load_domain(domain: str, files: list[Path], *, models: bool = True) -> list[QuerySpec]:
    """Parse one domain's files; raise QueryError naming the file and line of a bad block.

    With *models* false, record_class lines are not looked up (each spec's model
    is None): a previous release's files may name models this version no longer has.
    """
    from aiosql import SQLLoadException, SQLParseException

    seen: dict[str, str] = {}
    specs = []
    for path in files:
        try:
            functions = _query_functions(path)
        except (SQLParseException, SQLLoadException) as exc:
            text = path.read_text(encoding="utf-8")
            raise QueryError(f"{_where(path, text, str(exc))}: {exc}") from None
        for fn in functions:
            spec = _spec(domain, fn, models=models)
            if spec.name in seen:
                raise QueryError(
                    f"{spec.source}: query {spec.qualname} is already defined at {seen[spec.name]}"
                )
            seen[spec.name] = spec.source
            specs.append(spec)
    return specs


def _query_functions(path: Path) -> list[Any]:
    """aiosql's query functions for the blocks of one file, in file order.

    A `Queries` extension (aiosql's ``queries_cls``) collects them as aiosql adds
    them, instead of setting them as attributes: so a name is never refused for
    clashing with an attribute of `Queries`, and a name repeated in one file
    reaches our own duplicate check, which names both lines.
    """
    import aiosql
    from aiosql.queries import Queries
    from aiosql.types import SQLOperationType

    found: list[Any] = []
    helper = ""  # the name of the ``<name>_cursor`` helper due next, if any

    class Collect(Queries):
        def add_query(self, query_name: str, fn: Any) -> None:
            nonlocal helper
            # aiosql documents a ``<name>_cursor`` helper for every select,
            # added right after it: not a query of the file.
            if query_name == helper:
                helper = ""
                return
            select = fn.operation is SQLOperationType.SELECT
            helper = f"{query_name}_cursor" if select else ""
            found.append(fn)

    # attribute=None: ``:a.b`` is not rewritten (none of our SQL means an attribute).
    aiosql.from_path(path, "psycopg", attribute=None, queries_cls=Collect, encoding="utf-8")
    return found


def _where(path: Path, text: str, message: str) -> str:
    """``file:line`` of the block an aiosql error is about (its message names the query)."""
    found = _IN_QUERY.search(message)
    name = found and (found.group(1) or found.group(2))
    if name:
        line = re.search(rf"^\s*--\s*name\s*:\s*{re.escape(name)}\b", text, re.M)
        if line:
            return f"{path}:{text.count(chr(10), 0, line.start()) + 1}"
    return str(path)


def _spec(domain: str, fn: Any, *, models: bool = True) -> QuerySpec:
    """The spec of one aiosql query function, from what it publicly carries."""
    # aiosql points a query function's code at its SQL file and name line, so that
    # tracebacks name the SQL: that is where the block is.
    code = fn.__code__
    source = f"{code.co_filename}:{code.co_firstlineno}"
    name, op = fn.__name__, fn.operation
    comments = fn.__doc__ or ""
    record = _RECORD.match(comments)
    model = _model(record.group(2)) if record and models else None
    what = f"query {domain}.{name}"
    if op.name not in _SUPPORTED:
        raise QueryError(
            f"{source}: {what}: use '^' (one row), no suffix (rows), '$' (a value) "
            "or '!' (row count)"
        )
    if op.name in ROWS and model is None and (models or not record):
        missing = f"unknown model {record.group(1)!r}" if record else "no model declared"
        raise QueryError(
            f"{source}: {what} returns rows but has {missing}: add '-- record_class: Model' "
            "under the name line, Model from codezest_db.models"
        )
    if op.name not in ROWS and record:
        raise QueryError(f"{source}: {what} returns no rows; drop its record_class")
    if record:  # a model's line, not documentation
        comments = comments[record.end() :]
    meta = _metadata(comments)
    params = tuple(fn.parameters or ())
    optional = meta.get("optional", frozenset())
    if not optional <= set(params):
        raise QueryError(f"{source}: {what}: optional names unknown parameters")
    plan = meta.get("plan", frozenset())
    if plan - {"custom"}:
        raise QueryError(f"{source}: {what}: the only plan line is 'plan: custom'")
    return QuerySpec(
        domain=domain,
        name=name,
        sql=fn.sql,
        doc=_META.sub("", comments).strip(),
        operation=op,
        model=model,
        params=params,
        optional=optional,
        source=source,
        not_null=meta.get("not null", frozenset()),
        custom_plan="custom" in plan,
        reads=op.name != "INSERT_UPDATE_DELETE" and reads_only(fn.sql),
    )


def _model(name: str) -> type[BaseModel] | None:
    """The model of *name* in `codezest_db.models`, or None."""
    from .. import models

    return getattr(models, name) if name in models.__all__ else None


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
