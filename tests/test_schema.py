"""The migrated schema against the contract, the models and itself.

Reads the PostgreSQL catalog of the session database; every test runs in a
transaction that is rolled back, except the rollback test, which gets its own
empty database.
"""

from __future__ import annotations

import re
import types
import typing
import uuid
from decimal import Decimal
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any, NamedTuple

import psycopg
import pytest
from psycopg import errors, sql
from pydantic import AwareDatetime, BaseModel

from codezest_db import enums, migrate, models

SCHEMAS = ("auth", "learning", "payments", "notifications", "activity")
# One migration per schema, in order; then changes to them (issue 13: scale;
# issue 19: the codezest helper schema for online changes; issue 21: marks, rollups).
VERSIONS = [
    *(f"20261124000{n}00" for n in range(1, 6)),
    "20261125110000",
    "20261125110100",
    "20261202171421",
    "20261202171548",
    "20261202171731",
    "20261202174036",
    "20261202185251",
    "20261203111500",
]
SCHEMA_MADE_BY = dict(zip(VERSIONS, SCHEMAS, strict=False))  # version -> the schema it creates

TABLES: dict[type[BaseModel], str] = {
    models.User: "auth.users",
    models.UserProfile: "auth.user_profiles",
    models.Session: "auth.sessions",
    models.OAuthAccount: "auth.oauth_accounts",
    models.PasswordReset: "auth.password_resets",
    models.EmailVerification: "auth.email_verifications",
    models.ProgrammingLanguage: "learning.programming_languages",
    models.Module: "learning.modules",
    models.Material: "learning.materials",
    models.Assignment: "learning.assignments",
    models.MCQQuiz: "learning.mcq_quizzes",
    models.MCQQuestion: "learning.mcq_questions",
    models.MCQOption: "learning.mcq_options",
    models.LanguageEnrollment: "learning.language_enrollments",
    models.ModuleProgress: "learning.module_progress",
    models.MaterialProgress: "learning.material_progress",
    models.AssignmentSubmission: "learning.assignment_submissions",
    models.MCQAttempt: "learning.mcq_attempts",
    models.MCQAnswer: "learning.mcq_answers",
    models.AssignmentAnalysis: "learning.assignment_analyses",
    models.QuizAnalysis: "learning.quiz_analyses",
    models.Subscription: "payments.subscriptions",
    models.Transaction: "payments.transactions",
    models.Invoice: "payments.invoices",
    models.PaymentMethod: "payments.payment_methods",
    models.Notification: "notifications.notifications",
    models.NotificationPreference: "notifications.notification_preferences",
    models.EmailLog: "notifications.email_logs",
    models.UserActivity: "activity.user_activities",
    models.AnalyticsEvent: "activity.analytics_events",
}
# Models that are not a whole table: a projection of one, and an input.
PARTIAL: dict[type[BaseModel], str] = {
    models.UserCredentials: "auth.users",
    models.AnalyticsEventIn: "activity.analytics_events",
}
APPEND_ONLY = {"activity.user_activities", "activity.analytics_events"}
# Tables of ours that no service reads as rows: kept by the database itself.
INTERNAL = {
    "activity.event_counts",  # the count_events_by_day rollup, kept by triggers
    "auth.session_revocations",  # per-user "sessions before this are revoked" marks
    "notifications.notification_read_marks",  # per-user "notifications before this are read"
    "activity.user_event_counts",  # the count_user_events_by_day rollup
    "activity.user_event_rollup",  # its one row: how far the rollup has counted
    "activity.event_retention",  # its one row: the retention horizon
}
# Primary keys other than (id): a partitioned table's key must hold its partition key.
KEYS = {
    "activity.analytics_events": ["id", "occurred_at"],
    "activity.user_event_counts": ["id", "day"],
}
ROLLUP_TRIGGERS = ["count_inserted_events", "count_deleted_events", "count_updated_events"]

ENUMS = {
    "auth": {"Role"},
    "learning": {
        "Difficulty",
        "MaterialType",
        "SubmissionStatus",
        "ProgressStatus",
        "EnrollmentStatus",
        "AnalysisType",
    },
    "payments": {
        "SubscriptionPlan",
        "SubscriptionStatus",
        "TransactionStatus",
        "InvoiceStatus",
        "PaymentMethodType",
    },
}

