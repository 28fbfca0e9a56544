"""Released queries, kept so that old code can be checked on a new schema.

Each release's queries are recorded once, when it is cut
(``python tools/record_release.py``, see docs/migrations.md):

    db/releases/<version>/queries/     its query files, byte for byte
    db/releases/<version>/shapes.json  what PostgreSQL said of each query on that
                                       version's schema: the types of its
                                       parameters and its result columns (name,
                                       type, nullable, an enum's labels)

The shapes are what that release's models were checked against, so the old
code's expectations are known without its models. `check_against` runs a
release's queries on a database of the current schema, as the previous version
of a service does during a rolling deploy, and reports each that would break:

- it no longer prepares or plans as its service's role (a column, table or
  function gone or renamed, a privilege revoked): the server's error;
- an insert of it leaves a NOT NULL column without a default unset;
- a result column is gone, has another Python type (int4 to int8 is the same
  ``int``; text to uuid is not), can now be NULL where it could not, or an enum
  it returns has labels the old enum lacks (its model would reject those rows);
- a parameter has another Python type, or its enum lost a label old code sends.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .._query.parse import QuerySpec, domain_files, load_domain
from .._resources import releases_dir
from ..errors import ConfigurationError, QueryError
from . import scratch
from .catalog import Catalog, PgType
from .describe import (
    Described,
    Finding,
    connect,
    describe_queries,
    error_text,
    explain,
    finding,
    numbered,
)

__all__ = [
    "Release",
    "check_against",
    "known_versions",
    "load_release",
    "previous_release",
    "record",
    "shapes",
    "version_key",
]

SHAPES = "shapes.json"
Shape = dict[str, Any]  # one query's: {"params": {name: type}, "columns": [column, ...]}


@dataclass(frozen=True)
class Release:
    """A recorded release: its query specs (models not looked up) and their shapes."""

    version: str
    root: Path
    specs: dict[str, list[QuerySpec]]
    shapes: dict[str, Shape]


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def known_versions(root: Path | None = None) -> list[str]:
    """The recorded releases, oldest first."""
    folder = root or releases_dir()
    found = [p.name for p in folder.iterdir() if (p / SHAPES).is_file()] if folder.is_dir() else []
    return sorted(found, key=version_key)


def load_release(version: str, root: Path | None = None) -> Release:
    """The recorded release *version*; raise ConfigurationError naming the known ones."""
    known = known_versions(root)
    if version not in known:
        raise ConfigurationError(
            f"no recorded release {version!r}: the known ones are {', '.join(known) or 'none'} "
            "(db/releases/)"
        )
    folder = (root or releases_dir()) / version
    files = domain_files(folder / "queries")
    specs = {domain: load_domain(domain, paths, models=False) for domain, paths in files.items()}
    recorded = json.loads((folder / SHAPES).read_text(encoding="utf-8"))["queries"]
    return Release(version, folder, specs, recorded)


def previous_release(queries: Path, root: Path | None = None) -> str | None:
    """The release the code being built must run beside: the newest recorded one whose
    queries are not those under *queries* (once a version is recorded, the one before it)."""
    current = _texts(queries)
    for version in reversed(known_versions(root)):
        if _texts((root or releases_dir()) / version / "queries") != current:
            return version
    return None


def _texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql"))}


# ---- recording --------------------------------------------------------------------


def shapes(url: str, specs: Mapping[str, Sequence[QuerySpec]]) -> dict[str, Shape]:
    """Each query's parameter types and result columns on *url*; raise QueryError if one
    does not describe (a release's queries check out on its own schema)."""
    with connect(url) as conn:
        described, problems = describe_queries(conn, specs)
    if problems:
        raise QueryError("; ".join(str(p) for p in problems))
    return {entry.spec.qualname: _shape(entry) for entry in described}


def _shape(entry: Described) -> Shape:
    return {
        "params": {name: _type(pg_type) for name, pg_type in entry.params},
        "columns": [
            {"name": c.name, **_type(c.type), "nullable": c.nullable} for c in entry.columns
        ],
    }


def _type(pg_type: PgType) -> dict[str, Any]:
    if pg_type.kind == "e":
        return {"type": str(pg_type), "labels": list(pg_type.labels)}
    return {"type": str(pg_type)}


def record(
    version: str,
    queries: Path,
    *,
    migrations: Path | None = None,
    note: str = "",
    root: Path | None = None,
    url: str | None = None,
) -> Path:
    """Record *queries* as release *version*: copy them and their shapes on a throwaway
    database migrated with *migrations* (that version's; default the shipped ones), or on
    *url*, a database at that version's schema.

    A recorded release never changes: raise ConfigurationError if *version* is recorded
    with other queries. Recording the same ones again changes nothing.
    """
    folder = (root or releases_dir()) / version
    if (folder / SHAPES).is_file():
        if _texts(folder / "queries") != _texts(queries):
            raise ConfigurationError(
                f"release {version} is recorded with other queries ({folder}): a release "
                "never changes; bump the version and record that"
            )
        return folder
    files = domain_files(queries)
    specs = {domain: load_domain(domain, paths, models=False) for domain, paths in files.items()}
    with scratch.migrated_database(url, migrations=migrations) as target:
        found = shapes(target, specs)
    (folder / "queries").mkdir(parents=True, exist_ok=True)
    for path in sorted(queries.glob("*.sql")):
        shutil.copyfile(path, folder / "queries" / path.name)
    (folder / SHAPES).write_text(_dump(version, note, found), encoding="utf-8")
    return folder


def _dump(version: str, note: str, found: dict[str, Shape]) -> str:
    """The shapes as JSON, one line per column: a release's diff reads well."""
    lines = ["{", f' "version": {json.dumps(version)},', f' "recorded_from": {json.dumps(note)},']
    lines.append(' "queries": {')
    for i, (name, shape) in enumerate(found.items()):
        columns = ",\n".join(f"    {json.dumps(c)}" for c in shape["columns"])
        lines += [
            f"  {json.dumps(name)}: {{",
            f'   "params": {json.dumps(shape["params"])},',
            f'   "columns": [\n{columns}\n   ]' if columns else '   "columns": []',
            "  }" + ("," if i < len(found) - 1 else ""),
        ]
    return "\n".join([*lines, " }", "}", ""])


# ---- checking ---------------------------------------------------------------------


def check_against(url: str, version: str, root: Path | None = None) -> list[Finding]:
    """Every way release *version*'s queries would break on the schema at *url*."""
    release = load_release(version, root)
    findings: list[Finding] = []
    with connect(url) as conn:
        # A generic plan shows parameters as $n: a custom one, for the NULLs explain
        # passes, would show them as NULL constants, like the columns an insert leaves out.
        conn.execute("set plan_cache_mode = force_generic_plan")
        catalog = Catalog(conn)
        planned: dict[str, list[QuerySpec]] = {}
        for domain, specs in release.specs.items():
            for spec, problems in _plan_as_role(conn, catalog, domain, specs, version):
                findings.extend(problems)
                if not problems:
                    planned.setdefault(domain, []).append(spec)
        described, problems = describe_queries(conn, planned)
        findings.extend(problems)
        for entry in described:
            shape = release.shapes.get(entry.spec.qualname)
            if shape is None:
                findings.append(finding(entry.spec, f"{SHAPES} of {version} has no such query"))
            else:
                findings.extend(_compare(version, entry, shape))
    return findings


def _plan_as_role(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    domain: str,
    specs: Sequence[QuerySpec],
    version: str,
) -> Iterator[tuple[QuerySpec, list[Finding]]]:
    """Prepare and plan each query as its service's role, as the old code runs it."""
    role = f"codezest_{domain}"
    with conn.transaction(force_rollback=True):
        try:
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
        except psycopg.Error as exc:
            problem = f"{version}'s queries run as role {role}, which fails: {error_text(exc, [])}"
            for spec in specs:
                yield spec, [finding(spec, problem)]
            return
        for n, spec in enumerate(specs):
            if not spec.sql.strip():
                continue  # a query written in Python: nothing for the server to check
            plan = _plan(conn, spec, f"codezest_against_{n}")
            if isinstance(plan, str):
                yield spec, [finding(spec, f"{version}'s query fails as {role}: {plan}")]
            else:
                yield spec, list(_unset_columns(catalog, spec, plan, version))
    conn.execute("deallocate all")


def _plan(conn: psycopg.Connection[Any], spec: QuerySpec, name: str) -> dict[str, Any] | str:
    """The generic plan of *spec* (in a rolled-back savepoint), or the server's error."""
    text, used = numbered(spec.sql)
    with conn.transaction(force_rollback=True):
        try:
            conn.execute(sql.SQL("prepare {} as ").format(sql.Identifier(name)) + sql.SQL(text))
            return explain(conn, name.encode(), len(used))
        except psycopg.Error as exc:
            return error_text(exc, used)


def _unset_columns(
    catalog: Catalog, spec: QuerySpec, plan: dict[str, Any], version: str
) -> Iterator[Finding]:
    """NOT NULL columns an INSERT leaves NULL: the planner fills an unlisted column with
    its default, or with ``NULL::type`` when it has none."""
    for node in _nodes(plan):
        if node.get("Node Type") != "ModifyTable" or node.get("Operation") != "Insert":
            continue
        relid = catalog.tables.get((node.get("Schema", ""), node.get("Relation Name", "")))
        source: dict[str, Any] = next(
            (c for c in node.get("Plans", ()) if c.get("Parent Relationship") == "Outer"), {}
        )
        for attnum, entry in enumerate(source.get("Output", ()), start=1):
            column = catalog.columns.get((relid, attnum)) if relid else None
            if column and column.not_null and re.fullmatch(r"NULL::.+", entry.strip()):
                yield finding(
                    spec,
                    f"{column} is NOT NULL without a default and {version}'s insert does not "
                    "set it: give the column a default (or allow NULL) until no running "
                    "version inserts without it",
                    column.name,
                )


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _compare(version: str, entry: Described, shape: Shape) -> list[Finding]:
    spec = entry.spec
    now = {column.name: column for column in entry.columns}
    findings = []
    for old in shape["columns"]:
        name = old["name"]
        column = now.get(name)
        if column is None:
            problem = f"the query returns no such column any more; {version}'s model reads it"
        elif _family(old["type"]) != _family(str(column.type)):
            problem = f"it is {column.type} now, {old['type']} in {version}: its model expects that"
        elif column.nullable and not old["nullable"]:
            problem = f"it can be NULL now ({column.why}); {version}'s model refuses NULL"
        elif added := [x for x in column.type.labels if x not in old.get("labels", [])]:
            problem = (
                f"{column.type} has labels {version}'s enum lacks ({', '.join(added)}): "
                "its model refuses rows with them"
            )
        else:
            continue
        findings.append(finding(spec, problem, name))
    params = dict(entry.params)
    for name, old in shape["params"].items():
        pg_type = params.get(name)
        if pg_type is None:
            continue  # the SQL is the release's: its parameters cannot change
        if _family(old["type"]) != _family(str(pg_type)):
            problem = f"parameter :{name} is {pg_type} now, {old['type']} in {version}"
        elif gone := [x for x in old.get("labels", []) if x not in pg_type.labels]:
            problem = f"parameter :{name}: {pg_type} lost {', '.join(gone)}, which {version} sends"
        else:
            continue
        findings.append(finding(spec, problem))
    return findings


# Types read into (and sent from) the same Python type: a change among them breaks no model.
_FAMILIES = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "text": "str",
    "varchar": "str",
    "bpchar": "str",
    "name": "str",
    "public.citext": "str",
    "float4": "float",
    "float8": "float",
    "json": "json",
    "jsonb": "json",
}


def _family(type_name: str) -> str:
    return _FAMILIES.get(type_name, type_name)
