"""``codezest-db lint [FILE...]``: migrations that would block or break running services.

Five services deploy on their own schedules, each running ``migrate`` while
the previous version of every service is still serving. A migration must
therefore neither queue their reads and writes behind a long lock nor break
the queries the running version sends. ``lint`` checks the ``-- migrate:up``
part of each file (default: every file in ``db/migrations/``) with squawk
(`squawk-cli`, the ``[lint]`` extra) and with this repository's own rules,
where squawk has none (`RULES`), and prints one line per finding::

    db/migrations/20261125110100_keyset_and_job_indexes.sql:9: require-concurrent-index-...

A finding in an already-shipped migration (whose file can never change) is
fixed by a new migration or acknowledged once, with its reason, in
``db/lint-acknowledged.toml``; an acknowledgment that no longer matches a
finding is itself a finding (``stale-acknowledgment``). Exit status: 0 clean,
1 findings, 2 when the files could not be linted (missing file or squawk, a
broken acknowledgments file).

"Existing" tables are those the file being linted does not create itself:
squawk's meaning too. The queries the running release sends are those of
``queries/`` beside the migrations (``--queries DIR`` adds another release's).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import migrate
from .._resources import migrations_dir, queries_dir
from ..errors import ConfigurationError

__all__ = [
    "ACKNOWLEDGED_FILE",
    "RULES",
    "Finding",
    "add_arguments",
    "lint",
    "run",
    "template",
    "write_template",
]

ACKNOWLEDGED_FILE = "lint-acknowledged.toml"  # in db/, beside db/migrations/

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

# squawk's rules left out, and why (README, "Changing the schema"):
SQUAWK_EXCLUDED = (
    # Column types and naming style: not about locks or running code, and the
    # contract fixes some of them (currency char(3), timestamptz everywhere).
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "ban-char-field",
    "require-enum-value-ordering",
    # `codezest-db migrate` runs every migration with a short lock_timeout and a
    # statement_timeout (settable there), so a file does not set them; it cannot
    # in a transaction:false migration anyway (its one statement must be alone).
    "require-lock-timeout",
    "require-statement-timeout",
    "require-timeout-settings",
    # Replaced by drop-used-by-queries / rename-used-by-queries, which know which
    # tables and columns the running release's queries use: dropping one nobody
    # reads any more is the contract step of expand/contract, not a break.
    "ban-drop-table",
    "ban-drop-column",
    "ban-drop-function",
    "renaming-table",
    "renaming-column",
    "ban-set-schema",
    # Replaced by concurrently-needs-transaction-false: squawk's rule misses a
    # migration whose only statement is the concurrent one (dbmate still wraps
    # it in a transaction), and covers `create index` only.
    "ban-concurrent-index-creation-in-transaction",
    # Replaced by set-not-null-without-check: squawk cannot see a check validated
    # by an earlier migration (which makes `set not null` skip its scan), and
    # flags tables created in the same migration.
    "adding-not-nullable-field",
)
# The oldest PostgreSQL the contract supports: rules that depend on the version
# (adding-field-with-default, ...) judge for it.
PG_VERSION = "15"

_TEMPLATE = """\
-- migrate:up
-- {name}: what this changes, and why.
--
-- It runs while the previous release of every service is still serving
-- (README, "Changing the schema"); `codezest-db lint` checks it:
-- - Expand now, contract in a later release: add tables and nullable columns
--   here; drop or rename what the running queries use only in a release after
--   the one that stopped using it.
-- - A new constraint on an existing table: `add constraint ... not valid` here,
--   `alter table ... validate constraint ...` in the next migration.
-- - An index on an existing table: `create index concurrently if not exists`,
--   alone in its own migration whose first line reads
--   `-- migrate:up transaction:false`.
-- - Timeouts: `codezest-db migrate` runs this with a short lock_timeout and a
--   statement_timeout, and retries it when it gave way on a lock; do not set
--   them here.
--
-- Before committing:
-- 1. `codezest-db lint` passes;
-- 2. bump the version in codezest_db/_version.py (a schema change is a release);
-- 3. add its CHANGELOG.md entry;
-- 4. record the migrations of that version: `python -m tests.test_versioning --record`
--    (db/migrations.lock.json);
-- 5. `codezest-db dump-schema` (db/schema.sql), and `codezest-db stubs` if queries changed.


