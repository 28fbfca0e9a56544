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
from psycopg.rows import dict_row

import codezest_db
from codezest_db import aio, errors, pool, queries
from codezest_db.models import AnalyticsEventIn
from codezest_db.testing import IsolatedConnection
from codezest_db.testing.servers import POOL_SIZE, PgBouncer
from tests.replica_lag import wait_measured
from tests.test_hot_path import CALLS, round_trips, wire

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


# The controls: psycopg's default prepare_threshold behind PgBouncer, made
# deterministic by choosing which server connection each client's transaction
# lands on. Raw psycopg (the query's SQL through conn.execute) collides or
# silently runs the wrong statement; the same clients passed to the query
# functions as ``conn`` are noticed before their first prepare, and never do.

GET_USER = "select id, email from auth.users where id = %(id)s"
TOUCH = """update auth.sessions set last_used_at = now()
 where token_hash = %(token_hash)s and revoked_at is null and expires_at > now()"""
REVOKE = """update auth.sessions set revoked_at = now()
 where token_hash = %(token_hash)s and revoked_at is null"""
# (how the clients call, their prepare_threshold): what each case shows
CONTROLS = [
    pytest.param("psycopg", PSYCOPG_DEFAULT_THRESHOLD, id="raw-psycopg-default"),
    pytest.param("psycopg", None, id="raw-psycopg-none"),
    pytest.param("codezest", PSYCOPG_DEFAULT_THRESHOLD, id="query-functions-default"),
]


def two_clients(url: str, prepare_threshold: int | None) -> list[psycopg.Connection[Any]]:
    return [psycopg.connect(url, prepare_threshold=prepare_threshold) for _ in range(2)]


def get_user(via: str, client: psycopg.Connection[Any], user_id: uuid.UUID) -> Any:
    if via == "psycopg":
        row = client.execute(GET_USER, {"id": user_id}).fetchone()
        return None if row is None else row[0]
    user = queries.auth.get_user_by_id(client, id=user_id)
    return None if user is None else user.id


def touch(via: str, client: psycopg.Connection[Any], token: str) -> int:
    if via == "psycopg":
        return client.execute(TOUCH, {"token_hash": token}).rowcount
    return queries.auth.touch_session(client, token_hash=token)


def revoke(via: str, client: psycopg.Connection[Any], token: str) -> int:
    if via == "psycopg":
        return client.execute(REVOKE, {"token_hash": token}).rowcount
    return queries.auth.revoke_session(client, token_hash=token)


def committed_user(database_url: str) -> uuid.UUID:
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
    return user.id


@pytest.mark.parametrize(("via", "prepare_threshold"), CONTROLS)
def test_two_clients_on_one_server_connection(
    pgbouncer: PgBouncer, database_url: str, via: str, prepare_threshold: int | None
) -> None:
    """Each client prepares `_pg3_0` on its sixth call: on one server connection, they collide."""
    pgbouncer.reset()
    user_id = committed_user(database_url)
    clients = two_clients(pgbouncer.single_server_url, prepare_threshold)
    failures: list[str] = []
    try:
        for _ in range(PSYCOPG_DEFAULT_THRESHOLD + 1):
            for client in clients:
                try:
                    assert get_user(via, client, user_id) == user_id
                    client.commit()
                except (psycopg.Error, errors.DatabaseError) as exc:
                    failures.append(str(exc))
                    client.rollback()
        thresholds = [client.prepare_threshold for client in clients]
    finally:
        for client in clients:
            client.close()
    if via == "psycopg" and prepare_threshold is not None:
        assert len(failures) == 1
        assert 'prepared statement "_pg3_0" already exists' in failures[0]
    else:
        assert failures == []
        assert thresholds == [None, None]  # the query functions turned it off


