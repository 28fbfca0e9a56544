"""``codezest-db lint [FILE...]``: migrations that would block or break running services.

Five services deploy on their own schedules, each running ``migrate`` while
the previous version of every service is still serving. A migration must
therefore neither queue their reads and writes behind a long lock nor break
the queries the running version sends. ``lint`` checks the ``-- migrate:up``
part of each file (default: every file in ``db/migrations/``) with squawk
(`squawk-cli`, the ``[lint]`` extra) and with this repository's own rules,
where squawk has none (`RULES`, in `codezest_db.tools.lint_rules` with the
reading of migrations and queries), and prints one line per finding::

    db/migrations/20261125110100_keyset_and_job_indexes.sql:9: require-concurrent-index-...

A finding in an already-shipped migration (whose file can never change) is
fixed by a new migration or acknowledged once, with its reason, in
``db/lint-acknowledged.toml``; an acknowledgment that no longer matches a
finding is itself a finding (``stale-acknowledgment``). Exit status: 0 clean,
1 findings, 2 when the files could not be linted (missing file or squawk, a
broken acknowledgments file).

"Existing" tables are those the file being linted does not create itself:
squawk's meaning too. The queries the running release sends are those of
``queries/`` beside the migrations and of the previous release recorded in
``db/releases/`` (`codezest_db.tools.releases`); ``--queries DIR`` adds others.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import migrate
from .._resources import migrations_dir, queries_dir
from ..errors import ConfigurationError
from .lint_rules import RULES, Finding, Migration, earlier, load_queries, own_rules, read

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
--   statement_timeout, and retries it when it gave way on a lock: leave them
--   to it (`set local statement_timeout = ...` only if this one needs more).
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
        used = load_queries([*_default_queries(folder), *queries])
        raw: list[Finding] = []
        for path in group:
            migration = read(path)
            before = [read(p) for p in earlier(path)]
            raw += _squawk(migration)
            raw += own_rules(migration, before, used)
        acks = _load_acknowledgments(acknowledged or folder.parent / ACKNOWLEDGED_FILE)
        left, count = _apply(sorted(set(raw)), acks, group, folder)
        found += left
        acknowledged_count += count
    return sorted(found), acknowledged_count


def _default_queries(folder: Path) -> list[Path]:
    """queries/ of the checkout (or wheel) holding *folder* (db/migrations), else the package's,
    and those of the previous release recorded beside it (db/releases/, see `releases`):
    its code is still serving while the migration runs."""
    from .releases import previous_release

    beside = folder.parent.parent / "queries"
    current = beside if beside.is_dir() else queries_dir()
    recorded = folder.parent / "releases"
    last = previous_release(current, recorded)
    return [current] if last is None else [current, recorded / last / "queries"]


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