-- migrate:down

"""


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


@dataclass(frozen=True)
class Acknowledgment:
    file: str
    rule: str
    line: int
    reason: str


# --- the command -------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        type=Path,
        help="migration files (default: every file in db/migrations/)",
    )
    parser.add_argument(
        "--queries",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="another release's queries/ to keep working too (repeatable)",
    )
    parser.add_argument(
        "--acknowledged",
        type=Path,
        metavar="TOML",
        help=f"acknowledged findings (default: db/{ACKNOWLEDGED_FILE} beside the migrations)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        findings, acknowledged = lint(
            args.files or None, queries=args.queries, acknowledged=args.acknowledged
        )
    except ConfigurationError as exc:
        print(f"codezest-db lint: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    noun = "finding" if len(findings) == 1 else "findings"
    summary = f"{len(findings)} {noun} ({acknowledged} acknowledged)"
    print(f"codezest-db lint: {summary}", file=sys.stderr)
    return 1 if findings else 0


def template(name: str) -> str:
    """The text of a new migration named *name*: it passes lint as it is."""
    return _TEMPLATE.format(name=name)


def write_template(name: str, migrations: Path | None = None) -> Path:
    """``codezest-db new``: create the migration (`migrate.new`) and write the template in it."""
    path = migrate.new(name, migrations)
    path.write_text(template(name), encoding="utf-8")
    return path


# --- linting -----------------------------------------------------------------


def lint(
    files: Sequence[Path] | None = None,
    *,
    queries: Sequence[Path] = (),
    acknowledged: Path | None = None,
) -> tuple[list[Finding], int]:
    """The findings in *files* (default: the package's migrations) less the acknowledged ones.

    Returns them sorted, and how many findings were acknowledged. Raises
    ConfigurationError when a file, squawk or the acknowledgments cannot be read.
    """
    paths = list(files) if files else sorted(migrations_dir().glob("*.sql"))
    for path in paths:
        if not path.is_file():
            raise ConfigurationError(f"no migration file {path}")
    if not paths:
        raise ConfigurationError(f"no migrations in {migrations_dir()}")
    found: list[Finding] = []
    acknowledged_count = 0
    folders: dict[Path, list[Path]] = {}
    for path in paths:
        folders.setdefault(path.resolve().parent, []).append(path)
    for folder, group in folders.items():
        used = _load_queries([*_default_queries(folder), *queries])
        raw: list[Finding] = []
        for path in group:
            migration = _read(path)
            earlier = [_read(p) for p in _earlier(path)]
            raw += _squawk(migration)
            raw += _own_rules(migration, earlier, used)
        acks = _load_acknowledgments(acknowledged or folder.parent / ACKNOWLEDGED_FILE)
        left, count = _apply(sorted(set(raw)), acks, group, folder)
        found += left
        acknowledged_count += count
    return sorted(found), acknowledged_count


def _default_queries(folder: Path) -> list[Path]:
    """queries/ of the checkout (or wheel) holding *folder* (db/migrations), else the package's."""
    beside = folder.parent.parent / "queries"
    return [beside if beside.is_dir() else queries_dir()]


def _earlier(path: Path) -> list[Path]:
    """The migrations before *path* in its folder (dbmate applies them in name order)."""
    folder = path.resolve().parent
    return [p for p in sorted(folder.glob("*.sql")) if p.name < path.name]


def _read(path: Path) -> Migration:
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


# --- squawk ------------------------------------------------------------------


def squawk_binary() -> str:
    """Path of the squawk executable installed beside this Python (the squawk-cli wheel)."""
    beside = Path(sys.executable).parent / "squawk"
    found = str(beside) if beside.is_file() else shutil.which("squawk")
    if not found:
        raise ConfigurationError("squawk is missing: pip install 'codezest-db[lint]'")
    return found


def _squawk(migration: Migration) -> list[Finding]:
    command = [
        squawk_binary(),
        "--reporter=json",
        f"--pg-version={PG_VERSION}",
        f"--exclude={','.join(SQUAWK_EXCLUDED)}",
        f"--stdin-filepath={migration.path.name}",
    ]
    if migration.transaction:
        # dbmate wraps the migration in a transaction: squawk then knows that a
        # failed one leaves nothing behind (no prefer-robust-stmts), and that
        # `concurrently` cannot work there.
        command.append("--assume-in-transaction")
    # An empty working directory: no .squawk.toml of the caller's changes the rules.
    with tempfile.TemporaryDirectory(prefix="codezest-lint-") as scratch:
        result = subprocess.run(
            command, input=migration.up, capture_output=True, text=True, cwd=scratch, check=False
        )
    try:
        reported = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        reported = None
    if result.returncode not in (0, 1) or not isinstance(reported, list):
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigurationError(f"squawk failed on {migration.path}: {reason}")
    return [_from_squawk(migration.path, item) for item in reported]


def _from_squawk(path: Path, item: dict[str, Any]) -> Finding:
    message = str(item.get("message") or "").strip()
    help_ = str(item.get("help") or "").strip()
    if help_ and help_ not in message:
        message = f"{message} {help_}"
    # squawk counts lines from 0.
    return Finding(path, int(item["line"]) + 1, str(item["rule_name"]), message)


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


def _load_queries(folders: Iterable[Path]) -> list[Query]:
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
_DATA = re.compile(r"^(?:update|delete from|insert into .*\bselect\b|merge into)")
_NO_TRANSACTION = re.compile(r"^(?:vacuum|create database|drop database|alter system)\b")


def _own_rules(
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
                if (column := _SET_NOT_NULL.match(action)) and (
                    table[1],
                    column[1],
                ) not in validated_checks:
                    report(
                        statement,
                        "set-not-null-without-check",
                        f"set not null on {_shown_name(table)}.{column[1]} reads the whole "
                        "existing table under an ACCESS EXCLUSIVE lock. First add "
                        f"`check ({column[1]} is not null) not valid` and validate it in an "
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


# --- acknowledgments ---------------------------------------------------------


def _load_acknowledgments(path: Path) -> list[Acknowledgment]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    entries = data.get("acknowledged", [])
    if set(data) - {"acknowledged"} or not isinstance(entries, list):
        raise ConfigurationError(f"{path}: expected only [[acknowledged]] tables")
    found: dict[tuple[str, str, int], Acknowledgment] = {}
    for number, entry in enumerate(entries, 1):
        where = f"{path}: acknowledgment {number}"
        if not isinstance(entry, dict) or set(entry) != {"file", "rule", "lines", "reason"}:
            raise ConfigurationError(f"{where}: needs exactly file, rule, lines and reason")
        file, rule, lines, reason = (entry[k] for k in ("file", "rule", "lines", "reason"))
        if not (isinstance(file, str) and isinstance(rule, str) and isinstance(reason, str)):
            raise ConfigurationError(f"{where}: file, rule and reason are strings")
        if not reason.strip():
            raise ConfigurationError(f"{where}: says no reason")
        if not (isinstance(lines, list) and lines and all(type(x) is int for x in lines)):
            raise ConfigurationError(f"{where}: lines is a list of line numbers")
        for line in lines:
            if (file, rule, line) in found:
                raise ConfigurationError(f"{where}: {file}:{line} {rule} is acknowledged twice")
            found[(file, rule, line)] = Acknowledgment(file, rule, line, reason)
    return list(found.values())


def _apply(
    findings: list[Finding], acks: list[Acknowledgment], paths: list[Path], folder: Path
) -> tuple[list[Finding], int]:
    """*findings* less those *acks* acknowledges, plus the stale *acks*; how many matched."""
    by_key = {(a.file, a.rule, a.line): a for a in acks}
    matched: set[tuple[str, str, int]] = set()
    left = []
    for finding in findings:
        key = (finding.path.name, finding.rule, finding.line)
        if key in by_key:
            matched.add(key)
        else:
            left.append(finding)
    linted = {p.name: p for p in paths}
    for key, ack in by_key.items():
        # Stale: its file was linted and has no such finding, or is gone.
        gone = not (folder / ack.file).is_file()
        if key not in matched and (ack.file in linted or gone):
            left.append(
                Finding(
                    linted.get(ack.file, folder / ack.file),
                    ack.line,
                    "stale-acknowledgment",
                    f"{ACKNOWLEDGED_FILE} acknowledges {ack.rule} here, but lint finds no "
                    "such finding"
                    + (" (no such file)" if gone else "")
                    + ": remove the acknowledgment",
                )
            )
    return sorted(left), len(matched)


def _shown(path: Path) -> str:
    """*path* relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