@pytest.mark.parametrize(("via", "prepare_threshold"), CONTROLS)
def test_a_touch_runs_another_clients_revoke(
    pgbouncer: PgBouncer, database_url: str, via: str, prepare_threshold: int | None
) -> None:
    """The corruption from the issue, step by step: a touch lands on a server
    connection where `_pg3_0` is another client's revoke, and revokes, with no error.

    PgBouncer reuses its most recently released server connection first (LIFO,
    its default); holding transactions open decides which one each client gets.
    """
    pgbouncer.reset()
    token = f"touched-{uuid.uuid4().hex}"
    with psycopg.connect(database_url) as setup:  # committed for real, as above
        user = queries.auth.create_user(
            setup,
            email=f"t-{uuid.uuid4().hex}@example.com",
            password_hash=None,
            name="T",
            role="ADMIN",
        )
        queries.auth.create_session(setup, user_id=user.id, token_hash=token, expires_at=soon())
    toucher, revoker = two_clients(pgbouncer.url, prepare_threshold)
    try:
        for _ in range(PSYCOPG_DEFAULT_THRESHOLD):  # counted, not yet prepared
            assert touch(via, toucher, token) == 1
            toucher.commit()
            assert revoke(via, revoker, "unknown") == 0
            revoker.commit()
        # Sixth calls, both in open transactions, so on two server connections:
        # the toucher's `_pg3_0` is the touch on A, the revoker's is the
        # revoke on B. A is released last.
        assert touch(via, toucher, token) == 1
        assert revoke(via, revoker, "unknown") == 0
        revoker.commit()
        toucher.commit()
        # The revoker takes A (the most recent), the toucher's next call gets B.
        revoker.execute("select 1")
        touched = touch(via, toucher, token)
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
    if via == "psycopg" and prepare_threshold is not None:
        assert session[0] is not None  # only ever touched, yet revoked
    else:
        assert session[0] is None


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


# Without prepare_threshold=None: the pools notice PgBouncer and never prepare.

MIX_SESSIONS = 400  # sessions touched (twice) or revoked, by threads and tasks
MIX_READERS = 40  # users whose reads (batched, in asyncio) must each get their own row
MIX_ROUNDS = 2  # passes of every worker over its share
READ_TASKS, READ_ROUNDS = 100, PSYCOPG_DEFAULT_THRESHOLD + 3
MIX_BOUND = 90.0  # seconds for the whole mix: a call that hangs fails the test, not the suite
_MIX_REVOKED = len(range(0, MIX_SESSIONS, 3))
# A revoke is one call, a touch two, and each session's turn reads a user too;
# the batched readers make two reads a round.
MIX_CALLS = MIX_ROUNDS * (2 * _MIX_REVOKED + 3 * (MIX_SESSIONS - _MIX_REVOKED))
MIX_CALLS += READ_TASKS * READ_ROUNDS * 2


@dataclass
class Mix:
    """What a mix of calls did: calls made, wrong answers, errors by class, workers stuck..."""

    calls: int = 0
    wrong: int = 0
    errors: dict[str, int] | None = None
    stuck: int = 0
    rows_wrong: int = 0  # sessions not as the calls left them, read directly after
    batches: int = 0  # pipelines of asyncio reads sent

    def failed(self, exc: BaseException) -> None:
        self.errors = self.errors or {}
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


@pytest.fixture
def unset(pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgBouncer]:
    """Both pools behind PgBouncer with psycopg's default prepare_threshold (nothing said)."""
    pgbouncer.reset()
    monkeypatch.delenv("CODEZEST_DB_PREPARE_THRESHOLD", raising=False)
    codezest_db.configure(pgbouncer.url, replica_url="", min_size=CLIENTS, max_size=CLIENTS)
    aio.configure(pgbouncer.url, replica_url="", min_size=CLIENTS, max_size=CLIENTS)
    try:
        yield pgbouncer
    finally:
        codezest_db.close()
        asyncio.run(aio.close())


def committed_sessions(database_url: str, count: int) -> tuple[uuid.UUID, list[str]]:
    """A user with *count* sessions, committed for real (the clients behind PgBouncer see them)."""
    tokens = [f"mix-{uuid.uuid4().hex}" for _ in range(count)]
    with psycopg.connect(database_url) as setup:
        owner = queries.auth.create_user(
            setup,
            email=f"mix-{uuid.uuid4().hex}@example.com",
            password_hash=None,
            name="M",
            role="STUDENT",
        )
        with setup.cursor() as cur:
            cur.executemany(
                "insert into auth.sessions (user_id, token_hash, expires_at) values (%s, %s, %s)",
                [(owner.id, token, soon()) for token in tokens],
            )
    return owner.id, tokens