# Postgres type name -> the Python types a model field may use for it.
PY_TYPES: dict[str, frozenset[object]] = {
    "uuid": frozenset({uuid.UUID}),
    "text": frozenset({str}),
    "bpchar": frozenset({str}),
    "int2": frozenset({int}),
    "int4": frozenset({int}),
    "int8": frozenset({int}),
    "bool": frozenset({bool}),
    "numeric": frozenset({Decimal}),
    "timestamptz": frozenset({AwareDatetime}),
    "inet": frozenset({IPv4Address, IPv6Address}),
}
JSON_SHAPES = {"object": dict, "array": list}


class Column(NamedTuple):
    nullable: bool
    type_name: str
    is_enum: bool
    type_oid: int
    default: str | None


def one(conn: psycopg.Connection[Any], query: Any, params: Any = ()) -> tuple[Any, ...]:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return tuple(row)


def ident(table: str) -> sql.Identifier:
    return sql.Identifier(*table.split("."))


def columns(conn: psycopg.Connection[Any], table: str) -> dict[str, Column]:
    rows = conn.execute(
        """
        select a.attname, not a.attnotnull, t.typname, t.typtype = 'e', t.oid,
               pg_get_expr(d.adbin, d.adrelid)
          from pg_attribute a
          join pg_type t on t.oid = a.atttypid
          left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
         order by a.attnum
        """,
        (table,),
    ).fetchall()
    return {name: Column(*rest) for name, *rest in rows}


def split_annotation(annotation: Any) -> tuple[frozenset[object], bool]:
    """({base types}, nullable) of a field annotation; generics reduced to their origin."""
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    args = typing.get_args(annotation) if is_union else (annotation,)
    base = frozenset(typing.get_origin(a) or a for a in args if a is not type(None))
    return base, type(None) in args


def json_shapes(conn: psycopg.Connection[Any], table: str) -> dict[str, type]:
    """jsonb column -> dict or list, from its ``jsonb_typeof(col) = '...'`` check."""
    rows = conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint where conrelid = %s::regclass"
        " and contype = 'c'",
        (table,),
    ).fetchall()
    found = (re.search(r"jsonb_typeof\((\w+)\) = '(\w+)'", d) for (d,) in rows)
    return {m[1]: JSON_SHAPES[m[2]] for m in found if m}


def enum_labels(conn: psycopg.Connection[Any], type_oid: int) -> list[str]:
    rows = conn.execute(
        "select enumlabel from pg_enum where enumtypid = %s order by enumsortorder", (type_oid,)
    ).fetchall()
    return [label for (label,) in rows]


def assert_fields_match(
    conn: psycopg.Connection[Any], model: type[BaseModel], table: str, *, whole: bool
) -> None:
    cols = columns(conn, table)
    fields = model.model_fields
    if whole:
        assert set(fields) == set(cols), f"{model.__name__} vs {table}"
    else:
        assert set(fields) <= set(cols), f"{model.__name__} vs {table}"
    shapes = json_shapes(conn, table)
    for name, field in fields.items():
        col = cols[name]
        base, nullable = split_annotation(field.annotation)
        where = f"{model.__name__}.{name} ({table}.{name} {col.type_name})"
        if whole or field.is_required():
            assert nullable == col.nullable, f"{where}: nullable is {col.nullable}"
        if col.is_enum:
            (enum,) = base
            assert isinstance(enum, type), where
            assert issubclass(enum, StrEnum), where
            assert enum is getattr(enums, col.type_name), where
            assert [m.value for m in enum] == enum_labels(conn, col.type_oid), where
        elif col.type_name == "jsonb":
            expected = shapes.get(name)
            assert expected is not None, f"{where}: no jsonb_typeof check constraint"
            assert base == {expected}, where
        else:
            assert base == PY_TYPES[col.type_name], where


