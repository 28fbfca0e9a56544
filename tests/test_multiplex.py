"""asyncio pooled reads batched into pipelines (`codezest_db._multiplex`), on a real server.

The ordering tests use a pool of one connection: a first read (the leader)
holds it for a moment, the reads started meanwhile wait, and the oldest of
them then sends all of them in one pipeline.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import psycopg
import pytest
from psycopg.rows import tuple_row

from codezest_db import aio, errors
from codezest_db._multiplex import MAX_BATCH, Multiplexer
from codezest_db._query.statement import Fetch, Statement
from tests.conftest import run_async, unique_email
from tests.test_pool import kill


async def mux() -> Multiplexer:
    await aio.get_pool()
    role = aio._state.primary
    assert role is not None and role.batcher is not None
    return role.batcher


async def value(sql: str, **params: Any) -> Any:
    """One pooled read of a single value, queued in the pool's batcher."""
    stmt = Statement("tests.value", sql, Fetch.VALUE, tuple_row, prepare=None, reads=True)
    return await (await mux()).read(stmt, params)


async def behind_a_leader(*reads: Any, hold: float = 0.3) -> list[Any]:
    """Run *reads* (coroutines) while a first read holds the only connection.

    Returns their outcomes (a value or the exception), in order.
    """
    leader = asyncio.ensure_future(value("select 0 from pg_sleep(%(s)s)", s=hold))
    await asyncio.sleep(hold / 4)  # the leader has the connection now
    assert (await mux()).role.busy == 1
    waiting = [asyncio.ensure_future(r) for r in reads]
    await asyncio.sleep(0)
    assert len((await mux()).pending) == len(reads)
    assert await leader == 0
    return list(await asyncio.gather(*waiting, return_exceptions=True))


def test_this_psycopg_can_batch() -> None:
    """Batching needs libpq's pipeline mode (libpq 14+), through psycopg's public Pipeline.

    Without it reads silently run one per connection; this test says so instead.
    """
    assert Multiplexer.supported()


