"""The SQL side of ``codezest-db lint``: migrations and queries read, and this repository's rules.

A migration is read as dbmate runs it: only its ``-- migrate:up`` part, with
``transaction:false`` on that line meaning no transaction around it. Its
statements are split the way PostgreSQL reads them (comments, string
literals, quoted names and dollar-quoted bodies) and kept with their first
line. The rules (`RULES`) are those squawk lacks: they compare a migration
with the queries of ``queries/`` (a table or column they use must not go) and
with the migrations before it (a ``check (c is not null)`` validated there).
Each rule reads the statements as lower-cased text: an approximation that
errs towards a finding (a column name counts as used by every query on its
table that mentions it), never a parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "RULES",
    "Finding",
    "Migration",
    "Query",
    "Statement",
    "earlier",
    "load_queries",
    "own_rules",
    "read",
    "split_statements",
]

# This repository's rules, on top of squawk's.
RULES = {
    "drop-used-by-queries": "drops a table, view, column or function that queries use",
    "rename-used-by-queries": "renames (or moves) a table, view, column or function queries use",
    "constraint-not-valid": "a new constraint on an existing table is checked in one long scan",
    "set-not-null-without-check": "set not null scans an existing table under its strongest lock",
    "backfill-under-lock": "rows copied or changed while the migration holds a table's lock",
    "concurrently-needs-transaction-false": "a concurrent statement cannot run in a transaction",
    "concurrently-alone": "a concurrent statement must be the only one of its migration",
    "stale-acknowledgment": "an acknowledgment in db/lint-acknowledged.toml matches no finding",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where, which rule, and what to do."""

    path: Path
    line: int
    rule: str
    message: str = field(compare=False)

    def __str__(self) -> str:
        return f"{_shown(self.path)}:{self.line}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class Statement:
    """One SQL statement: its first line, and its text less comments and literals."""

    line: int
    code: str  # lower case, literals emptied ('' and $$$$), whitespace collapsed


@dataclass(frozen=True)
class Migration:
    path: Path
    up: str  # the file with everything outside its -- migrate:up part blanked, lines kept
    transaction: bool  # False for `-- migrate:up transaction:false`
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Query:
    where: str  # queries/auth.sql:12 (name)
    code: str


def earlier(path: Path) -> list[Path]:
    """The migrations before *path* in its folder (dbmate applies them in name order)."""
    folder = path.resolve().parent
    return [p for p in sorted(folder.glob("*.sql")) if p.name < path.name]


