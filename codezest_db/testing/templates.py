"""Migrated template databases: a test database is a copy, not a dbmate run.

The template is named after a checksum of the shipped migrations
(``codezest_template_<sha256 prefix>``), so a server that persists between
sessions (``$CODEZEST_TEST_DATABASE_URL``) migrates once per change of the
migrations, and every session and test database after that is a
``CREATE DATABASE ... TEMPLATE`` copy.

Concurrent sessions (pytest-xdist workers, two terminals) agree through a
PostgreSQL advisory lock on the maintenance database: building (and pruning
the oldest templates of other migration sets) takes it exclusively, copying
takes it shared. A template is marked ready (``is_template``, no connections
allowed) only once migrated, so a session killed halfway leaves a database
the next one drops and rebuilds; a template pruned by another session is
rebuilt on the next copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .. import migrate
from .._resources import migrations_dir

__all__ = [
    "KEEP",
    "PREFIX",
    "drop_template",
    "migrated_copy",
    "migrations_checksum",
    "template_name",
]

PREFIX = "codezest_template_"
# Templates of other migration sets kept on a shared server (other branches).
KEEP = 3
# pg_advisory_lock key: the bytes of "czdbtmpl" as a signed 64-bit integer.
_LOCK_KEY = int.from_bytes(b"czdbtmpl", "big", signed=True)


def migrations_checksum(folder: Path | None = None) -> str:
    """A short sha256 of the migration files' names and contents."""
    digest = hashlib.sha256()
    for path in sorted((folder or migrations_dir()).glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def template_name(folder: Path | None = None) -> str:
    return PREFIX + migrations_checksum(folder)


def migrated_copy(
    admin_url: str, url_for: Callable[[str], str], name: str, folder: Path | None = None
) -> bool:
    """Create database *name* as a copy of the template of the migrations in *folder*.

    The template is built first if it is missing (also when another session
    pruned it meanwhile). *url_for(database)* gives the URL of a database on
    the same server. Returns False if this call built the template, else True.
    Raises MigrationError if migrating fails, psycopg.Error if the server
    refuses (no CREATEDB privilege).
    """
    template = template_name(folder)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        built = False
        while True:
            # Shared: copies run side by side; a build or a prune waits for them.
            with _locked(admin, "pg_advisory_lock_shared", "pg_advisory_unlock_shared"):
                if _ready(admin, template):
                    admin.execute(
                        sql.SQL("create database {} template {}").format(
                            sql.Identifier(name), sql.Identifier(template)
                        )
                    )
                    return not built
            with _locked(admin, "pg_advisory_lock", "pg_advisory_unlock"):
                if not _ready(admin, template):  # nobody built it while we waited
                    _build(admin, template, url_for(template), folder)
                    built = True


def drop_template(admin_url: str, folder: Path | None = None) -> None:
    """Drop the template of the migrations in *folder*, once no copy of it is running."""
    with (
        psycopg.connect(admin_url, autocommit=True) as admin,
        _locked(admin, "pg_advisory_lock", "pg_advisory_unlock"),
    ):
        _drop(admin, template_name(folder))


def _build(admin: psycopg.Connection[Any], template: str, url: str, folder: Path | None) -> None:
    _drop(admin, template)  # a leftover of a session killed while building
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(template)))
    try:
        migrate.run(url, "up", migrations=folder)
    except BaseException:
        _drop(admin, template)
        raise
    admin.execute(
        sql.SQL("alter database {} with is_template true allow_connections false").format(
            sql.Identifier(template)
        )
    )
    _prune(admin, keep=template)


@contextmanager
def _locked(admin: psycopg.Connection[Any], lock: str, unlock: str) -> Iterator[None]:
    admin.execute(sql.SQL("select {}(%s)").format(sql.Identifier(lock)), (_LOCK_KEY,))
    try:
        yield
    finally:
        admin.execute(sql.SQL("select {}(%s)").format(sql.Identifier(unlock)), (_LOCK_KEY,))


def _ready(admin: psycopg.Connection[Any], name: str) -> bool:
    row = admin.execute("select datistemplate from pg_database where datname = %s", (name,))
    found = row.fetchone()
    return bool(found and found[0])


def _drop(admin: psycopg.Connection[Any], name: str) -> None:
    exists = admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
    if not exists:
        return
    admin.execute(
        sql.SQL("alter database {} with is_template false allow_connections true").format(
            sql.Identifier(name)
        )
    )
    admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def _prune(admin: psycopg.Connection[Any], keep: str) -> None:
    """Drop the oldest templates of other migration sets, keeping `KEEP` of them."""
    rows = admin.execute(
        "select datname from pg_database where datname like %s and datname <> %s order by oid desc",
        (PREFIX.replace("_", r"\_") + "%", keep),
    ).fetchall()
    for (old,) in rows[KEEP:]:
        _drop(admin, old)