@pytest.fixture(params=["prepares", "never-prepares"])
def batching(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Batches beside reads psycopg prepares (when they run alone), and with no
    prepared statements at all (prepare_threshold=None, the PgBouncer setting)."""
    return {} if request.param == "prepares" else {"prepare_threshold": None}


def one_connection(url: str, **options: Any) -> None:
    aio.configure(url, replica_url="", min_size=1, max_size=1, **options)


def test_concurrent_reads_share_pipelines_and_each_gets_its_own_row(
    configured: str, batching: dict[str, Any]
) -> None:
    emails = [unique_email("mux") for _ in range(50)]

    async def main() -> None:
        aio.configure(configured, replica_url="", min_size=0, max_size=4, **batching)
        for email in emails:
            await aio.queries.auth.create_user(
                email=email, password_hash="h", name=email, role="STUDENT"
            )
        before = (await mux()).batched

        async def read(i: int) -> None:
            for _ in range(5):
                user = await aio.queries.auth.get_user_by_email(email=emails[i % 50])
                assert user is not None
                assert user.email == emails[i % 50]
                assert user.name == emails[i % 50]
                assert await aio.queries.auth.get_user_by_email(email=f"none-{i}@x.y") is None

        await asyncio.gather(*(read(i) for i in range(200)))
        m = await mux()
        assert m.batched - before > 1000  # most of the 2,000 reads went in batches
        assert m.batches < m.batched / 2  # and batches held several reads each
        assert m.role.busy == 0
        assert not m.pending
        stats = aio.pool_stats()["primary"]
        assert stats["batched_reads"] == m.batched
        assert stats["read_batches"] == m.batches
        assert stats["reads_waiting"] == 0

    run_async(main())


@pytest.mark.parametrize("position", [0, 2, 4])
def test_a_failing_read_fails_alone_and_its_batch_still_answers(
    configured: str, batching: dict[str, Any], position: int
) -> None:
    async def main() -> None:
        one_connection(configured, **batching)
        reads = [value("select %(i)s::int * 10", i=i) for i in range(5)]
        reads[position].close()
        reads[position] = value("select 1 / %(zero)s::int", zero=0)
        before = (await mux()).batches
        outcomes = await behind_a_leader(*reads)
        for i, outcome in enumerate(outcomes):
            if i == position:
                assert isinstance(outcome, psycopg.errors.DivisionByZero)
            else:
                assert outcome == i * 10
        m = await mux()
        # One transaction: the reads after the failure were skipped, and sent again.
        assert m.batches - before == (1 if position == 4 else 2)
        assert m.role.busy == 0

    run_async(main())


def test_two_failing_reads_in_one_batch_each_get_their_own_error(
    configured: str, batching: dict[str, Any]
) -> None:
    async def main() -> None:
        one_connection(configured, **batching)
        outcomes = await behind_a_leader(
            value("select 1"),
            value("select 1 / %(zero)s::int", zero=0),
            value("select 3"),
            value("select %(text)s::int", text="three"),
            value("select 5"),
            value("select 1 / %(zero)s::int", zero=0),
        )
        assert outcomes[0::2] == [1, 3, 5]
        assert isinstance(outcomes[1], psycopg.errors.DivisionByZero)
        assert isinstance(outcomes[3], psycopg.errors.InvalidTextRepresentation)
        assert isinstance(outcomes[5], psycopg.errors.DivisionByZero)

    run_async(main())


def test_failing_batches_keep_prepared_statements_in_step(configured: str) -> None:
    """Reads psycopg prepares (the sixth run on) mixed with failures, many batches."""

    async def main() -> None:
        aio.configure(configured, replica_url="", min_size=2, max_size=2)
        for round_ in range(20):
            reads = [
                value("select 1 / %(i)s::int", i=0)
                if i % 7 == round_ % 7
                else value("select %(i)s::int", i=i)
                for i in range(30)
            ]
            outcomes = await asyncio.gather(*reads, return_exceptions=True)
            for i, outcome in enumerate(outcomes):
                if i % 7 == round_ % 7:
                    assert isinstance(outcome, psycopg.errors.DivisionByZero), (round_, i)
                else:
                    assert outcome == i, (round_, i, outcome)
        assert (await mux()).batches >= 20

    run_async(main())


def test_a_read_whose_parameters_do_not_adapt_fails_alone(
    configured: str, batching: dict[str, Any]
) -> None:
    async def main() -> None:
        one_connection(configured, **batching)
        outcomes = await behind_a_leader(
            value("select %(i)s::int", i=1),
            value("select %(i)s::int", i=object()),
            value("select %(i)s::int", i=3),
        )
        assert outcomes[0] == 1
        assert isinstance(outcomes[1], psycopg.ProgrammingError)
        assert outcomes[2] == 3

    run_async(main())


def test_through_aio_queries_a_batched_failure_is_the_typed_error(
    configured: str, batching: dict[str, Any]
) -> None:
    """A read failing in a batch reaches its caller as the library's error, like any call."""

    async def main() -> None:
        one_connection(configured, options="-c lock_timeout=100", **batching)
        email = unique_email("mux-typed")
        await aio.queries.auth.create_user(email=email, password_hash="h", name="T", role="STUDENT")
        locker = await psycopg.AsyncConnection.connect(configured)
        try:
            await locker.execute(
                "lock table learning.programming_languages in access exclusive mode"
            )
            outcomes = await behind_a_leader(
                aio.queries.auth.get_user_by_email(email=email),
                aio.queries.learning.list_languages(),  # waits for the lock: 100 ms, then fails
                aio.queries.auth.get_user_by_email(email=email),
                hold=0.1,
            )
        finally:
            await locker.close()
        assert getattr(outcomes[0], "email", outcomes) == email
        assert isinstance(outcomes[1], errors.DatabaseError)
        assert outcomes[1].sqlstate == "55P03"  # lock_not_available
        assert not isinstance(outcomes[1], psycopg.Error)
        assert outcomes[2].email == email

    run_async(main())


def test_the_statement_timeout_is_per_read_not_per_batch(
    configured: str, batching: dict[str, Any]
) -> None:
    """Five reads of 0.1 s in one pipeline, under a 0.3 s statement_timeout: none is canceled."""

    async def main() -> None:
        one_connection(configured, options="-c statement_timeout=300", **batching)
        before = (await mux()).batches
        outcomes = await behind_a_leader(
            *(value("select %(i)s::int from pg_sleep(0.1)", i=i) for i in range(5)), hold=0.1
        )
        assert outcomes == list(range(5))
        assert (await mux()).batches - before == 1

    run_async(main())


def test_a_batch_that_loses_its_connection_is_retried_once_on_a_fresh_one(
    configured: str, batching: dict[str, Any]
) -> None:
    async def main() -> None:
        one_connection(configured, **batching)
        async with aio.connection() as conn:
            pid = conn.info.backend_pid

        async def killer() -> None:
            await asyncio.sleep(0.25)  # the batch is in pg_sleep(0.5) by now
            await asyncio.to_thread(kill, configured, [pid])

        pids = "select pg_backend_pid() from pg_sleep(%(s)s)"
        killing = asyncio.ensure_future(killer())
        outcomes = await behind_a_leader(
            value(pids, s=0.5), value(pids, s=0), value(pids, s=0), hold=0.1
        )
        await killing
        assert all(isinstance(o, int) and o != pid for o in outcomes), outcomes
        assert len(set(outcomes)) == 1  # all three re-ran together on the new connection

    run_async(main())


def test_a_read_is_retried_once_not_twice(configured: str) -> None:
    """A read that kills its own connection runs twice, then fails; its batch is retried once."""

    async def main() -> None:
        one_connection(configured)
        async with aio.connection() as conn:
            await conn.execute("create sequence mux_attempts")
        suicide = (
            "select pg_terminate_backend(pg_backend_pid()) from (select nextval('mux_attempts')) n"
        )
        outcomes = await behind_a_leader(value(suicide), value("select 2"), hold=0.1)
        # The bystander lost its connection with it once, and was sent again (on the
        # connection its leader gave back, which hands the lead to the oldest waiting read).
        assert isinstance(outcomes[0], psycopg.OperationalError), outcomes
        assert outcomes[1] == 2, outcomes
        assert await value("select last_value from mux_attempts") == 2
        assert (await mux()).role.busy == 0
        assert await value("select 3") == 3

    run_async(main())


def test_a_cancelled_leader_hands_its_batch_back(configured: str, batching: dict[str, Any]) -> None:
    async def main() -> None:
        one_connection(configured, **batching)
        m = await mux()
        leader = asyncio.ensure_future(value("select 0 from pg_sleep(0.1)"))
        await asyncio.sleep(0.03)
        slow = asyncio.ensure_future(value("select 1 from pg_sleep(0.5)"))
        others = [asyncio.ensure_future(value("select %(i)s::int", i=i)) for i in (2, 3)]
        await asyncio.sleep(0)
        assert len(m.pending) == 3
        assert await leader == 0
        await asyncio.sleep(0.2)  # slow leads [slow, 2, 3], in its pg_sleep
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        assert await asyncio.wait_for(asyncio.gather(*others), 5) == [2, 3]
        assert m.role.busy == 0
        assert not m.pending
        assert await value("select 4") == 4  # the connection came back to the pool

    run_async(main())


def test_a_cancelled_waiting_read_leaves_the_others_alone(configured: str) -> None:
    async def main() -> None:
        one_connection(configured)
        m = await mux()
        leader = asyncio.ensure_future(value("select 0 from pg_sleep(0.2)"))
        await asyncio.sleep(0.05)
        reads = [asyncio.ensure_future(value("select %(i)s::int", i=i)) for i in range(4)]
        await asyncio.sleep(0)
        reads[0].cancel()  # the one that would lead next
        reads[2].cancel()
        assert await leader == 0
        assert await asyncio.wait_for(asyncio.gather(reads[1], reads[3]), 5) == [1, 3]
        assert reads[0].cancelled() and reads[2].cancelled()
        assert m.role.busy == 0
        assert not m.pending

    run_async(main())


def test_waiting_reads_time_out_with_connection_failed(configured: str) -> None:
    async def main() -> None:
        one_connection(configured, timeout=0.5)
        m = await mux()
        async with aio.connection():  # the only connection, held
            start = time.monotonic()
            outcomes = await asyncio.gather(
                *(value("select %(i)s::int", i=i) for i in range(5)), return_exceptions=True
            )
            took = time.monotonic() - start
        assert all(isinstance(o, errors.ConnectionFailed) for o in outcomes), outcomes
        assert took < 3.0
        assert m.role.busy == 0
        assert await value("select 7") == 7

    run_async(main())


def test_a_read_waiting_behind_a_slow_batch_times_out_on_time(configured: str) -> None:
    """The queue honours the pool's timeout, as psycopg_pool's own wait does."""

    async def main() -> None:
        one_connection(configured, timeout=0.5)
        m = await mux()
        slow = asyncio.ensure_future(value("select 1 from pg_sleep(2)"))
        await asyncio.sleep(0.1)
        start = time.monotonic()
        with pytest.raises(errors.ConnectionFailed, match=r"within 0\.5s"):
            await value("select 2")
        took = time.monotonic() - start
        assert 0.3 < took < 1.5, took
        assert await slow == 1
        assert m.role.busy == 0
        assert not m.pending or all(r.abandoned for r in m.pending)

    run_async(main())


def test_max_waiting_refuses_reads_beyond_it(configured: str) -> None:
    async def main() -> None:
        one_connection(configured, timeout=1.0, max_waiting=2)
        m = await mux()
        async with aio.connection():
            reads = [asyncio.ensure_future(value("select %(i)s::int", i=i)) for i in range(4)]
            outcomes = await asyncio.gather(*reads, return_exceptions=True)
        # One leader and two waiting; the fourth is refused at once.
        assert isinstance(outcomes[3], errors.ConnectionFailed)
        assert "already waiting" in str(outcomes[3])
        assert m.role.busy == 0
        assert await value("select 8") == 8

    run_async(main())


def test_a_batch_holds_at_most_max_batch_reads(configured: str) -> None:
    async def main() -> None:
        one_connection(configured)
        m = await mux()
        before_batches, before_reads = m.batches, m.batched
        n = MAX_BATCH * 2 + 5
        outcomes = await behind_a_leader(*(value("select %(i)s::int", i=i) for i in range(n)))
        assert outcomes == list(range(n))
        assert m.batches - before_batches == 3
        assert m.batched - before_reads == n

    run_async(main())


def test_multiplex_false_gives_each_read_its_own_connection(configured: str) -> None:
    async def main() -> None:
        aio.configure(configured, replica_url="", max_size=2, multiplex=False)
        await aio.get_pool()
        assert aio._state.primary is not None
        assert aio._state.primary.batcher is None
        results = await asyncio.gather(
            *(aio.queries.auth.get_user_by_email(email=f"n{i}@x.y") for i in range(50))
        )
        assert results == [None] * 50

    run_async(main())


def test_multiplex_must_be_a_bool(configured: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.ConfigurationError, match="multiplex must be True, False or None"):
        aio.configure(configured, multiplex="yes")
    monkeypatch.setenv("CODEZEST_DB_MULTIPLEX", "off")
    aio.configure(configured, replica_url="")
    assert aio._state.settings is not None
    assert aio._state.settings.multiplex is False
    assert aio._state.settings.batches_reads is False
    monkeypatch.delenv("CODEZEST_DB_MULTIPLEX")
    aio.configure(configured, replica_url="", prepare_threshold=None)  # PgBouncer's setting
    assert aio._state.settings is not None
    assert aio._state.settings.batches_reads is True
    assert aio._state.settings.prepares is False
    aio.configure(configured, replica_url="")
    assert aio._state.settings.batches_reads is True
    monkeypatch.setenv("CODEZEST_DB_MULTIPLEX", "maybe")
    with pytest.raises(errors.ConfigurationError, match="CODEZEST_DB_MULTIPLEX"):
        aio.configure(configured)


def test_mixed_failures_cancellations_and_killed_backends_all_settle(
    configured: str, batching: dict[str, Any]
) -> None:
    """Every read ends with its own outcome, whatever its batch met; nothing is left waiting."""
    rng = random.Random(9)

    async def main() -> None:
        aio.configure(configured, replica_url="", min_size=3, max_size=3, **batching)
        m = await mux()
        for round_ in range(4):
            kinds = [rng.choice("oooodbc") for _ in range(80)]

            async def read(i: int, kind: str) -> Any:
                if kind == "d":
                    return await value("select %(i)s::int / 0", i=i)
                if kind == "b":
                    return await value("select %(i)s::int", i=object())
                return await value("select %(i)s::int from pg_sleep(0.01)", i=i)

            tasks = [asyncio.ensure_future(read(i, k)) for i, k in enumerate(kinds)]
            await asyncio.sleep(0.05)
            for i, kind in enumerate(kinds):
                if kind == "c":
                    tasks[i].cancel()
            retries = m.retries
            killed = bool(round_ % 2)
            if killed:  # every backend of the pool killed, reads in flight
                await asyncio.to_thread(kill_pool_backends, configured)
            outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            lost_twice = 0
            for i, (kind, outcome) in enumerate(zip(kinds, outcomes, strict=True)):
                if kind == "o" and killed and isinstance(outcome, psycopg.OperationalError):
                    # The kill is one statement signalling one backend after
                    # another: a read retried on a connection that answered its
                    # check can still be on a backend signalled next. Retried
                    # once, it fails then; no read fails without a retry first.
                    lost_twice += 1
                elif kind == "o":
                    assert outcome == i, (round_, i, outcome)
                elif kind == "d":
                    assert isinstance(outcome, psycopg.errors.DivisionByZero), outcome
                elif kind == "b":
                    assert isinstance(outcome, psycopg.ProgrammingError), outcome
                else:  # cancelled, unless it had its result already
                    assert isinstance(outcome, asyncio.CancelledError) or outcome == i
            assert lost_twice <= m.retries - retries, (round_, lost_twice, m.retries - retries)
            assert m.role.busy == 0
            assert not m.pending
        assert m.retries > 0  # the kills did cut batches short
        assert await value("select 1") == 1

    run_async(main())


def kill_pool_backends(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
        )