def our_tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
           and not c.relispartition
         order by 1
        """,
        (list(SCHEMAS),),
    ).fetchall()
    return [name for (name,) in rows]


# 1. The catalog against the contract and the models ---------------------------


def test_contract_tables_exist_exactly(conn: psycopg.Connection[Any]) -> None:
    assert len(TABLES) == 30
    assert our_tables(conn) == sorted([*TABLES.values(), *INTERNAL])


def test_analytics_events_is_partitioned_by_occurred_at(conn: psycopg.Connection[Any]) -> None:
    strategy, key = one(
        conn,
        "select partstrat, pg_get_partkeydef(partrelid) from pg_partitioned_table"
        " where partrelid = 'activity.analytics_events'::regclass",
    )
    assert (strategy, key) == ("r", "RANGE (occurred_at)")
    # Partitions are not tables of the contract: our_tables leaves them out.
    (parts,) = one(
        conn,
        "select count(*) from pg_inherits where inhparent = 'activity.analytics_events'::regclass",
    )
    assert parts >= 3  # this month, the next, and the default


def test_contract_enums_exist_exactly(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        select n.nspname, t.typname
          from pg_type t join pg_namespace n on n.oid = t.typnamespace
         where t.typtype = 'e' and n.nspname not in ('pg_catalog', 'information_schema')
        """
    ).fetchall()
    assert sorted(rows) == sorted((s, name) for s, names in ENUMS.items() for name in names)
    assert sorted(enums.__all__) == sorted(name for names in ENUMS.values() for name in names)


