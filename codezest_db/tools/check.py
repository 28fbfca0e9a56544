"""``codezest-db check``: every query verified against a migrated database.

Each query is prepared and described (`codezest_db.tools.describe`), then
compared with its model: the result columns are the model's fields, by name;
each column's PostgreSQL type fits the field's annotation; a column that can be
NULL is ``X | None`` and one that cannot is not. The parameters on the name
line must be the ones the SQL uses. Each domain's queries are then planned
under that service's role (``codezest_<domain>``): PostgreSQL checks
privileges then, so a query reaching into another service's schema fails.
Each `Finding` names the file and line, the query, the column and what to change.

Nullability: a column taken straight from a table column can be NULL when
that column can, or when its table is on the outer side of an outer join.
Any other column is an expression and counts as nullable, unless it is
``count(...)``, a literal, ``now()`` or a ``coalesce`` ending in one of
those; a query asserts that other columns are never NULL with a doc line
``-- not null: day, total``.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from types import NoneType, UnionType
from typing import Any
from uuid import UUID

import psycopg
from aiosql.types import SQLOperationType
from psycopg import sql
from pydantic import AwareDatetime, BaseModel, IPvAnyAddress, NaiveDatetime

from .. import _env, enums
from .._query.parse import _STRINGS_AND_COMMENTS, QuerySpec, domain_files, load_domain
from .._resources import queries_dir
from ..errors import QueryError
from . import scratch
from .catalog import PgType
from .describe import (
    Column,
    Described,
    Finding,
    connect,
    describe_queries,
    error_text,
    finding,
    plan_error,
)

__all__ = ["Finding", "add_arguments", "check_database", "run", "run_check"]

Op = SQLOperationType
_ROWS = (Op.SELECT, Op.SELECT_ONE)


def run_check(url: str | None = None, root: Path | None = None) -> list[Finding]:
    """Check every query against *url*, or a throwaway migrated embedded database."""
    with scratch.migrated_database(url) as target:
        return check_database(target, root)


def check_database(url: str, root: Path | None = None) -> list[Finding]:
    """Every finding about the queries under *root* (default: the shipped ones) on *url*."""
    specs: dict[str, list[QuerySpec]] = {}
    findings: list[Finding] = []
    for domain, files in domain_files(root or queries_dir()).items():
        try:  # a broken file is a finding; the other domains are still checked
            specs[domain] = load_domain(domain, files)
        except QueryError as exc:
            findings.append(Finding("", f"loading queries/{domain}", str(exc)))
    with connect(url) as conn:
        described, problems = describe_queries(conn, specs)
        findings.extend(problems)
        broken = {f.query for f in problems}  # already reported: not planned again
        for entry in described:
            findings.extend(_compare(entry))
        findings.extend(_check_roles(conn, specs, skip=broken))
    return findings


def _compare(entry: Described) -> list[Finding]:
    spec, asserted = entry.spec, entry.not_null
    names = [c.name for c in entry.columns]
    findings = [
        finding(spec, f"`not null: {name}` names no result column of the query", name)
        for name in sorted(asserted - set(names))
    ]
    if spec.operation is Op.SELECT_VALUE and len(entry.columns) != 1:
        findings.append(
            finding(
                spec,
                f"a '$' query returns one value, but the SQL returns {len(entry.columns)} "
                "columns: select exactly one",
            )
        )
    if spec.operation in _ROWS and spec.model is not None:
        findings.extend(_compare_model(entry, spec.model))
    findings.extend(_check_page(spec))
    return findings


_LIMIT = re.compile(r"\blimit\b", re.I)
_KEYSET = ("after_id", "before_id", "before", "after")
_DEFAULTED = re.compile(r"\bcoalesce\(\s*(?::limit|%\(limit\)s)\b", re.I)  # aiosql's rewrite


def _check_page(spec: QuerySpec) -> list[Finding]:
    """A ``list_*`` query returns a page: a ``limit`` parameter (default 100 when optional),
    and a keyset.

    A queue (``for update skip locked``) needs no keyset: each call takes the next rows.
    """
    if not spec.name.startswith("list_") or spec.operation is not Op.SELECT:
        return []
    problems = []
    code = _STRINGS_AND_COMMENTS.sub(" ", spec.sql)
    if "limit" not in spec.params or not _LIMIT.search(code):
        problems.append(
            "a list query returns a page: take a `limit` parameter and end with "
            "`limit coalesce(:limit::integer, 100)` (at most 1000, checked before sending)"
        )
    elif "limit" in spec.optional and not _DEFAULTED.search(code):
        problems.append("an optional `limit` needs its default: `coalesce(:limit::integer, 100)`")
    queue = re.search(r"\bskip\s+locked\b", code, re.I)
    if not queue and not any(name in spec.params for name in _KEYSET):
        problems.append(
            "a list query pages by keyset: take after_id (or before_id / before), the id "
            "of the last row of the previous page"
        )
    return [finding(spec, problem) for problem in problems]


def _compare_model(entry: Described, model: type[BaseModel]) -> list[Finding]:
    spec = entry.spec
    fields = model.model_fields
    seen: set[str] = set()
    findings = []
    for column in entry.columns:
        if column.name in seen:
            findings.append(
                finding(spec, "the query returns this column twice: alias one", column.name)
            )
        seen.add(column.name)
        if column.name not in fields:
            findings.append(
                finding(
                    spec,
                    f"the query returns it but {model.__name__} has no such field: add "
                    f"`{column.name}: {_expected(column)}` to {model.__name__}, or drop it "
                    "from the query",
                    column.name,
                )
            )
            continue
        annotation = fields[column.name].annotation
        findings.extend(_compare_field(spec, model, column, annotation))
    for name in fields:
        if name not in seen:
            findings.append(
                finding(
                    spec,
                    f"{model.__name__} has this field but the query returns no such column: "
                    "add it to the select list (or the returning list), or drop the field",
                    name,
                )
            )
    return findings


def _compare_field(
    spec: QuerySpec, model: type[BaseModel], column: Column, annotation: Any
) -> list[Finding]:
    members, optional = _members(annotation)
    field = f"{model.__name__}.{column.name} is `{_show(annotation)}`"
    problem = _fits(column.type, members)
    if problem is not None:
        return [finding(spec, f"it is {column.type} but {field}: {problem}", column.name)]
    if column.nullable and not optional:
        hint = ""
        if column.origin is None or "outer side" in column.why:
            hint = (
                f", or, if the query guarantees a value, add `-- not null: {column.name}` "
                "to its doc comment"
            )
        return [
            finding(
                spec,
                f"it can be NULL ({column.why}) but {field}: make it "
                f"`{_show(annotation)} | None`{hint}",
                column.name,
            )
        ]
    if optional and not column.nullable:
        bare = " | ".join(_show(m) for m in members)
        return [
            finding(
                spec,
                f"it is never NULL ({column.why}) but {field}: make it `{bare}`",
                column.name,
            )
        ]
    return []


def _members(annotation: Any) -> tuple[list[Any], bool]:
    """The non-None members of an annotation's union, and whether None is one."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType):
        members = [_bare(a) for a in args if a is not NoneType]
        return members, len(members) < len(args)
    return [_bare(annotation)], annotation is None