def committed_readers(database_url: str, count: int) -> list[tuple[uuid.UUID, str]]:
    emails = [f"reader-{uuid.uuid4().hex}@example.com" for _ in range(count)]
    with psycopg.connect(database_url) as setup:
        users = [
            queries.auth.create_user(
                setup, email=email, password_hash=None, name=email, role="STUDENT"
            )
            for email in emails
        ]
    return [(user.id, user.email) for user in users]


def run_mix(database_url: str) -> Mix:
    """Thousands of pooled calls, sync threads and asyncio tasks at once, every answer checked.

    Threads and tasks each take a share of the sessions and interleave
    touches (twice), revokes and reads of users by id; 100 more asyncio tasks
    read users by email while every connection is busy, so their reads go
    out in batches. Nothing is asserted inside: `Mix` counts what happened.
    """
    owner, tokens = committed_sessions(database_url, MIX_SESSIONS)
    readers = committed_readers(database_url, MIX_READERS)
    revoked = set(tokens[::3])  # every third session is revoked, the others only touched
    mix, lock = Mix(), threading.Lock()
    half = MIX_SESSIONS // 2

    def note(calls: int, wrong: int) -> None:
        with lock:
            mix.calls += calls
            mix.wrong += wrong

    def sync_work(thread: int) -> None:
        auth = queries.auth
        for round_ in range(MIX_ROUNDS):
            for i, token in enumerate(tokens[:half][thread::THREADS]):
                try:
                    if token in revoked:
                        expect = 1 if round_ == 0 else 0
                        note(1, auth.revoke_session(token_hash=token) != expect)
                    else:
                        note(1, auth.touch_session(token_hash=token) != 1)
                        note(1, auth.touch_session(token_hash=token) != 1)
                    user_id, email = readers[(thread + i) % len(readers)]
                    user = auth.get_user_by_id(id=user_id)
                    note(1, user is None or user.email != email)
                except errors.DatabaseError as exc:
                    with lock:
                        mix.failed(exc)

    async def async_work(task: int) -> None:
        auth = aio.queries.auth
        for round_ in range(MIX_ROUNDS):
            for i, token in enumerate(tokens[half:][task::TASKS]):
                try:
                    if token in revoked:
                        expect = 1 if round_ == 0 else 0
                        note(1, await auth.revoke_session(token_hash=token) != expect)
                    else:
                        note(1, await auth.touch_session(token_hash=token) != 1)
                        note(1, await auth.touch_session(token_hash=token) != 1)
                    user_id, email = readers[(task + i) % len(readers)]
                    user = await auth.get_user_by_id(id=user_id)
                    note(1, user is None or user.email != email)
                except errors.DatabaseError as exc:
                    mix.failed(exc)

    async def batched_reads(task: int) -> None:
        for round_ in range(READ_ROUNDS):
            user_id, email = readers[(task + round_) % len(readers)]
            try:
                user = await aio.queries.auth.get_user_by_email(email=email)
                note(1, user is None or user.id != user_id)
                missing = await aio.queries.auth.get_user_by_email(email=f"no-{task}@x.y")
                note(1, missing is not None)
            except errors.DatabaseError as exc:
                mix.failed(exc)

    async def tasks() -> None:
        work = [
            *(async_work(t) for t in range(TASKS)),
            *(batched_reads(t) for t in range(READ_TASKS)),
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*work), MIX_BOUND)
        except TimeoutError:
            mix.stuck += 1
        finally:
            mix.batches = aio.pool_stats().get("primary", {}).get("read_batches", 0)
            await aio.close()

    threads = [threading.Thread(target=sync_work, args=(t,), daemon=True) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    asyncio.run(tasks())
    for thread in threads:
        thread.join(MIX_BOUND)
        mix.stuck += thread.is_alive()
    mix.rows_wrong = sessions_not_as_expected(database_url, owner, revoked)
    return mix


def sessions_not_as_expected(database_url: str, owner: uuid.UUID, revoked: set[str]) -> int:
    """How many of *owner*'s sessions are not as the mix left them (read directly)."""
    with psycopg.connect(database_url) as look:
        rows = look.execute(
            "select token_hash, revoked_at, last_used_at from auth.sessions where user_id = %s",
            (owner,),
        ).fetchall()
    wrong = 0
    for token, revoked_at, last_used_at in rows:
        if token in revoked:
            wrong += revoked_at is None or last_used_at is not None
        else:
            wrong += revoked_at is not None or last_used_at is None
    return wrong + abs(len(rows) - MIX_SESSIONS)


def test_thousands_of_mixed_calls_without_the_setting_are_all_right(
    unset: PgBouncer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="codezest_db.pool")
    mix = run_mix(database_url)
    assert (mix.wrong, mix.errors, mix.stuck, mix.rows_wrong) == (0, None, 0, 0)
    assert mix.calls == MIX_CALLS
    assert mix.batches > 0  # asyncio reads did go out in pipelines
    # Said once per pool (the sync pool, and the asyncio pool of this loop).
    said = [r.getMessage() for r in caplog.records if "connection pooler" in r.getMessage()]
    assert len(said) == 2, said
    assert all("prepare_threshold=None" in message for message in said)


def test_the_same_mix_goes_wrong_when_nothing_notices_pgbouncer(
    unset: PgBouncer, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the test above: with the pools' check made blind, calls go wrong."""

    async def blind(conn: Any) -> bool:
        return False

    monkeypatch.setattr(aio, "behind_pooler", blind)
    monkeypatch.setattr(pool, "behind_pooler", lambda conn: False)
    mix = run_mix(database_url)
    failures = mix.wrong + sum((mix.errors or {}).values()) + mix.stuck + mix.rows_wrong
    assert failures > 0, mix


def prepared_here(conn: psycopg.Connection[Any]) -> int:
    """Statements prepared on *conn*'s server session (PostgreSQL's own record of them)."""
    row = conn.execute("select count(*) from pg_prepared_statements", prepare=False).fetchone()
    assert row is not None
    return int(row[0])


def test_a_direct_pool_still_prepares_and_a_replica_behind_pgbouncer_does_not(
    pgbouncer: PgBouncer,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check costs a direct server nothing but one round trip per new connection."""
    caplog.set_level("WARNING", logger="codezest_db.pool")
    monkeypatch.delenv("CODEZEST_DB_PREPARE_THRESHOLD", raising=False)
    pgbouncer.reset()
    user_id = committed_user(database_url)
    codezest_db.configure(database_url, replica_url=pgbouncer.url, min_size=1, max_size=1)
    try:
        wait_measured()  # until then reads go to the primary (a slow machine's first few)
        for _ in range(PSYCOPG_DEFAULT_THRESHOLD + 2):
            user = queries.auth.get_user_by_id(id=user_id)  # a read: the replica answers
            assert user is not None and user.id == user_id
            user = queries.auth.update_user_name(id=user_id, name="P")  # a write: the primary
            assert user is not None and user.name == "P"
        with codezest_db.connection() as direct:  # the primary pool's only connection
            assert direct.prepare_threshold == PSYCOPG_DEFAULT_THRESHOLD
            assert prepared_here(direct) == 1  # update_user_name, from its sixth call
        with pool.get_pool(replica=True).connection() as bounced:
            assert bounced.prepare_threshold is None
            assert prepared_here(bounced) == 0  # on the server connection it got this time
        assert codezest_db.pool_stats()["replica"]["requests_num"] >= PSYCOPG_DEFAULT_THRESHOLD
    finally:
        codezest_db.close()
    said = [r.getMessage() for r in caplog.records if "connection pooler" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("the pool codezest-replica "), said


def test_a_bind_of_another_clients_statement_is_a_refused_statement_not_a_lost_connection(
    pgbouncer: PgBouncer,
) -> None:
    """08P01 "bind message supplies 1 parameters": the session survives, so not ConnectionFailed.

    Raw psycopg clients with the default threshold, steered as in
    `test_a_touch_runs_another_clients_revoke`: the one-parameter client's
    `_pg3_0` lands on the server connection where `_pg3_0` takes two.
    """
    pgbouncer.reset()
    one, two = "select %(a)s::int", "select %(a)s::int, %(b)s::int"
    single, double = two_clients(pgbouncer.url, PSYCOPG_DEFAULT_THRESHOLD)
    try:
        for _ in range(PSYCOPG_DEFAULT_THRESHOLD + 1):  # the sixth prepares, each on its own
            assert single.execute(one, {"a": 1}).fetchone() == (1,)
            assert double.execute(two, {"a": 1, "b": 2}).fetchone() == (1, 2)
        double.commit()
        single.commit()  # released last: the next transaction to start gets its server
        double.execute("select 1")
        with pytest.raises(psycopg.Error) as raised:
            single.execute(one, {"a": 1})
        assert raised.value.sqlstate == "08P01"
        assert "bind message supplies 1 parameters" in str(raised.value)
        error = errors.from_psycopg(raised.value)
        assert type(error) is errors.DatabaseError
        assert error.sqlstate == "08P01"
        single.rollback()
        double.commit()
        assert not single.broken and single.execute("select 7").fetchone() == (7,)
    finally:
        single.close()
        double.close()


def test_pgbouncer_ending_the_session_is_a_lost_connection(pgbouncer: PgBouncer) -> None:
    """PgBouncer's own 08P01 errors are FATAL ("database removed"): ConnectionFailed."""
    pgbouncer.reset()
    with psycopg.connect(pgbouncer.url, autocommit=True, prepare_threshold=None) as client:
        assert queries.auth.get_user_by_email(client, email="gone@example.com") is None
        pgbouncer.console(f"kill {pgbouncer.database}")
        try:
            with pytest.raises(errors.ConnectionFailed) as caught:
                queries.auth.get_user_by_email(client, email="gone@example.com")
        finally:
            pgbouncer.console(f"resume {pgbouncer.database}")
    assert caught.value.sqlstate == "08P01"
    assert caught.value.statement_may_have_run


# A connection passed as ``conn``: checked once, before the call that could
# be its first to prepare; psycopg's threshold decides which call that is.


@pytest.fixture
def fresh_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The once-a-process warning of `conn` connections, not yet said (in both twins)."""
    from codezest_db._poolers import CONN_FIX, Notice
    from codezest_db._query import call, call_async

    monkeypatch.setattr(call, "_notice", Notice("a connection passed as conn", CONN_FIX))
    monkeypatch.setattr(call_async, "_notice", Notice("a connection passed as conn", CONN_FIX))


def said_pooler(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "connection pooler" in r.getMessage()]


def test_a_direct_connection_passed_as_conn_pays_one_round_trip_once(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as short:
        with wire(short) as messages:
            for _ in range(PSYCOPG_DEFAULT_THRESHOLD):
                assert queries.auth.get_user_by_email(short, email="no@x.y") is None
        assert round_trips(messages) == PSYCOPG_DEFAULT_THRESHOLD  # none could prepare: no check
    with psycopg.connect(database_url, autocommit=True) as long:
        with wire(long) as messages:
            for _ in range(CALLS):
                assert queries.auth.get_user_by_email(long, email="no@x.y") is None
        # The check before the sixth call, psycopg's one-off Parse on it, and the calls.
        assert round_trips(messages) == CALLS + 2
        assert long.prepare_threshold == PSYCOPG_DEFAULT_THRESHOLD
        assert prepared_here(long) == 1
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as said:
        with wire(said) as messages:
            for _ in range(CALLS):
                assert queries.auth.get_user_by_email(said, email="no@x.y") is None
        assert round_trips(messages) == CALLS  # the setting given: never checked


def test_connections_passed_as_conn_behind_pgbouncer_stop_preparing(
    pgbouncer: PgBouncer,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    fresh_notice: None,
) -> None:
    """Sync, asyncio, any row factory, the test kit's isolated connection: none prepares."""
    caplog.set_level("WARNING", logger="codezest_db.pool")
    pgbouncer.reset()
    user_id = committed_user(database_url)
    calls = PSYCOPG_DEFAULT_THRESHOLD * 3

    def use(client: psycopg.Connection[Any]) -> None:
        for _ in range(calls):
            user = queries.auth.get_user_by_id(client, id=user_id)
            assert user is not None and user.id == user_id
        assert client.prepare_threshold is None

    with psycopg.connect(pgbouncer.url, row_factory=dict_row) as client:
        use(client)
    with psycopg.connect(pgbouncer.url, autocommit=True) as client:
        use(client)
    isolated = IsolatedConnection.open(pgbouncer.url)
    try:
        use(isolated)
    finally:
        isolated.discard()

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(pgbouncer.url) as client:
            for _ in range(calls):
                user = await aio.queries.auth.get_user_by_id(client, id=user_id)
                assert user is not None and user.id == user_id
            assert client.prepare_threshold is None

    asyncio.run(main())
    said = said_pooler(caplog)
    assert len(said) == 2, said  # once in each twin
    assert all(m.startswith("a connection passed as conn ") for m in said)