def read(path: Path) -> Migration:
    """The migration at *path*, as dbmate runs it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    up, transaction = _up_part(text)
    return Migration(path, up, transaction, tuple(split_statements(up)))


_MARKER = re.compile(r"^--\s*migrate:(up|down)\b(.*)$")


def _up_part(text: str) -> tuple[str, bool]:
    """*text* with all but its ``-- migrate:up`` part blanked (line numbers kept)."""
    section, transaction, lines = "", True, []
    for line in text.splitlines():
        marker = _MARKER.match(line.strip())
        if marker:
            section = marker[1]
            if section == "up":
                transaction = "transaction:false" not in marker[2].split()
            lines.append("")
            continue
        lines.append(line if section == "up" else "")
    return "\n".join(lines) + "\n", transaction


# --- statements --------------------------------------------------------------


_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(text: str) -> Iterator[Statement]:
    """The statements of *text*, each with the line it starts on.

    Comments are dropped, string literals and dollar-quoted bodies emptied
    (``do $$ ... $$`` is one statement whose body is not read), and the code
    outside quoted identifiers is lowered.
    """
    out: list[str] = []
    start = 0  # the line of the statement's first code; 0: none yet
    line, i = 1, 0
    while i < len(text):
        end, code = _lexeme(text, i)
        if code == ";":
            if start:
                yield Statement(start, " ".join("".join(out).split()))
            out, start = [], 0
        else:
            if not start and code.strip():
                start = line
            out.append(code)
        line += text.count("\n", i, end)
        i = end
    if start:
        yield Statement(start, " ".join("".join(out).split()))


def _lexeme(text: str, i: int) -> tuple[int, str]:
    """The end of the lexeme at *i*, and the code it stands for."""
    c = text[i]
    if text.startswith("--", i):
        end = text.find("\n", i)
        return (len(text) if end < 0 else end), " "
    if text.startswith("/*", i):
        return _skip_block_comment(text, i), " "
    if c == "'":
        return _string_end(text, i, backslash=False), "''"
    if c in "eE" and text.startswith("'", i + 1) and not _word_before(text, i):
        return _string_end(text, i + 1, backslash=True), "''"
    if c == '"':
        end = text.find('"', i + 1)
        while end >= 0 and text.startswith('"', end + 1):  # "" inside a quoted name
            end = text.find('"', end + 2)
        end = len(text) if end < 0 else end + 1
        return end, text[i:end]
    if c == "$" and (tag := _DOLLAR.match(text, i)) and not _word_before(text, i):
        close = text.find(tag[0], tag.end())
        return (len(text) if close < 0 else close + len(tag[0])), "$$$$"
    return i + 1, c.lower()


def _word_before(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _skip_block_comment(text: str, i: int) -> int:
    depth, i = 1, i + 2
    while i < len(text) and depth:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _string_end(text: str, i: int, *, backslash: bool) -> int:
    """Index after the literal whose opening quote is at *i*."""
    i += 1
    while i < len(text):
        if backslash and text[i] == "\\":
            i += 2
        elif text[i] == "'":
            if text.startswith("'", i + 1):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(text)


# --- names -------------------------------------------------------------------

Name = tuple[str | None, str]  # (schema or None, name)
_ID = r'(?:"[^"]+"|[a-z_][a-z0-9_$]*)'
_NAME = rf"{_ID}(?:\s*\.\s*{_ID})?"


def _name(text: str) -> Name:
    """(schema or None, name) of a possibly qualified identifier, quotes removed."""
    parts = [p.strip().strip('"') for p in re.findall(_ID, text)]
    return (parts[0], parts[1]) if len(parts) > 1 else (None, parts[0])


def _same(a: Name, b: Name) -> bool:
    """One relation, when neither or only one of the two names says its schema."""
    return a[1] == b[1] and (a[0] is None or b[0] is None or a[0] == b[0])


def _shown_name(name: Name) -> str:
    return f"{name[0]}.{name[1]}" if name[0] else name[1]


# --- queries -----------------------------------------------------------------

_QUERY_NAME = re.compile(r"^--\s*name\s*:\s*([A-Za-z_]\w*)", re.M)


def load_queries(folders: Iterable[Path]) -> list[Query]:
    """Every named query of the ``.sql`` files under *folders* (one level of domain folders)."""
    found: list[Query] = []
    for folder in folders:
        if not folder.is_dir():
            raise ConfigurationError(f"no queries folder {folder}")
        for path in sorted([*folder.glob("*.sql"), *folder.glob("*/*.sql")]):
            text = path.read_text(encoding="utf-8")
            names = list(_QUERY_NAME.finditer(text))
            for this, following in zip(names, [*names[1:], None], strict=True):
                end = following.start() if following else len(text)
                line = text.count("\n", 0, this.start()) + 1
                code = " ".join(s.code for s in split_statements(text[this.start() : end]))
                found.append(Query(f"{_shown(path)}:{line} ({this[1]})", code))
    return found


def _uses_relation(query: Query, name: Name) -> bool:
    schema, table = (re.escape(part) if part else None for part in name)
    if schema and re.search(rf'(?<![\w."]){schema}\s*\.\s*"?{table}\b(?!\s*\()', query.code):
        return True
    keyword = r"(?:from|join|into|update|only|table)"
    return bool(re.search(rf'\b{keyword}\s+"?{table}\b(?!\s*[.(])', query.code))


def _uses_column(query: Query, table: Name, column: str) -> bool:
    if not _uses_relation(query, table):
        return False
    star = re.search(r"\b(?:select|returning)\s+(?:distinct\s+)?\*|\.\s*\*|,\s*\*", query.code)
    return bool(star) or bool(re.search(rf'(?<![\w$])"?{re.escape(column)}\b', query.code))


def _uses_function(query: Query, name: Name) -> bool:
    qualified = rf"{re.escape(name[0])}\s*\.\s*" if name[0] else r"(?<![\w.])"
    return bool(re.search(rf"{qualified}{re.escape(name[1])}\s*\(", query.code))


def _users(queries: list[Query], uses: Any, *args: Any) -> list[str]:
    return [q.where for q in queries if uses(q, *args)]


# --- this repository's rules -------------------------------------------------

_CREATE_TABLE = re.compile(
    rf"^create (?:(?:global |local )?(?:temp|temporary|unlogged) )?table (?:if not exists )?"
    rf"({_NAME})"
)
_ALTER_TABLE = re.compile(rf"^alter table (?:if exists )?(?:only )?({_NAME})\s*(.*)$")
_DROP_RELATION = re.compile(
    rf"^drop (table|view|materialized view) (?:if exists )?((?:{_NAME}\s*,\s*)*{_NAME})"
)
_DROP_FUNCTION = re.compile(
    rf"^drop (?:function|procedure) (?:if exists )?((?:{_NAME}\s*(?:\([^)]*\))?\s*,\s*)*"
    rf"{_NAME}\s*(?:\([^)]*\))?)"
)
_RENAME_RELATION = re.compile(
    rf"^alter (table|view|materialized view) (?:if exists )?(?:only )?({_NAME}) "
    rf"(?:rename to ({_ID})|set schema ({_ID}))$"
)
_RENAME_COLUMN = re.compile(rf"^rename (?:column )?({_ID}) to ({_ID})$")
_RENAME_FUNCTION = re.compile(
    rf"^alter (?:function|procedure) ({_NAME})\s*(?:\([^)]*\))? (?:rename to|set schema) ({_ID})$"
)
_DROP_COLUMN = re.compile(
    rf"^drop (?!constraint\b|default\b|not\b|identity\b|expression\b)(?:column )?"
    rf"(?:if exists )?({_ID})"
)
_ADD_COLUMN = re.compile(
    rf"^add (?!constraint\b|primary\b|unique\b|check\b|foreign\b|exclude\b)(?:column )?"
    rf"(?:if not exists )?({_ID}) (.*)$"
)
_INLINE_CONSTRAINT = re.compile(r"\b(check|unique|primary key|exclude)\b")
_SET_NOT_NULL = re.compile(rf"^alter (?:column )?({_ID}) set not null$")
_NOT_NULL_CHECK = re.compile(
    rf"^add constraint ({_ID}) check \(\s*\(?\s*({_ID})\s*\)? is not null\s*\)( not valid)?$"
)
_VALIDATE = re.compile(rf"^validate constraint ({_ID})$")
_CONCURRENT = re.compile(
    r"^(?:create (?:unique )?index concurrently|drop index concurrently"
    r"|reindex .*\bconcurrently\b|reindex \(.*\bconcurrently\b"
    r"|alter table .* detach partition .* concurrently$)"
)
# Statements that lock an existing table until the migration's transaction ends.
_LOCKS = re.compile(
    rf"^(?:alter table (?:if exists )?(?:only )?({_NAME})|drop index (?!concurrently)({_NAME})"
    rf"|create (?:unique )?index (?!concurrently)(?:if not exists )?(?:{_ID} )?on (?:only )?"
    rf"({_NAME})|lock (?:table )?(?:only )?({_NAME}))"
)
_DATA = re.compile(
    r"^(?:update|delete from|insert into .*\bselect\b|merge into"
    r"|with .*\b(?:insert|update|delete)\b)"
)
_NO_TRANSACTION = re.compile(r"^(?:vacuum|create database|drop database|alter system)\b")


def own_rules(
    migration: Migration, earlier: list[Migration], queries: list[Query]
) -> list[Finding]:
    found: list[Finding] = []
    created: list[Name] = []
    validated_checks = _validated_not_null_checks(earlier)

    def new(name: Name) -> bool:
        return any(_same(name, c) for c in created)

    def report(statement: Statement, rule: str, message: str) -> None:
        found.append(Finding(migration.path, statement.line, rule, message))

    holding: Statement | None = None  # the first statement that locked an existing table
    for statement in migration.statements:
        code = statement.code
        if made := _CREATE_TABLE.match(code):
            created.append(_name(made[1]))
        if (lock := _LOCKS.match(code)) and not holding:
            target = _name(next(g for g in lock.groups() if g))
            # An index is named without its table: take it as an existing table's.
            holding = statement if code.startswith("drop index") or not new(target) else None
        if holding and migration.transaction and _DATA.match(code):
            report(
                statement,
                "backfill-under-lock",
                "copies or changes rows in the transaction that has held a lock on an "
                f"existing table since line {holding.line}: every reader or writer of that "
                "table waits until the copy commits. Create the new structure, copy in "
                "batches while writes go on, then swap under a short lock "
                '(README, "Changing the schema").',
            )
        found += _drops_and_renames(migration.path, statement, queries, new)
        if (altered := _ALTER_TABLE.match(code)) and not new(table := _name(altered[1])):
            for action in _actions(altered[2]):
                if (added := _ADD_COLUMN.match(action)) and (
                    kind := _INLINE_CONSTRAINT.search(added[2])
                ):
                    report(
                        statement,
                        "constraint-not-valid",
                        f"adds column {added[1]} to the existing table {_shown_name(table)} with "
                        f"an inline {kind[1].upper()}: the table is read whole under an ACCESS "
                        "EXCLUSIVE lock. Add the column bare, then the constraint `not valid` "
                        "(unique: `create unique index concurrently` in its own migration, then "
                        "`add constraint ... unique using index`), then `validate constraint` "
                        "in a later migration.",
                    )
                column = _SET_NOT_NULL.match(action)
                name = column[1].strip('"') if column else ""
                if column and (table[1], name) not in validated_checks:
                    report(
                        statement,
                        "set-not-null-without-check",
                        f"set not null on {_shown_name(table)}.{name} reads the whole "
                        "existing table under an ACCESS EXCLUSIVE lock. First add "
                        f"`check ({name} is not null) not valid` and validate it in an "
                        "earlier migration: PostgreSQL then skips the scan.",
                    )
        if _CONCURRENT.match(code) and migration.transaction:
            report(
                statement,
                "concurrently-needs-transaction-false",
                "a concurrent statement cannot run inside the transaction dbmate wraps "
                "a migration in: put it alone in a migration whose first line reads "
                "`-- migrate:up transaction:false`.",
            )
    if not migration.transaction and len(migration.statements) > 1:
        for statement in migration.statements:
            if _CONCURRENT.match(statement.code) or _NO_TRANSACTION.match(statement.code):
                report(
                    statement,
                    "concurrently-alone",
                    "dbmate sends a migration as one query, and PostgreSQL runs the "
                    "statements of one query in one transaction: this statement then fails "
                    "(25001). Give it a transaction:false migration of its own.",
                )
    return found


def _drops_and_renames(
    path: Path, statement: Statement, queries: list[Query], new: Callable[[Name], bool]
) -> Iterator[Finding]:
    code = statement.code
    if dropped := _DROP_RELATION.match(code):
        for part in dropped[2].split(","):
            name = _name(part)
            users = [] if new(name) else _users(queries, _uses_relation, name)
            if users:
                yield _used(path, statement, "drop", f"{dropped[1]} {_shown_name(name)}", users)
    if dropped := _DROP_FUNCTION.match(code):
        for part in re.split(r",(?![^(]*\))", dropped[1]):
            name = _name(part.split("(")[0])
            if users := _users(queries, _uses_function, name):
                yield _used(path, statement, "drop", f"function {_shown_name(name)}", users)
    if renamed := _RENAME_RELATION.match(code):
        name = _name(renamed[2])
        users = [] if new(name) else _users(queries, _uses_relation, name)
        if users:
            yield _used(path, statement, "rename", f"{renamed[1]} {_shown_name(name)}", users)
    if renamed := _RENAME_FUNCTION.match(code):
        name = _name(renamed[1])
        if users := _users(queries, _uses_function, name):
            yield _used(path, statement, "rename", f"function {_shown_name(name)}", users)
    altered = _ALTER_TABLE.match(code)
    if not altered or new(table := _name(altered[1])):
        return
    for action in _actions(altered[2]):
        verb = "drop"
        column = _DROP_COLUMN.match(action)
        if not column:
            verb, column = "rename", _RENAME_COLUMN.match(action)
        if not column:
            continue
        column_name = column[1].strip('"')
        if users := _users(queries, _uses_column, table, column_name):
            yield _used(path, statement, verb, f"column {_shown_name(table)}.{column_name}", users)


def _used(path: Path, statement: Statement, verb: str, what: str, users: list[str]) -> Finding:
    shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
    return Finding(
        path,
        statement.line,
        f"{verb}-used-by-queries",
        f"{verb}s {what}, which the running release's queries use ({shown}): they fail "
        f"from the moment it commits. Expand now, contract in a later release: stop using "
        f"it in one release, {verb} it in the next.",
    )


def _actions(text: str) -> list[str]:
    """The comma-separated actions of an ``alter table``, split at the top level only."""
    actions: list[str] = []
    current: list[str] = []
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if c == "," and depth == 0:
            actions.append("".join(current).strip())
            current = []
        else:
            current.append(c)
    actions.append("".join(current).strip())
    return [a for a in actions if a]


def _validated_not_null_checks(earlier: list[Migration]) -> set[tuple[str, str]]:
    """(table, column) pairs with a validated ``check (column is not null)`` from *earlier*."""
    pending: dict[tuple[str, str], tuple[str, str]] = {}  # (table, constraint) -> (table, column)
    valid: set[tuple[str, str]] = set()
    for migration in earlier:
        for statement in migration.statements:
            altered = _ALTER_TABLE.match(statement.code)
            if not altered:
                continue
            table = _name(altered[1])[1]
            for action in _actions(altered[2]):
                if check := _NOT_NULL_CHECK.match(action):
                    pair = (table, check[2].strip('"'))
                    if check[3]:
                        pending[(table, check[1].strip('"'))] = pair
                    else:
                        valid.add(pair)
                elif (done := _VALIDATE.match(action)) and (
                    key := (table, done[1].strip('"'))
                ) in pending:
                    valid.add(pending[key])
    return valid


def _shown(path: Path) -> str:
    """*path* relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
