"""What our query layer costs over raw psycopg, next to the SQLAlchemy 2 ORM.

    python bench/bench_overhead.py [--url URL] [--calls N] [--rounds R]

Each contender fetches one user by email, R rounds of N calls, interleaved so
drift hits all alike; the best round per contender is reported, with ratios.
Without --url it runs on a throwaway embedded PostgreSQL (unix socket).

- raw:    psycopg ``conn.execute(sql, params).fetchone()``: the very SQL of
          our query, on the same connection, tuples out;
- ours:   ``queries.auth.get_user_by_email(conn, email=...)``: parameter
          checks, aiosql, a validated frozen ``User`` out;
- orm:    SQLAlchemy 2 ORM on psycopg, a Session per call (as per request),
          ``select(UserRow).where(...)`` -> a mapped ``UserRow``.

Targets (issue 2): ours <= 1.10x raw, and <= 0.5x orm.

It also times the parameter check alone (names, then the PostgreSQL types of
`codezest_db._query.signatures`) with and without its type checks, as a share
of a whole call (issue 10: a few percent at most).
"""

import argparse
import contextlib
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import psycopg
from _common import per_call_us, seed  # bench/, beside this script
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from codezest_db import migrate, queries
from codezest_db.tools.scratch import migrated_database


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "auth"}  # noqa: RUF012
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str]
    name: Mapped[str]
    role: Mapped[str]
    email_verified_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


def orm_contender(url: str, emails: list[str]) -> Callable[[int], object]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    connection = engine.connect()

    def call(i: int) -> object:
        with Session(bind=connection) as session:
            email = emails[i % len(emails)]
            stmt = select(UserRow).where(
                func.lower(UserRow.email) == func.lower(email), UserRow.deleted_at.is_(None)
            )
            return session.scalars(stmt).one_or_none()

    return call


def check_cost(emails: list[str], call_us: float, calls: int = 200_000) -> None:
    """The parameter check of create_user (four typed parameters, one enum) alone."""
    from codezest_db._query.params import ParamCheck as _Params

    spec = queries.auth.create_user.spec
    typed = _Params(spec.qualname, spec.params, spec.optional)
    untyped = _Params(spec.qualname, spec.params, spec.optional)
    untyped.types = None
    values = {"email": emails[0], "password_hash": "h", "name": "N", "role": "STUDENT"}
    timings: dict[str, list[float]] = {"with types": [], "names only": []}
    for _ in range(5):
        for name, check in (("with types", typed), ("names only", untyped)):
            start = time.perf_counter()
            for _ in range(calls):
                check(values)
            timings[name].append((time.perf_counter() - start) / calls * 1e6)
    with_types = statistics.median(timings["with types"])
    names_only = statistics.median(timings["names only"])
    extra = with_types - names_only
    print(
        f"parameter check of create_user: {with_types:.2f} us with types, {names_only:.2f} us "
        f"names only: the type check adds {extra:.2f} us = {extra / call_us:.1%} of a call"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: embedded, throwaway)")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    # Without --url: a migrated database on a throwaway embedded server.
    scratch = contextlib.ExitStack()
    url = scratch.enter_context(migrated_database(args.url))
    migrate.up(url)
    emails = seed(url, 1000)

    conn = psycopg.connect(url, autocommit=True)
    sql = queries.auth.get_user_by_email.sql

    def raw(i: int) -> object:
        return conn.execute(sql, {"email": emails[i % len(emails)]}).fetchone()

    def ours(i: int) -> object:
        return queries.auth.get_user_by_email(conn, email=emails[i % len(emails)])

    contenders = {
        "raw psycopg": raw,
        "codezest-db": ours,
        "SQLAlchemy ORM": orm_contender(url, emails),
    }
    for call in contenders.values():  # warm up: prepared statements, caches
        per_call_us(call, 200)
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, call in contenders.items():
            results[name].append(per_call_us(call, args.calls))

    best = {name: min(times) for name, times in results.items()}
    with psycopg.connect(url) as c:
        version = c.info.server_version
    print(f"server {version}, {args.rounds} rounds x {args.calls} calls; microseconds per call")
    for name, times in results.items():
        print(f"  {name:15} best {best[name]:7.1f}  median {statistics.median(times):7.1f}")
    check_cost(emails, statistics.median(results["codezest-db"]))
    ours_us, raw_us, orm_us = best["codezest-db"], best["raw psycopg"], best["SQLAlchemy ORM"]
    print(f"codezest-db / raw psycopg = {ours_us / raw_us:.3f}x (target <= 1.10x)")
    print(f"codezest-db / ORM         = {ours_us / orm_us:.3f}x (target <= 0.50x)")
    conn.close()
    scratch.close()


if __name__ == "__main__":
    main()
