"""Behind a real PgBouncer in transaction pooling mode, with prepare_threshold=None.

PgBouncer hands each transaction to whichever server connection is free, so a
statement psycopg prepared on one server connection is missing (or is another
client's statement) on the next. `POOL_SIZE` server connections serve every
client here, so clients do take turns on them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

import codezest_db
from codezest_db import aio, errors, queries
from codezest_db.models import AnalyticsEventIn
from codezest_db.testing.servers import POOL_SIZE, PgBouncer

# More calls per query and client connection than psycopg's prepare_threshold
# (5): without prepare_threshold=None every query here would get prepared.
THREADS, TASKS, JOURNEYS = 4, 8, 4
CLIENTS = 2  # connections in each of the sync and asyncio pools
SESSIONS = 300
PSYCOPG_DEFAULT_THRESHOLD = 5


@dataclass(frozen=True)
class Catalog:
    language_id: uuid.UUID
    module_id: uuid.UUID
    assignment_id: uuid.UUID
    quiz_id: uuid.UUID
    question_id: uuid.UUID
    right_option_id: uuid.UUID
    points: int


@pytest.fixture
def through_pgbouncer(pgbouncer: PgBouncer) -> Iterator[PgBouncer]:
    """Both pools of codezest_db behind PgBouncer, prepared statements off."""
    pgbouncer.reset()
    options: dict[str, Any] = {"min_size": CLIENTS, "max_size": CLIENTS, "prepare_threshold": None}
    codezest_db.configure(pgbouncer.url, **options)
    aio.configure(pgbouncer.url, **options)
    try:
        yield pgbouncer
    finally:
        codezest_db.close()
        asyncio.run(aio.close())


def soon() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def make_catalog() -> Catalog:
    learning, tag = queries.learning, uuid.uuid4().hex[:10]
    language = learning.create_language(slug=f"pgb-{tag}", name="PgBouncer")
    module = learning.create_module(
        language_id=language.id, slug="pools", title="Pools", position=1, difficulty="BEGINNER"
    )
    assignment = learning.create_assignment(
        module_id=module.id, title="Pool", description="Share", difficulty="BEGINNER", points=10
    )
    quiz = learning.create_quiz(module_id=module.id, title="Modes", passing_score=3)
    question = learning.create_question(quiz_id=quiz.id, prompt="Mode?", position=1, points=3)
    right = learning.create_option(question_id=question.id, text="transaction", is_correct=True)
    learning.create_option(question_id=question.id, text="session", is_correct=False)
    return Catalog(language.id, module.id, assignment.id, quiz.id, question.id, right.id, 3)


def sync_journey(catalog: Catalog) -> None:
    """A user's first day, every domain; each answer checked against the user's own rows."""
    auth, learning, payments = queries.auth, queries.learning, queries.payments
    notifications, activity, tag = queries.notifications, queries.activity, uuid.uuid4().hex
    user = auth.create_user(
        email=f"pgb-{tag}@example.com", password_hash="argon2$x", name="Ada", role="STUDENT"
    )
    assert auth.get_user_by_id(id=user.id) == user
    assert auth.get_user_by_email(email=user.email) == user
    profile = auth.upsert_user_profile(user_id=user.id, bio=tag, avatar_url=None)
    assert auth.get_user_profile(user_id=user.id) == profile
    session = auth.create_session(user_id=user.id, token_hash=tag, expires_at=soon())
    assert auth.get_active_session(token_hash=tag) == session
    assert auth.touch_session(token_hash=tag) == 1
    assert [s.id for s in auth.list_user_sessions(user_id=user.id)] == [session.id]

    enrollment = learning.enroll_user(user_id=user.id, language_id=catalog.language_id)
    assert learning.get_enrollment(user_id=user.id, language_id=catalog.language_id) == enrollment
    assert [m.id for m in learning.list_modules(language_id=catalog.language_id)] == [
        catalog.module_id
    ]
    submission = learning.create_submission(
        user_id=user.id, assignment_id=catalog.assignment_id, code=f"print({tag!r})"
    )
    graded = learning.grade_submission(id=submission.id, status="PASSED", score=10)
    assert graded is not None and graded.score == 10
    assert learning.get_submission(id=submission.id) == graded
    attempt = learning.start_quiz_attempt(user_id=user.id, quiz_id=catalog.quiz_id)
    learning.record_answer(
        attempt_id=attempt.id, question_id=catalog.question_id, option_id=catalog.right_option_id
    )
    finished = learning.finish_quiz_attempt(id=attempt.id)
    assert finished is not None and finished.score == catalog.points and finished.passed

    subscription = payments.create_subscription(user_id=user.id, plan="PRO", status="ACTIVE")
    assert payments.get_active_subscription(user_id=user.id) == subscription
    payment = {
        "user_id": user.id,
        "subscription_id": subscription.id,
        "amount_minor": 1999,
        "currency": "EUR",
        "status": "SUCCEEDED",
        "provider_payment_id": f"pi_{tag}",
    }
    transaction = payments.record_transaction(**payment)
    assert payments.record_transaction(**payment) == transaction  # a replayed webhook
    assert payments.get_transaction_by_provider_id(provider_payment_id=f"pi_{tag}") == transaction
    method = payments.add_payment_method(
        user_id=user.id, type="CARD", provider_method_id=f"pm_{tag}", is_default=True
    )
    assert payments.list_payment_methods(user_id=user.id) == [method]

    note = notifications.create_notification(user_id=user.id, type="hi", title="Hi", body=tag)
    assert notifications.list_unread_notifications(user_id=user.id, limit=5) == [note]
    assert notifications.count_unread_notifications(user_id=user.id) == 1
    assert notifications.mark_all_read(user_id=user.id) == 1

    entry = activity.record_activity(
        user_id=user.id, type="signed_in", entity_type="session", entity_id=session.id
    )
    assert activity.list_user_activity(user_id=user.id, limit=5) == [entry]
    events = [AnalyticsEventIn(name="page_view", user_id=user.id)] * 3
    assert activity.record_events(events=events) == 3


async def async_journey(catalog: Catalog) -> None:
    """`sync_journey` through `codezest_db.aio.queries`."""
    auth, learning, payments = aio.queries.auth, aio.queries.learning, aio.queries.payments
    notifications, activity, tag = aio.queries.notifications, aio.queries.activity, uuid.uuid4().hex
    user = await auth.create_user(
        email=f"pgb-{tag}@example.com", password_hash="argon2$x", name="Bo", role="INSTRUCTOR"
    )
    assert await auth.get_user_by_id(id=user.id) == user
    assert await auth.get_user_by_email(email=user.email) == user
    profile = await auth.upsert_user_profile(user_id=user.id, bio=tag, avatar_url=None)
    assert await auth.get_user_profile(user_id=user.id) == profile
    session = await auth.create_session(user_id=user.id, token_hash=tag, expires_at=soon())
    assert await auth.get_active_session(token_hash=tag) == session
    assert await auth.touch_session(token_hash=tag) == 1
    assert [s.id for s in await auth.list_user_sessions(user_id=user.id)] == [session.id]

    enrollment = await learning.enroll_user(user_id=user.id, language_id=catalog.language_id)
    got = await learning.get_enrollment(user_id=user.id, language_id=catalog.language_id)
    assert got == enrollment
    modules = await learning.list_modules(language_id=catalog.language_id)
    assert [m.id for m in modules] == [catalog.module_id]
    submission = await learning.create_submission(
        user_id=user.id, assignment_id=catalog.assignment_id, code=f"print({tag!r})"
    )
    graded = await learning.grade_submission(id=submission.id, status="FAILED", score=0)
    assert graded is not None and graded.status == "FAILED"
    assert await learning.get_submission(id=submission.id) == graded
    attempt = await learning.start_quiz_attempt(user_id=user.id, quiz_id=catalog.quiz_id)
    await learning.record_answer(
        attempt_id=attempt.id, question_id=catalog.question_id, option_id=catalog.right_option_id
    )
    finished = await learning.finish_quiz_attempt(id=attempt.id)
    assert finished is not None and finished.score == catalog.points and finished.passed

    subscription = await payments.create_subscription(user_id=user.id, plan="FREE", status="ACTIVE")
    assert await payments.get_active_subscription(user_id=user.id) == subscription
    payment = {
        "user_id": user.id,
        "subscription_id": subscription.id,
        "amount_minor": 500,
        "currency": "INR",
        "status": "PENDING",
        "provider_payment_id": f"pi_{tag}",
    }
    transaction = await payments.record_transaction(**payment)
    assert await payments.record_transaction(**payment) == transaction
    by_provider = await payments.get_transaction_by_provider_id(provider_payment_id=f"pi_{tag}")
    assert by_provider == transaction
    method = await payments.add_payment_method(
        user_id=user.id, type="UPI", provider_method_id=f"pm_{tag}", is_default=True
    )
    assert await payments.list_payment_methods(user_id=user.id) == [method]

    note = await notifications.create_notification(user_id=user.id, type="hi", title="Hi", body=tag)
    assert await notifications.list_unread_notifications(user_id=user.id, limit=5) == [note]
    assert await notifications.count_unread_notifications(user_id=user.id) == 1
    assert await notifications.mark_all_read(user_id=user.id) == 1

    entry = await activity.record_activity(
        user_id=user.id, type="signed_in", entity_type="session", entity_id=session.id
    )
    assert await activity.list_user_activity(user_id=user.id, limit=5) == [entry]
    events = [AnalyticsEventIn(name="page_view", user_id=user.id)] * 3
    assert await activity.record_events(events=events) == 3


def run_sync_and_async(sync_work: Any, async_work: Any) -> None:
    """Run THREADS threads of *sync_work* while TASKS tasks of *async_work* run."""

    async def tasks() -> None:
        await asyncio.gather(*(async_work(task) for task in range(TASKS)))

    with ThreadPoolExecutor(THREADS) as threads:
        futures = [threads.submit(sync_work, thread) for thread in range(THREADS)]
        asyncio.run(tasks())
        for future in futures:
            future.result()


def test_every_domain_sync_and_async_shares_pgbouncer_connections(
    through_pgbouncer: PgBouncer,
) -> None:
    catalog = make_catalog()

    def sync_work(_: int) -> None:
        for _ in range(JOURNEYS):
            sync_journey(catalog)

    batches: list[int] = []
    clients: list[int] = []

    async def async_work(_: int) -> None:
        for _ in range(THREADS * JOURNEYS // TASKS):
            await async_journey(catalog)
        # Read here, while both twins' pools are open: a loop's pools close
        # when its asyncio.run ends.
        batches.append(aio.pool_stats()["primary"]["read_batches"])
        clients.append(client_connections(through_pgbouncer))

    run_sync_and_async(sync_work, async_work)
    # The asyncio reads went through PgBouncer in batches too (one transaction each).
    assert max(batches) > 0

    # More client connections than server connections: clients took turns.
    servers = through_pgbouncer.console("show servers")
    assert max(clients) > POOL_SIZE
    assert 0 < len([s for s in servers if s["database"] == through_pgbouncer.database]) <= POOL_SIZE


def client_connections(bouncer: PgBouncer) -> int:
    return len([c for c in bouncer.console("show clients") if c["database"] == bouncer.database])


def test_touch_and_revoke_mix_changes_exactly_the_right_sessions(
    through_pgbouncer: PgBouncer, conn: psycopg.Connection[Any]
) -> None:
    """The write mix that used to revoke sessions that were only touched."""
    owner = queries.auth.create_user(
        email=f"mix-{uuid.uuid4().hex}@example.com", password_hash=None, name="Mix", role="STUDENT"
    )
    tokens = [f"mix-{uuid.uuid4().hex}" for _ in range(SESSIONS)]
    revoked = set(tokens[::3])  # every third session is revoked, the others only touched

    def create(thread: int) -> None:
        for token in tokens[thread::THREADS]:
            queries.auth.create_session(user_id=owner.id, token_hash=token, expires_at=soon())

    with ThreadPoolExecutor(THREADS) as threads:
        list(threads.map(create, range(THREADS)))

    # Threads take the first half of the sessions, tasks the second; each
    # worker interleaves touches and revokes, as a busy auth service does.
    half = SESSIONS // 2

    def sync_work(thread: int) -> None:
        for token in tokens[:half][thread::THREADS]:
            if token in revoked:
                assert queries.auth.revoke_session(token_hash=token) == 1
            else:
                assert queries.auth.touch_session(token_hash=token) == 1
                assert queries.auth.touch_session(token_hash=token) == 1

    async def async_work(task: int) -> None:
        for token in tokens[half:][task::TASKS]:
            if token in revoked:
                assert await aio.queries.auth.revoke_session(token_hash=token) == 1
            else:
                assert await aio.queries.auth.touch_session(token_hash=token) == 1
                assert await aio.queries.auth.touch_session(token_hash=token) == 1

    run_sync_and_async(sync_work, async_work)

    # Row by row, read directly from the server (not through PgBouncer).
    rows = conn.execute(
        "select token_hash, revoked_at, last_used_at from auth.sessions where user_id = %s",
        (owner.id,),
    ).fetchall()
    assert len(rows) == SESSIONS
    for token, revoked_at, last_used_at in rows:
        if token in revoked:
            assert revoked_at is not None and last_used_at is None, token
        else:
            assert revoked_at is None and last_used_at is not None, token


# The controls: the same kind of calls with psycopg's default prepare_threshold
# fail (or silently write the wrong thing) behind PgBouncer, made deterministic
# by choosing which server connection each client's transaction lands on.


def two_clients(url: str, prepare_threshold: int | None) -> list[psycopg.Connection[Any]]:
    return [psycopg.connect(url, prepare_threshold=prepare_threshold) for _ in range(2)]


@pytest.mark.parametrize("prepare_threshold", [PSYCOPG_DEFAULT_THRESHOLD, None])
def test_two_clients_on_one_server_connection(
    pgbouncer: PgBouncer, database_url: str, prepare_threshold: int | None
) -> None:
    """Each client prepares `_pg3_0` on its sixth call: on one server connection, they collide."""
    pgbouncer.reset()
    # Committed for real (the test kit's conn commits only to a savepoint): the
    # clients behind PgBouncer must see the user.
    with psycopg.connect(database_url) as setup:
        user = queries.auth.create_user(
            setup,
            email=f"c-{uuid.uuid4().hex}@example.com",
            password_hash=None,
            name="C",
            role="ADMIN",
        )
    clients = two_clients(pgbouncer.single_server_url, prepare_threshold)
    failures: list[str] = []
    try:
        for _ in range(PSYCOPG_DEFAULT_THRESHOLD + 1):
            for client in clients:
                try:
                    assert queries.auth.get_user_by_id(client, id=user.id) == user
                    client.commit()
                except errors.DatabaseError as exc:
                    failures.append(str(exc))
                    client.rollback()
    finally:
        for client in clients:
            client.close()
    if prepare_threshold is None:
        assert failures == []
    else:
        assert len(failures) == 1
        assert 'prepared statement "_pg3_0" already exists' in failures[0]


@pytest.mark.parametrize("prepare_threshold", [PSYCOPG_DEFAULT_THRESHOLD, None])
def test_a_touch_runs_another_clients_revoke(
    pgbouncer: PgBouncer, database_url: str, prepare_threshold: int | None
) -> None:
    """The corruption from the issue, step by step: a touch lands on a server
    connection where `_pg3_0` is another client's revoke, and revokes, with no error.

    PgBouncer reuses its most recently released server connection first (LIFO,
    its default); holding transactions open decides which one each client gets.
    """
    pgbouncer.reset()
    auth = queries.auth
    token = f"touched-{uuid.uuid4().hex}"
    with psycopg.connect(database_url) as setup:  # committed for real, as above
        user = auth.create_user(
            setup,
            email=f"t-{uuid.uuid4().hex}@example.com",
            password_hash=None,
            name="T",
            role="ADMIN",
        )
        auth.create_session(setup, user_id=user.id, token_hash=token, expires_at=soon())
    toucher, revoker = two_clients(pgbouncer.url, prepare_threshold)
    try:
        for _ in range(PSYCOPG_DEFAULT_THRESHOLD):  # counted, not yet prepared
            assert auth.touch_session(toucher, token_hash=token) == 1
            toucher.commit()
            assert auth.revoke_session(revoker, token_hash="unknown") == 0
            revoker.commit()
        # Sixth calls, both in open transactions, so on two server connections:
        # the toucher's `_pg3_0` is touch_session on A, the revoker's is
        # revoke_session on B. A is released last.
        assert auth.touch_session(toucher, token_hash=token) == 1
        assert auth.revoke_session(revoker, token_hash="unknown") == 0
        revoker.commit()
        toucher.commit()
        # The revoker takes A (the most recent), the toucher's next call gets B.
        revoker.execute("select 1")
        touched = auth.touch_session(toucher, token_hash=token)
        toucher.commit()
        revoker.commit()
    finally:
        toucher.close()
        revoker.close()
    assert touched == 1  # no error either way
    with psycopg.connect(database_url) as look:
        session = look.execute(
            "select revoked_at from auth.sessions where token_hash = %s", (token,)
        ).fetchone()
    assert session is not None
    if prepare_threshold is None:
        assert session[0] is None
    else:
        assert session[0] is not None  # only ever touched, yet revoked


def test_pgbouncer_fixture_runs_in_transaction_mode(pgbouncer: PgBouncer) -> None:
    pools = pgbouncer.console("show pools")
    ours = {p["database"]: p["pool_mode"] for p in pools if p["database"] != "pgbouncer"}
    assert ours[pgbouncer.database] == "transaction"
    with psycopg.connect(pgbouncer.url, prepare_threshold=None) as client:
        row = client.execute("select current_database(), to_regclass('auth.users')").fetchone()
    assert row == (pgbouncer.database, "auth.users")


def test_threads_share_one_server_connection(pgbouncer: PgBouncer) -> None:
    """With more clients than server connections, clients take turns (and never fail)."""
    pgbouncer.reset()
    barrier = threading.Barrier(4)
    seen: list[int] = []

    def client(_: int) -> None:
        with psycopg.connect(pgbouncer.single_server_url, prepare_threshold=None) as c:
            barrier.wait()
            for _ in range(10):
                row = c.execute("select pg_backend_pid()").fetchone()
                assert row is not None
                seen.append(row[0])
                c.commit()

    with ThreadPoolExecutor(4) as threads:
        list(threads.map(client, range(4)))
    assert len(seen) == 40 and len(set(seen)) == 1


def test_batched_async_reads_through_pgbouncer_each_get_their_own_row(
    through_pgbouncer: PgBouncer,
) -> None:
    """Waiting asyncio reads go out in pipelines, one transaction each, unprepared.

    PgBouncer (transaction mode) hands the server connection on at each Sync:
    with prepare_threshold=None a batch ends with a single Sync, so PgBouncer
    sees one transaction and keeps it on one server connection. (With a Sync
    after each read, the journeys above hung in 3 runs of 5 on PgBouncer 1.18.)
    """
    emails = [f"bounce-{uuid.uuid4().hex}@example.com" for _ in range(40)]

    async def main() -> None:
        await aio.get_pool()
        assert aio._state.primary is not None
        multiplexer = aio._state.primary.batcher
        assert multiplexer is not None
        for email in emails:
            await aio.queries.auth.create_user(
                email=email, password_hash=None, name=email, role="STUDENT"
            )
        before = multiplexer.batches

        async def read(i: int) -> None:
            for round_ in range(PSYCOPG_DEFAULT_THRESHOLD + 3):
                email = emails[(i + round_) % len(emails)]
                user = await aio.queries.auth.get_user_by_email(email=email)
                assert user is not None
                assert (user.email, user.name) == (email, email)
                missing = await aio.queries.auth.get_user_by_email(email=f"no-{i}@x.y")
                assert missing is None

        await asyncio.gather(*(read(i) for i in range(100)))
        assert multiplexer.batches - before > 10
        assert multiplexer.role.busy == 0

    asyncio.run(main())