def test_nothing_of_ours_in_public(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        select c.relname from pg_class c
         where c.relnamespace = 'public'::regnamespace
           and c.relname not in ('schema_migrations', 'schema_migrations_pkey')
        union all
        select p.proname from pg_proc p where p.pronamespace = 'public'::regnamespace
        union all
        select t.typname from pg_type t
         where t.typnamespace = 'public'::regnamespace and t.typtype <> 'c'
           and t.typrelid = 0 and t.typelem = 0
        """
    ).fetchall()
    assert rows == []


def test_every_model_is_accounted_for() -> None:
    exported = {getattr(models, name) for name in models.__all__}
    # Projections of single queries (<Query>Row) are checked by `codezest-db check`.
    tables = {model for model in exported if not model.__name__.endswith("Row")}
    assert tables == set(TABLES) | set(PARTIAL)
    assert models.__all__ == sorted(models.__all__)
    for model in exported:
        assert model.model_config.get("frozen") is True, model.__name__
        assert model.model_config.get("extra") == "forbid", model.__name__


@pytest.mark.parametrize(("model", "table"), TABLES.items(), ids=[m.__name__ for m in TABLES])
def test_model_matches_table(
    conn: psycopg.Connection[Any], model: type[BaseModel], table: str
) -> None:
    if model is models.User:
        cols = set(columns(conn, table)) - {"password_hash"}
        assert set(model.model_fields) == cols
        return assert_fields_match(conn, model, table, whole=False)
    assert_fields_match(conn, model, table, whole=True)


def test_user_never_carries_the_password_hash(conn: psycopg.Connection[Any]) -> None:
    assert "password_hash" in columns(conn, "auth.users")
    assert "password_hash" not in models.User.model_fields


def test_user_credentials_is_the_sign_in_projection(conn: psycopg.Connection[Any]) -> None:
    assert list(models.UserCredentials.model_fields) == ["id", "email", "password_hash", "role"]
    assert_fields_match(conn, models.UserCredentials, "auth.users", whole=False)
    carriers = [m for m in (*TABLES, *PARTIAL) if "password_hash" in m.model_fields]
    assert carriers == [models.UserCredentials]


def test_analytics_event_in_is_an_input_row(conn: psycopg.Connection[Any]) -> None:
    assert list(models.AnalyticsEventIn.model_fields) == [
        "name",
        "user_id",
        "properties",
        "occurred_at",
    ]
    assert_fields_match(conn, models.AnalyticsEventIn, "activity.analytics_events", whole=False)
    event = models.AnalyticsEventIn(name="page_view")
    assert (event.user_id, event.properties, event.occurred_at) == (None, {}, None)
    assert models.AnalyticsEventIn(name="x").properties is not event.properties


# 2. Conventions every table follows --------------------------------------------


def test_every_table_has_a_uuid_key_and_created_at(conn: psycopg.Connection[Any]) -> None:
    for table in [*TABLES.values(), *INTERNAL]:
        cols = columns(conn, table)
        assert cols["id"][:3] == (False, "uuid", False), table
        assert cols["id"].default == "gen_random_uuid()", table
        (key,) = conn.execute(
            "select array_agg(a.attname::text order by k.n) from pg_constraint c"
            " cross join unnest(c.conkey) with ordinality as k (attnum, n)"
            " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum"
            " where c.conrelid = %s::regclass and c.contype = 'p'",
            (table,),
        ).fetchone() or (None,)
        assert key == KEYS.get(table, ["id"]), table
        assert cols["created_at"][:3] == (False, "timestamptz", False), table
        assert cols["created_at"].default == "now()", table


def test_mutable_tables_have_updated_at_and_its_trigger(conn: psycopg.Connection[Any]) -> None:
    without = set()
    for table in TABLES.values():
        cols = columns(conn, table)
        triggers = conn.execute(
            """
            select p.proname, p.pronamespace::regnamespace::text, t.tgtype
              from pg_trigger t join pg_proc p on p.oid = t.tgfoid
             where t.tgrelid = %s::regclass and not t.tgisinternal
               and p.proname <> all(%s)  -- the event_counts rollup
            """,
            (table, ROLLUP_TRIGGERS),
        ).fetchall()
        if "updated_at" not in cols:
            without.add(table)
            assert triggers == [], table
            continue
        assert cols["updated_at"][:3] == (False, "timestamptz", False), table
        assert cols["updated_at"].default == "now()", table
        row, before, update = 1, 2, 16  # pg_trigger.tgtype bits
        # the function of the table's own schema, before update only, for each row
        assert triggers == [("set_updated_at", table.split(".")[0], row | before | update)], table
    assert without == APPEND_ONLY


def test_soft_delete_columns(conn: psycopg.Connection[Any]) -> None:
    having = {t for t in TABLES.values() if "deleted_at" in columns(conn, t)}
    assert having == {
        "auth.users",
        "learning.programming_languages",
        "learning.modules",
        "learning.materials",
        "learning.assignments",
        "learning.mcq_quizzes",
    }
    for table in having:
        assert columns(conn, table)["deleted_at"][:2] == (True, "timestamptz"), table


# One table per schema that has a set_updated_at(): (table, insert, update).
BUMP_CASES = [
    (
        "auth.users",
        "insert into auth.users (email, name, updated_at)"
        " values ('bump@example.com', 'Bump', '2000-01-01Z') returning id",
        "update auth.users set name = 'Bumped' where id = %s",
    ),
    (
        "learning.programming_languages",
        "insert into learning.programming_languages (slug, name, updated_at)"
        " values ('bump', 'Bump', '2000-01-01Z') returning id",
        "update learning.programming_languages set name = 'Bumped' where id = %s",
    ),
    (
        "payments.subscriptions",
        "insert into payments.subscriptions (user_id, plan, status, updated_at)"
        " values (gen_random_uuid(), 'FREE', 'ACTIVE', '2000-01-01Z') returning id",
        "update payments.subscriptions set status = 'CANCELED' where id = %s",
    ),
    (
        "notifications.notifications",
        "insert into notifications.notifications (user_id, type, title, body, updated_at)"
        " values (gen_random_uuid(), 'test', 'Bump', 'Body', '2000-01-01Z') returning id",
        "update notifications.notifications set read_at = now() where id = %s",
    ),
]


@pytest.mark.parametrize(("table", "insert", "update"), BUMP_CASES, ids=[c[0] for c in BUMP_CASES])
def test_update_bumps_updated_at(
    conn: psycopg.Connection[Any], table: str, insert: str, update: str
) -> None:
    (row_id,) = one(conn, insert)
    conn.execute(update, (row_id,))
    query = sql.SQL("select updated_at = now() from {} where id = %s").format(ident(table))
    assert one(conn, query, (row_id,)) == (True,)


def test_no_foreign_key_crosses_a_schema(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        select c.conrelid::regclass::text, c.confrelid::regclass::text, c.conname
          from pg_constraint c
          join pg_class r on r.oid = c.conrelid
          join pg_class f on f.oid = c.confrelid
         where c.contype = 'f' and r.relnamespace::regnamespace::text = any(%s)
        """,
        (list(SCHEMAS),),
    ).fetchall()
    assert rows, "expected foreign keys inside the schemas"
    assert [r for r in rows if r[0].split(".")[0] != r[1].split(".")[0]] == []