def _bare(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


_SCALARS: dict[str, tuple[frozenset[Any], ...]] = {
    "uuid": (frozenset({UUID}),),
    "text": (frozenset({str}),),
    "varchar": (frozenset({str}),),
    "bpchar": (frozenset({str}),),
    "name": (frozenset({str}),),
    "citext": (frozenset({str}),),
    "int2": (frozenset({int}),),
    "int4": (frozenset({int}),),
    "int8": (frozenset({int}),),
    "bool": (frozenset({bool}),),
    "timestamptz": (frozenset({AwareDatetime}),),
    "timestamp": (frozenset({datetime}), frozenset({NaiveDatetime})),
    "date": (frozenset({date}),),
    "numeric": (frozenset({Decimal}),),
    "float4": (frozenset({float}),),
    "float8": (frozenset({float}),),
    "interval": (frozenset({timedelta}),),
    "bytea": (frozenset({bytes}),),
    "inet": (frozenset({IPv4Address, IPv6Address}), frozenset({IPvAnyAddress})),
}
_SHOWN = {
    "timestamptz": "AwareDatetime",
    "timestamp": "datetime",
    "inet": "IPv4Address | IPv6Address",
    "jsonb": "dict[str, Any]",
    "json": "dict[str, Any]",
}


def _expected(column: Column) -> str:
    text = _expected_type(column.type)
    return f"{text} | None" if column.nullable else text


def _expected_type(pg_type: PgType) -> str:
    if pg_type.kind == "e":
        return pg_type.name
    if pg_type.name in _SHOWN:
        return _SHOWN[pg_type.name]
    options = _SCALARS.get(pg_type.name)
    if options:
        return " | ".join(sorted(t.__name__ for t in options[0]))
    return "Any"


def _fits(pg_type: PgType, members: list[Any]) -> str | None:
    """None if the members of an annotation fit *pg_type*, else what to change."""
    if members == [Any]:
        return None
    expected = _expected_type(pg_type)
    if pg_type.kind == "e":
        return _fits_enum(pg_type, members)
    if pg_type.name in ("json", "jsonb"):
        if all(_is_json(m) for m in members):
            return None
        return f"annotate it `{expected}` (or a list, a model or Any)"
    if pg_type.is_array:
        return None if _fits_array(members) else "annotate it `list[...]`"
    options = _SCALARS.get(pg_type.name)
    if options is None:
        return f"codezest-db has no Python type for {pg_type}: annotate it `Any`"
    if frozenset(members) in options:
        return None
    if pg_type.name == "timestamptz" and members == [datetime]:
        return "annotate it `AwareDatetime` (a timestamptz is timezone-aware)"
    return f"annotate it `{expected}`"


def _fits_enum(pg_type: PgType, members: list[Any]) -> str | None:
    wanted = getattr(enums, pg_type.name, None)
    if not (isinstance(wanted, type) and issubclass(wanted, Enum)):
        return (
            f"codezest_db.enums has no {pg_type.name}: add a StrEnum {pg_type.name} with the "
            f"values {', '.join(pg_type.labels)}"
        )
    if members != [wanted]:
        return f"annotate it `{pg_type.name}` (codezest_db.enums.{pg_type.name})"
    values = tuple(str(member.value) for member in wanted)
    if values != pg_type.labels:
        return (
            f"codezest_db.enums.{pg_type.name} has the values {', '.join(values)} but the "
            f"database has {', '.join(pg_type.labels)}: make them equal, in order"
        )
    return None


def _is_json(member: Any) -> bool:
    origin = typing.get_origin(member) or member
    if origin in (dict, list, Any):
        return True
    return isinstance(origin, type) and issubclass(origin, BaseModel)


def _fits_array(members: list[Any]) -> bool:
    return len(members) == 1 and (typing.get_origin(members[0]) or members[0]) in (list, tuple)


def _show(annotation: Any) -> str:
    if annotation is NoneType or annotation is None:
        return "None"
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        return " | ".join(_show(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def _check_roles(
    conn: psycopg.Connection[Any],
    specs: Mapping[str, Sequence[QuerySpec]],
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[Finding]:
    """Plan each domain's queries as its service's role: privileges are checked then."""
    findings = []
    for domain, entries in specs.items():
        role = f"codezest_{domain}"
        with conn.transaction(force_rollback=True):
            try:
                conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
            except psycopg.Error as exc:
                findings.append(
                    Finding(
                        "",
                        domain,
                        f"cannot run its queries as role {role} ({error_text(exc, [])}): run "
                        "the migrations, and check as a superuser or a member of the role",
                    )
                )
                continue
            for spec in entries:
                if spec.qualname in skip:
                    continue
                problem = plan_error(conn, spec)
                if problem:
                    findings.append(
                        finding(
                            spec,
                            f"as role {role}: {problem}; a service's queries may use only its "
                            f"own schema ({domain})",
                        )
                    )
        conn.execute("deallocate all")
    return findings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``codezest-db check [--plans | --against VERSION]``."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--plans",
        action="store_true",
        help="also run every query's plan on the (seeded) database: Seq Scans on large "
        "tables, disk sorts, generic plans much worse than custom ones",
    )
    which.add_argument(
        "--against",
        metavar="VERSION",
        help="instead, run that release's queries (db/releases/VERSION) on the current "
        "schema, as its code does during a rolling deploy, and report each that breaks",
    )


def run(args: argparse.Namespace) -> int:
    """Print each finding; raise QueryError when there is any.

    Without a URL the check migrates a throwaway embedded database, never the default one
    (``--plans`` wants a seeded one: bench/scale_dataset.py fills it). An unknown
    ``--against`` release is a usage error: one line naming the known ones, exit 2.
    """
    url = args.url or _env.getenv("DATABASE_URL")  # the environment, else .env
    against = getattr(args, "against", None)
    if against is not None:
        return _run_against(url, against)
    if getattr(args, "plans", False):
        from .plans import check_plans

        with scratch.migrated_database(url) as target:
            findings = check_database(target) + check_plans(target)
    else:
        findings = run_check(url)
    _report(findings)
    print("every query checks out")
    return 0


def _run_against(url: str | None, version: str) -> int:
    from .releases import check_against, known_versions

    if version not in known_versions():
        known = ", ".join(known_versions()) or "none"
        print(
            f"codezest-db check: no recorded release {version!r}; known: {known}",
            file=sys.stderr,
        )
        return 2
    with scratch.migrated_database(url) as target:
        findings = check_against(target, version)
    _report(findings)
    print(f"every query of {version} runs on this schema")
    return 0


def _report(findings: list[Finding]) -> None:
    for found in findings:
        print(found, file=sys.stderr)
    if findings:
        raise QueryError(f"{len(findings)} finding(s)")