def test_every_foreign_key_and_user_id_is_indexed(conn: psycopg.Connection[Any]) -> None:
    indexes: dict[str, list[tuple[list[int], bool]]] = {}
    for table, keys, partial in conn.execute(
        "select indrelid::regclass::text, indkey::int2[], indpred is not null from pg_index"
        " where indrelid::regclass::text = any(%s)",
        (list(TABLES.values()),),
    ):
        indexes.setdefault(table, []).append((list(keys), partial))

    def leads(table: str, attnums: list[int], *, partial_ok: bool) -> bool:
        return any(
            sorted(keys[: len(attnums)]) == sorted(attnums) and (partial_ok or not partial)
            for keys, partial in indexes.get(table, [])
        )

    fks = conn.execute(
        "select conrelid::regclass::text, conname, conkey from pg_constraint"
        " where contype = 'f' and conrelid::regclass::text = any(%s)",
        (list(TABLES.values()),),
    ).fetchall()
    assert [(t, name) for t, name, key in fks if not leads(t, key, partial_ok=False)] == []
    user_ids = conn.execute(
        "select attrelid::regclass::text, attnum from pg_attribute"
        " where attname = 'user_id' and not attisdropped and attrelid::regclass::text = any(%s)",
        (list(TABLES.values()),),
    ).fetchall()
    assert user_ids
    assert [t for t, num in user_ids if not leads(t, [num], partial_ok=True)] == []


def test_every_table_schema_and_enum_is_commented(conn: psycopg.Connection[Any]) -> None:
    for table in TABLES.values():
        assert one(conn, "select obj_description(%s::regclass, 'pg_class')", (table,))[0], table
    for schema in SCHEMAS:
        comment = one(conn, "select obj_description(%s::regnamespace, 'pg_namespace')", (schema,))
        assert comment[0], schema
    for schema, names in ENUMS.items():
        for name in names:
            regtype = f'{schema}."{name}"'
            assert one(conn, "select obj_description(%s::regtype, 'pg_type')", (regtype,))[0]


# 3. Per-service roles -----------------------------------------------------------

# schema -> (a table, an insert into it returning id, an update of that row)
PROBES = {
    "auth": (
        "auth.users",
        "insert into auth.users (email, name) values ('role@example.com', 'Role') returning id",
    ),
    "learning": (
        "learning.programming_languages",
        "insert into learning.programming_languages (slug, name) values ('role', 'R') returning id",
    ),
    "payments": (
        "payments.subscriptions",
        "insert into payments.subscriptions (user_id, plan, status)"
        " values (gen_random_uuid(), 'PRO', 'TRIALING') returning id",
    ),
    "notifications": (
        "notifications.notifications",
        "insert into notifications.notifications (user_id, type, title, body)"
        " values (gen_random_uuid(), 'test', 'T', 'B') returning id",
    ),
    "activity": (
        "activity.user_activities",
        "insert into activity.user_activities (user_id, type)"
        " values (gen_random_uuid(), 'test') returning id",
    ),
}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_role_works_in_its_schema_only(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(f"codezest_{schema}")))
    table, insert = PROBES[schema]
    (row_id,) = one(conn, insert)
    # An update also runs the schema's trigger function under the role.
    update = sql.SQL("update {} set created_at = created_at where id = %s").format(ident(table))
    assert conn.execute(update, (row_id,)).rowcount == 1
    assert one(conn, sql.SQL("select count(*) from {}").format(ident(table)))[0] >= 1
    delete = sql.SQL("delete from {} where id = %s").format(ident(table))
    assert conn.execute(delete, (row_id,)).rowcount == 1
    with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
        conn.execute(sql.SQL("create table {}.probe (id int)").format(sql.Identifier(schema)))
    for other in SCHEMAS:
        if other == schema:
            continue
        other_table, other_insert = PROBES[other]
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
            conn.execute(sql.SQL("select count(*) from {}").format(ident(other_table)))
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
            conn.execute(other_insert)


def test_role_privileges_in_the_catalog(conn: psycopg.Connection[Any]) -> None:
    for schema in SCHEMAS:
        role = f"codezest_{schema}"
        assert one(conn, "select rolcanlogin from pg_roles where rolname = %s", (role,)) == (False,)
        for other in SCHEMAS:
            usage = one(conn, "select has_schema_privilege(%s, %s, 'usage')", (role, other))[0]
            assert usage is (other == schema), (role, other)
            assert not one(conn, "select has_schema_privilege(%s, %s, 'create')", (role, other))[0]
        for table in TABLES.values():
            mine = table.startswith(f"{schema}.")
            for privilege in ("select", "insert", "update", "delete"):
                query = "select has_table_privilege(%s, %s, %s)"
                assert one(conn, query, (role, table, privilege))[0] is mine, (role, table)
            assert not one(conn, "select has_table_privilege(%s, %s, 'truncate')", (role, table))[0]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_role_covers_tables_created_later(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(sql.SQL("create table {}.later (id int)").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("create sequence {}.later_seq").format(sql.Identifier(schema)))
    for role_schema in SCHEMAS:
        role = f"codezest_{role_schema}"
        mine = role_schema == schema
        for privilege in ("select", "insert", "update", "delete"):
            query = "select has_table_privilege(%s, %s, %s)"
            assert one(conn, query, (role, f"{schema}.later", privilege))[0] is mine, role
        query = "select has_sequence_privilege(%s, %s, 'usage')"
        assert one(conn, query, (role, f"{schema}.later_seq"))[0] is mine, role


# 4. Integrity enforced by the database ----------------------------------------


def violates(
    conn: psycopg.Connection[Any],
    error: type[psycopg.Error],
    constraint: str,
    query: str,
    params: Any = (),
) -> None:
    with pytest.raises(error) as caught, conn.transaction():
        conn.execute(query, params)
    assert caught.value.diag.constraint_name == constraint


def new_user(conn: psycopg.Connection[Any], email: str) -> uuid.UUID:
    query = "insert into auth.users (email, name) values (%s, 'Someone') returning id"
    return one(conn, query, (email,))[0]  # type: ignore[no-any-return]


def new_language(conn: psycopg.Connection[Any], slug: str = "python") -> uuid.UUID:
    query = "insert into learning.programming_languages (slug, name) values (%s, %s) returning id"
    return one(conn, query, (slug, slug.title()))[0]  # type: ignore[no-any-return]


def test_email_is_unique_ignoring_case_among_live_users(conn: psycopg.Connection[Any]) -> None:
    first = new_user(conn, "Ada@Example.com")
    query = "insert into auth.users (email, name) values (%s, 'Copy')"
    violates(conn, errors.UniqueViolation, "users_email_key", query, ("ada@example.COM",))
    conn.execute("update auth.users set deleted_at = now() where id = %s", (first,))
    new_user(conn, "ada@example.com")  # a soft-deleted account frees its email


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com"])
def test_email_must_look_like_one(conn: psycopg.Connection[Any], email: str) -> None:
    query = "insert into auth.users (email, name) values (%s, 'Bad')"
    violates(conn, errors.CheckViolation, "users_email_check", query, (email,))


def test_one_default_payment_method_per_user(conn: psycopg.Connection[Any]) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    query = (
        "insert into payments.payment_methods (user_id, type, provider_method_id, is_default)"
        " values (%s, 'CARD', %s, %s)"
    )
    conn.execute(query, (user, "pm_1", True))
    conn.execute(query, (user, "pm_2", False))
    conn.execute(query, (other, "pm_3", True))
    violates(
        conn,
        errors.UniqueViolation,
        "payment_methods_one_default_per_user",
        query,
        (user, "pm_4", True),
    )
    violates(
        conn,
        errors.UniqueViolation,
        "payment_methods_provider_method_id_key",
        query,
        (other, "pm_1", False),
    )


TRANSACTION = (
    "insert into payments.transactions"
    " (user_id, amount_minor, currency, status, provider_payment_id)"
    " values (gen_random_uuid(), %s, %s, 'SUCCEEDED', %s)"
)


@pytest.mark.parametrize(
    ("amount", "currency", "constraint"),
    [
        (-1, "USD", "transactions_amount_minor_check"),
        (100, "usd", "transactions_currency_check"),
        (100, "US", "transactions_currency_check"),
        (100, "U5D", "transactions_currency_check"),
    ],
)
def test_money_is_checked(
    conn: psycopg.Connection[Any], amount: int, currency: str, constraint: str
) -> None:
    violates(conn, errors.CheckViolation, constraint, TRANSACTION, (amount, currency, "pi_x"))


def test_provider_payment_id_and_invoice_number_are_unique(conn: psycopg.Connection[Any]) -> None:
    conn.execute(TRANSACTION, (0, "INR", "pi_1"))
    violates(
        conn,
        errors.UniqueViolation,
        "transactions_provider_payment_id_key",
        TRANSACTION,
        (500, "INR", "pi_1"),
    )
    invoice = (
        "insert into payments.invoices (user_id, number, amount_minor, currency)"
        " values (gen_random_uuid(), %s, %s, 'EUR')"
    )
    conn.execute(invoice, ("CZ-1", 990))
    violates(conn, errors.UniqueViolation, "invoices_number_key", invoice, ("CZ-1", 990))
    violates(conn, errors.CheckViolation, "invoices_amount_minor_check", invoice, ("CZ-2", -5))


def test_one_enrollment_per_user_and_language(conn: psycopg.Connection[Any]) -> None:
    user, language = uuid.uuid4(), new_language(conn)
    query = "insert into learning.language_enrollments (user_id, language_id) values (%s, %s)"
    conn.execute(query, (user, language))
    conn.execute(query, (uuid.uuid4(), language))
    violates(
        conn,
        errors.UniqueViolation,
        "language_enrollments_user_id_language_id_key",
        query,
        (user, language),
    )


def test_catalogue_slugs_positions_and_progress(conn: psycopg.Connection[Any]) -> None:
    language = new_language(conn, "rust")
    violates(
        conn,
        errors.UniqueViolation,
        "programming_languages_slug_key",
        "insert into learning.programming_languages (slug, name) values ('rust', 'Again')",
    )
    module = (
        "insert into learning.modules (language_id, slug, title, position)"
        " values (%s, %s, 'Title', %s) returning id"
    )
    (module_id,) = one(conn, module, (language, "basics", 0))
    violates(
        conn,
        errors.UniqueViolation,
        "modules_language_id_slug_key",
        module,
        (language, "basics", 1),
    )
    violates(conn, errors.CheckViolation, "modules_position_check", module, (language, "x", -1))
    progress = (
        "insert into learning.module_progress (user_id, module_id, progress_percent)"
        " values (%s, %s, %s)"
    )
    user = uuid.uuid4()
    violates(
        conn,
        errors.CheckViolation,
        "module_progress_progress_percent_check",
        progress,
        (user, module_id, Decimal("100.01")),
    )
    conn.execute(progress, (user, module_id, Decimal("100")))
    violates(
        conn,
        errors.UniqueViolation,
        "module_progress_user_id_module_id_key",
        progress,
        (user, module_id, Decimal("5")),
    )


def test_quiz_answers_are_consistent(conn: psycopg.Connection[Any]) -> None:
    (module_id,) = one(
        conn,
        "insert into learning.modules (language_id, slug, title)"
        " values (%s, 'm', 'M') returning id",
        (new_language(conn),),
    )
    (quiz,) = one(
        conn,
        "insert into learning.mcq_quizzes (module_id, title, passing_score)"
        " values (%s, 'Q', 1) returning id",
        (module_id,),
    )
    question = "insert into learning.mcq_questions (quiz_id, prompt) values (%s, %s) returning id"
    q1, q2 = one(conn, question, (quiz, "one?"))[0], one(conn, question, (quiz, "two?"))[0]
    option = "insert into learning.mcq_options (question_id, text) values (%s, 'yes') returning id"
    o1, o2 = one(conn, option, (q1,))[0], one(conn, option, (q2,))[0]
    (attempt,) = one(
        conn,
        "insert into learning.mcq_attempts (user_id, quiz_id) values (%s, %s) returning id",
        (uuid.uuid4(), quiz),
    )
    answer = (
        "insert into learning.mcq_answers (attempt_id, question_id, option_id) values (%s, %s, %s)"
    )
    violates(
        conn,
        errors.ForeignKeyViolation,
        "mcq_answers_option_id_question_id_fkey",
        answer,
        (attempt, q1, o2),
    )
    conn.execute(answer, (attempt, q1, o1))
    violates(
        conn,
        errors.UniqueViolation,
        "mcq_answers_attempt_id_question_id_key",
        answer,
        (attempt, q1, o1),
    )


def test_children_follow_their_parent(conn: psycopg.Connection[Any]) -> None:
    user = new_user(conn, "gone@example.com")
    conn.execute(
        "insert into auth.sessions (user_id, token_hash, expires_at)"
        " values (%s, 'h1', now() + interval '1 day')",
        (user,),
    )
    conn.execute("delete from auth.users where id = %s", (user,))
    assert one(conn, "select count(*) from auth.sessions where user_id = %s", (user,)) == (0,)
    (subscription,) = one(
        conn,
        "insert into payments.subscriptions (user_id, plan, status)"
        " values (gen_random_uuid(), 'PRO', 'ACTIVE') returning id",
    )
    (charge,) = one(
        conn,
        "insert into payments.transactions"
        " (user_id, subscription_id, amount_minor, currency, status, provider_payment_id)"
        " values (gen_random_uuid(), %s, 999, 'USD', 'SUCCEEDED', 'pi_keep') returning id",
        (subscription,),
    )
    conn.execute("delete from payments.subscriptions where id = %s", (subscription,))
    query = "select subscription_id from payments.transactions where id = %s"
    assert one(conn, query, (charge,)) == (None,)  # financial records outlive subscriptions


def test_one_preference_per_user_channel_and_type(conn: psycopg.Connection[Any]) -> None:
    user = uuid.uuid4()
    query = (
        "insert into notifications.notification_preferences (user_id, channel, type, enabled)"
        " values (%s, %s, %s, false)"
    )
    conn.execute(query, (user, "email", None))
    conn.execute(query, (user, "email", "digest"))
    key = "notification_preferences_user_id_channel_type_key"
    violates(conn, errors.UniqueViolation, key, query, (user, "email", None))
    violates(conn, errors.UniqueViolation, key, query, (user, "email", "digest"))
    violates(
        conn,
        errors.CheckViolation,
        "notification_preferences_channel_check",
        query,
        (user, "sms", None),
    )


# 5. Rollback to empty, then migrate again ---------------------------------------

LEFTOVERS = {
    "schemas": "select count(*) from pg_namespace where nspname = any(%(schemas)s)",
    "enum types": "select count(*) from pg_type where typtype = 'e'",
    "functions": (
        "select count(*) from pg_proc"
        " where pronamespace::regnamespace::text not in ('pg_catalog', 'information_schema')"
    ),
    "relations": (
        "select count(*) from pg_class c"
        " where relnamespace::regnamespace::text not in"
        "   ('pg_catalog', 'information_schema', 'pg_toast', 'public')"
    ),
    "default privileges": "select count(*) from pg_default_acl",
    "grants to codezest roles": (
        "select count(*) from pg_shdepend"
        " where dbid = (select oid from pg_database where datname = current_database())"
        "   and refclassid = 'pg_authid'::regclass"
        "   and refobjid in (select oid from pg_roles where rolname like 'codezest\\_%%')"
    ),
}


def leftovers(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        params = {"schemas": list(SCHEMAS)}
        return {what: one(c, query, params)[0] for what, query in LEFTOVERS.items()}


def present_schemas(url: str) -> list[str]:
    with psycopg.connect(url) as c:
        rows = c.execute(
            "select nspname from pg_namespace where nspname = any(%s)", (list(SCHEMAS),)
        ).fetchall()
    return sorted(name for (name,) in rows)


def test_rollback_to_empty_then_migrate_again(empty_database_url: str) -> None:
    url = empty_database_url
    assert leftovers(url) == dict.fromkeys(LEFTOVERS, 0)
    migrate.up(url)
    assert migrate.applied(url) == VERSIONS
    assert leftovers(url)["grants to codezest roles"] > 0
    for applied in range(len(VERSIONS) - 1, -1, -1):
        migrate.rollback(url)
        assert migrate.applied(url) == VERSIONS[:applied]
        made = [SCHEMA_MADE_BY[v] for v in VERSIONS[:applied] if v in SCHEMA_MADE_BY]
        assert present_schemas(url) == sorted(made)
    assert leftovers(url) == dict.fromkeys(LEFTOVERS, 0)
    migrate.up(url)
    assert migrate.applied(url) == VERSIONS
    with psycopg.connect(url) as c:
        assert our_tables(c) == sorted([*TABLES.values(), *INTERNAL])
