"""Every payments query, against a real migrated database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg.types.json import Jsonb

from codezest_db import aio, errors, queries
from codezest_db.enums import (
    InvoiceStatus,
    PaymentMethodType,
    SubscriptionPlan,
    SubscriptionStatus,
    TransactionStatus,
)
from codezest_db.models import Invoice, PaymentMethod, Subscription, Transaction
from tests.conftest import run_async

Conn = psycopg.Connection[Any]
T = TypeVar("T")
pay = queries.payments


def at(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def race(count: int, work: Callable[[Conn, int], T], url: str) -> list[T]:
    """Run work(conn, i) in count threads at once, each on its own committed connection."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def contend(i: int) -> None:
        try:
            with psycopg.connect(url) as own:
                barrier.wait()
                got = work(own, i)
                own.commit()
            with lock:
                results.append(got)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(results) == count
    return results


def charge(conn: Conn, user_id: uuid.UUID, **fields: Any) -> Transaction:
    values: dict[str, Any] = {
        "user_id": user_id,
        "subscription_id": None,
        "amount_minor": 49_900,
        "currency": "INR",
        "status": TransactionStatus.SUCCEEDED,
        "provider_payment_id": f"pay_{uuid.uuid4().hex}",
        **fields,
    }
    transaction: Transaction = pay.record_transaction(conn, **values)
    return transaction


def card(conn: Conn, user_id: uuid.UUID, is_default: bool) -> PaymentMethod:
    method: PaymentMethod = pay.add_payment_method(
        conn,
        user_id=user_id,
        type=PaymentMethodType.CARD,
        provider_method_id=f"pm_{uuid.uuid4().hex}",
        is_default=is_default,
    )
    return method


# Subscriptions


def test_create_and_get_active_subscription(conn: Conn) -> None:
    user_id = uuid.uuid4()
    assert pay.get_active_subscription(conn, user_id=user_id) is None
    old = pay.create_subscription(conn, user_id=user_id, plan="FREE", status="EXPIRED")
    sub = pay.create_subscription(
        conn, user_id=user_id, plan=SubscriptionPlan.PRO, status=SubscriptionStatus.TRIALING
    )
    assert isinstance(sub, Subscription)
    assert (sub.plan, sub.status) == (SubscriptionPlan.PRO, SubscriptionStatus.TRIALING)
    assert sub.cancel_at_period_end is False and sub.provider is None
    assert pay.get_active_subscription(conn, user_id=user_id) == sub
    assert pay.get_subscription(conn, id=old.id) == old
    assert pay.get_subscription(conn, id=uuid.uuid4()) is None
    assert {s.id for s in pay.list_user_subscriptions(conn, user_id=user_id)} == {sub.id, old.id}


def test_provider_subscription_is_idempotent(conn: Conn) -> None:
    user_id = uuid.uuid4()
    params: dict[str, Any] = {
        "user_id": user_id,
        "plan": "PRO",
        "status": "ACTIVE",
        "provider": "stripe",
        "provider_subscription_id": f"sub_{user_id.hex}",
        "current_period_start": at(0),
        "current_period_end": at(30),
    }
    first = pay.create_provider_subscription(conn, **params)
    again = pay.create_provider_subscription(conn, **{**params, "status": "PAST_DUE"})
    assert again.id == first.id and again.status is SubscriptionStatus.ACTIVE
    assert first.trial_ends_at is None and first.current_period_end is not None
    found = pay.get_subscription_by_provider_id(conn, provider_subscription_id=f"sub_{user_id.hex}")
    assert found is not None and found.id == first.id
    assert pay.get_subscription_by_provider_id(conn, provider_subscription_id="nope") is None
    assert len(pay.list_user_subscriptions(conn, user_id=user_id)) == 1


def test_subscription_lifecycle(conn: Conn) -> None:
    user_id = uuid.uuid4()
    sub = pay.create_subscription(conn, user_id=user_id, plan="PRO", status="TRIALING")
    renewed = pay.renew_subscription(
        conn, id=sub.id, current_period_start=at(0), current_period_end=at(30)
    )
    assert renewed is not None and renewed.status is SubscriptionStatus.ACTIVE
    assert renewed.current_period_end is not None
    past_due = pay.update_subscription_status(conn, id=sub.id, status="PAST_DUE")
    assert past_due is not None and past_due.status is SubscriptionStatus.PAST_DUE
    assert pay.get_active_subscription(conn, user_id=user_id) is None
    upgraded = pay.change_subscription_plan(conn, id=sub.id, plan=SubscriptionPlan.ENTERPRISE)
    assert upgraded is not None and upgraded.plan is SubscriptionPlan.ENTERPRISE
    pay.renew_subscription(conn, id=sub.id, current_period_start=at(30), current_period_end=at(60))
    leaving = pay.cancel_subscription_at_period_end(conn, id=sub.id)
    assert leaving is not None and leaving.cancel_at_period_end and leaving.canceled_at
    assert leaving.status is SubscriptionStatus.ACTIVE  # access until the period ends
    assert (
        pay.renew_subscription(
            conn, id=sub.id, current_period_start=at(60), current_period_end=at(90)
        )
        is None
    )
    staying = pay.resume_subscription(conn, id=sub.id)
    assert staying is not None and not staying.cancel_at_period_end
    assert staying.canceled_at is None
    assert pay.resume_subscription(conn, id=sub.id) is None
    canceled = pay.cancel_subscription(conn, id=sub.id)
    assert canceled is not None and canceled.status is SubscriptionStatus.CANCELED
    assert canceled.canceled_at is not None
    # CANCELED and EXPIRED are final.
    assert pay.cancel_subscription(conn, id=sub.id) is None
    assert pay.update_subscription_status(conn, id=sub.id, status="ACTIVE") is None
    assert pay.change_subscription_plan(conn, id=sub.id, plan="FREE") is None
    assert pay.cancel_subscription_at_period_end(conn, id=sub.id) is None


def test_update_subscription_status_to_canceled_stamps_canceled_at(conn: Conn) -> None:
    sub = pay.create_subscription(conn, user_id=uuid.uuid4(), plan="PRO", status="ACTIVE")
    canceled = pay.update_subscription_status(conn, id=sub.id, status="CANCELED")
    assert canceled is not None and canceled.canceled_at is not None
    with pytest.raises(errors.ConstraintViolation):
        pay.update_subscription_status(conn, id=sub.id, status="PAUSED")


def test_renewal_period_must_move_forward(conn: Conn) -> None:
    sub = pay.create_subscription(conn, user_id=uuid.uuid4(), plan="PRO", status="ACTIVE")
    with pytest.raises(errors.ConstraintViolation):
        pay.renew_subscription(
            conn, id=sub.id, current_period_start=at(30), current_period_end=at(0)
        )


def test_expire_subscriptions(conn: Conn) -> None:
    conn.execute("delete from payments.subscriptions")
    user_id = uuid.uuid4()

    def make(status: str, end: float | None, trial: float | None = None) -> Subscription:
        sub: Subscription = pay.create_provider_subscription(
            conn,
            user_id=user_id,
            plan="PRO",
            status=status,
            provider="stripe",
            provider_subscription_id=f"sub_{uuid.uuid4().hex}",
            current_period_start=None if end is None else at(end - 30),
            current_period_end=None if end is None else at(end),
            trial_ends_at=None if trial is None else at(trial),
        )
        return sub

    lapsed = make("ACTIVE", -3)
    leaving = make("ACTIVE", -3)
    pay.cancel_subscription_at_period_end(conn, id=leaving.id)
    trial_over = make("TRIALING", None, trial=-3)
    in_grace = make("PAST_DUE", -1)
    current = make("ACTIVE", 10)
    unbilled = make("ACTIVE", None)
    assert pay.expire_subscriptions(conn, ended_before=at(-2)) == 3
    status = {s.id: s.status for s in pay.list_user_subscriptions(conn, user_id=user_id)}
    assert status == {
        lapsed.id: SubscriptionStatus.EXPIRED,
        leaving.id: SubscriptionStatus.CANCELED,
        trial_over.id: SubscriptionStatus.EXPIRED,
        in_grace.id: SubscriptionStatus.PAST_DUE,
        current.id: SubscriptionStatus.ACTIVE,
        unbilled.id: SubscriptionStatus.ACTIVE,
    }
    assert pay.expire_subscriptions(conn, ended_before=at(-2)) == 0


def test_expire_subscriptions_works_in_batches(conn: Conn) -> None:
    conn.execute("delete from payments.subscriptions")
    user_id = uuid.uuid4()
    for _ in range(5):
        pay.create_provider_subscription(
            conn,
            user_id=user_id,
            plan="PRO",
            status="ACTIVE",
            provider="stripe",
            provider_subscription_id=f"sub_{uuid.uuid4().hex}",
            current_period_start=at(-40),
            current_period_end=at(-10),
            trial_ends_at=None,
        )
    done = []
    while expired := pay.expire_subscriptions(conn, ended_before=at(-2), batch_size=2):
        done.append(expired)
    assert done == [2, 2, 1]
    statuses = {s.status for s in pay.list_user_subscriptions(conn, user_id=user_id)}
    assert statuses == {SubscriptionStatus.EXPIRED}


# Transactions


def test_record_transaction_replay_returns_the_existing_row(conn: Conn) -> None:
    user_id = uuid.uuid4()
    sub = pay.create_subscription(conn, user_id=user_id, plan="PRO", status="ACTIVE")
    first = charge(
        conn,
        user_id,
        subscription_id=sub.id,
        currency="usd",
        provider_payment_id="pi_replay",
        status="PENDING",
    )
    assert isinstance(first, Transaction)
    assert (first.currency, first.amount_minor) == ("USD", 49_900)
    assert first.subscription_id == sub.id and first.status is TransactionStatus.PENDING
    replay = charge(conn, user_id, provider_payment_id="pi_replay", amount_minor=1)
    assert replay.id == first.id
    assert (replay.amount_minor, replay.status, replay.subscription_id) == (
        49_900,
        TransactionStatus.PENDING,
        sub.id,
    )
    assert pay.get_transaction(conn, id=first.id) == replay
    assert pay.get_transaction_by_provider_id(conn, provider_payment_id="pi_replay") == replay
    assert pay.get_transaction(conn, id=uuid.uuid4()) is None
    assert pay.get_transaction_by_provider_id(conn, provider_payment_id="pi_none") is None


def test_record_transaction_is_idempotent_under_concurrency(configured: str) -> None:
    """Twelve threads replay one webhook at once: one row, the same id for all."""
    user_id = uuid.uuid4()
    payment_id = f"pi_race_{user_id.hex}"
    results = race(
        12, lambda own, i: charge(own, user_id, provider_payment_id=payment_id), configured
    )
    assert len({r.id for r in results}) == 1
    with psycopg.connect(configured) as check:
        rows = check.execute(
            "select count(*) from payments.transactions where provider_payment_id = %s",
            (payment_id,),
        ).fetchone()
    assert rows == (1,)


@pytest.mark.parametrize(
    ("field", "value"), [("currency", "US"), ("currency", "U$D"), ("amount_minor", -1)]
)
def test_transaction_money_is_checked(conn: Conn, field: str, value: Any) -> None:
    with pytest.raises(errors.ConstraintViolation):
        charge(conn, uuid.uuid4(), **{field: value})


def test_update_transaction_status_settles_pending_charges(conn: Conn) -> None:
    user_id = uuid.uuid4()
    ok = charge(conn, user_id, status="PENDING")
    settled = pay.update_transaction_status(
        conn, provider_payment_id=ok.provider_payment_id, status="SUCCEEDED"
    )
    assert settled is not None and settled.status is TransactionStatus.SUCCEEDED
    replay = pay.update_transaction_status(
        conn, provider_payment_id=ok.provider_payment_id, status=TransactionStatus.SUCCEEDED
    )
    assert replay is not None and replay.id == ok.id
    assert (
        pay.update_transaction_status(
            conn, provider_payment_id=ok.provider_payment_id, status="FAILED"
        )
        is None
    )
    bad = charge(conn, user_id, status="PENDING")
    failed = pay.update_transaction_status(
        conn,
        provider_payment_id=bad.provider_payment_id,
        status="FAILED",
        failure_reason="card_declined",
    )
    assert failed is not None and failed.failure_reason == "card_declined"
    pending = charge(conn, user_id, status="PENDING")
    for status in ("REFUNDED", "PENDING"):
        assert (
            pay.update_transaction_status(
                conn, provider_payment_id=pending.provider_payment_id, status=status
            )
            is None
        )
    assert (
        pay.update_transaction_status(conn, provider_payment_id="pi_unknown", status="SUCCEEDED")
        is None
    )


def test_refund_only_from_succeeded(conn: Conn) -> None:
    user_id = uuid.uuid4()
    paid = charge(conn, user_id)
    refunded = pay.refund_transaction(conn, id=paid.id)
    assert refunded is not None and refunded.status is TransactionStatus.REFUNDED
    assert refunded.refunded_at is not None
    assert pay.refund_transaction(conn, id=paid.id) is None
    for status in ("PENDING", "FAILED"):
        assert pay.refund_transaction(conn, id=charge(conn, user_id, status=status).id) is None
    assert pay.refund_transaction(conn, id=uuid.uuid4()) is None


def test_list_user_transactions_pages_by_keyset(conn: Conn) -> None:
    user_id = uuid.uuid4()
    made = [charge(conn, user_id) for _ in range(5)]
    charge(conn, uuid.uuid4())
    first = pay.list_user_transactions(conn, user_id=user_id, limit=2)
    second = pay.list_user_transactions(conn, user_id=user_id, limit=2, before_id=first[-1].id)
    third = pay.list_user_transactions(conn, user_id=user_id, limit=2, before_id=second[-1].id)
    seen = [t.id for t in first + second + third]
    # one transaction: the same created_at, so the order falls back to id.
    assert seen == sorted((t.id for t in made), reverse=True)
    assert len(third) == 1


# Invoices


def test_invoice_lifecycle(conn: Conn) -> None:
    user_id = uuid.uuid4()
    number = f"CZ-2026-{uuid.uuid4().hex[:8]}"
    lines = [{"description": "PRO monthly", "amount_minor": 49_900, "quantity": 1}]
    invoice = pay.create_invoice(
        conn,
        user_id=user_id,
        number=number,
        amount_minor=49_900,
        currency="inr",
        line_items=Jsonb(lines),
        due_at=at(7),
    )
    assert isinstance(invoice, Invoice)
    assert (invoice.status, invoice.currency, invoice.line_items) == (
        InvoiceStatus.DRAFT,
        "INR",
        lines,
    )
    assert invoice.issued_at is None and invoice.due_at is not None
    assert pay.get_invoice_by_number(conn, number=number) == invoice
    assert pay.get_invoice(conn, id=invoice.id) == invoice
    issued = pay.issue_invoice(conn, id=invoice.id)
    assert issued is not None and issued.status is InvoiceStatus.OPEN and issued.issued_at
    assert pay.issue_invoice(conn, id=invoice.id) is None
    stuck = pay.mark_invoice_uncollectible(conn, id=invoice.id)
    assert stuck is not None and stuck.status is InvoiceStatus.UNCOLLECTIBLE
    paid_by = charge(conn, user_id)
    paid = pay.mark_invoice_paid(conn, id=invoice.id, transaction_id=paid_by.id)
    assert paid is not None and paid.status is InvoiceStatus.PAID
    assert paid.transaction_id == paid_by.id and paid.paid_at is not None
    assert pay.mark_invoice_paid(conn, id=invoice.id) is None
    assert pay.void_invoice(conn, id=invoice.id) is None
    assert pay.mark_invoice_uncollectible(conn, id=invoice.id) is None


def test_invoice_defaults_void_and_unique_number(conn: Conn) -> None:
    user_id = uuid.uuid4()
    number = f"CZ-{uuid.uuid4().hex[:8]}"
    draft = pay.create_invoice(conn, user_id=user_id, number=number, amount_minor=0, currency="USD")
    assert draft.line_items == [] and draft.subscription_id is None and draft.due_at is None
    voided = pay.void_invoice(conn, id=draft.id)
    assert voided is not None and voided.status is InvoiceStatus.VOID and voided.voided_at
    assert pay.mark_invoice_paid(conn, id=draft.id) is None
    assert pay.get_invoice_by_number(conn, number="missing") is None
    with pytest.raises(errors.AlreadyExists) as caught:
        pay.create_invoice(conn, user_id=user_id, number=number, amount_minor=1, currency="USD")
    assert caught.value.constraint == "invoices_number_key"


def test_paying_a_draft_issues_it(conn: Conn) -> None:
    sub = pay.create_subscription(conn, user_id=uuid.uuid4(), plan="PRO", status="ACTIVE")
    draft = pay.create_invoice(
        conn,
        user_id=sub.user_id,
        subscription_id=sub.id,
        number=f"CZ-{uuid.uuid4().hex}",
        amount_minor=100,
        currency="EUR",
    )
    paid = pay.mark_invoice_paid(conn, id=draft.id)
    assert paid is not None and paid.issued_at is not None and paid.transaction_id is None
    assert paid.subscription_id == sub.id


def test_list_user_invoices_pages_by_keyset(conn: Conn) -> None:
    user_id = uuid.uuid4()
    made = [
        pay.create_invoice(
            conn,
            user_id=user_id,
            number=f"CZ-{uuid.uuid4().hex}",
            amount_minor=i,
            currency="USD",
        )
        for i in range(3)
    ]
    first = pay.list_user_invoices(conn, user_id=user_id, limit=2)
    rest = pay.list_user_invoices(conn, user_id=user_id, limit=2, before_id=first[-1].id)
    assert [i.id for i in first + rest] == sorted((i.id for i in made), reverse=True)


# Payment methods


def test_add_payment_methods_keeps_one_default(conn: Conn) -> None:
    user_id = uuid.uuid4()
    assert pay.get_default_payment_method(conn, user_id=user_id) is None
    spare = card(conn, user_id, is_default=False)
    assert isinstance(spare, PaymentMethod) and not spare.is_default
    first = card(conn, user_id, is_default=True)
    assert first.is_default and first.type is PaymentMethodType.CARD
    second = card(conn, user_id, is_default=True)
    assert second.is_default
    assert pay.get_default_payment_method(conn, user_id=user_id) == second
    listed = pay.list_payment_methods(conn, user_id=user_id)
    assert listed[0] == second
    assert [m.is_default for m in listed] == [True, False, False]
    assert {m.id for m in listed} == {spare.id, first.id, second.id}
    other = card(conn, uuid.uuid4(), is_default=True)
    assert other.is_default
    assert pay.get_default_payment_method(conn, user_id=user_id) == second


def test_a_saved_method_cannot_be_added_again(conn: Conn) -> None:
    user_id = uuid.uuid4()
    default = card(conn, user_id, is_default=True)
    spare = card(conn, user_id, is_default=False)
    for existing, is_default in [(default, True), (spare, True), (spare, False)]:
        with pytest.raises(errors.AlreadyExists) as caught, conn.transaction():
            pay.add_payment_method(
                conn,
                user_id=user_id,
                type="CARD",
                provider_method_id=existing.provider_method_id,
                is_default=is_default,
            )
        assert caught.value.constraint == "payment_methods_provider_method_id_key"
    # The failed statements changed nothing.
    assert pay.get_default_payment_method(conn, user_id=user_id) == default


def test_the_database_refuses_a_second_default(conn: Conn) -> None:
    user_id = uuid.uuid4()
    card(conn, user_id, is_default=True)
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        conn.execute(
            "insert into payments.payment_methods (user_id, type, provider_method_id, is_default)"
            " values (%s, 'UPI', 'pm_direct', true)",
            (user_id,),
        )
    assert caught.value.diag.constraint_name == "payment_methods_one_default_per_user"


def test_set_default_update_details_and_delete(conn: Conn) -> None:
    user_id = uuid.uuid4()
    old = card(conn, user_id, is_default=True)
    new = card(conn, user_id, is_default=False)
    chosen = pay.set_default_payment_method(conn, user_id=user_id, id=new.id)
    assert chosen is not None and chosen.id == new.id and chosen.is_default
    assert pay.get_default_payment_method(conn, user_id=user_id) == chosen
    again = pay.set_default_payment_method(conn, user_id=user_id, id=new.id)
    assert again is not None and again.is_default
    stranger = uuid.uuid4()
    assert pay.set_default_payment_method(conn, user_id=stranger, id=old.id) is None
    assert pay.set_default_payment_method(conn, user_id=user_id, id=uuid.uuid4()) is None
    detailed = pay.update_payment_method_details(
        conn,
        id=old.id,
        provider="stripe",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    assert detailed is not None
    assert (detailed.brand, detailed.last4, detailed.exp_month) == ("visa", "4242", 12)
    kept = pay.update_payment_method_details(conn, id=old.id, exp_year=2031)
    assert kept is not None and (kept.brand, kept.exp_year) == ("visa", 2031)
    assert pay.update_payment_method_details(conn, id=uuid.uuid4()) is None
    with pytest.raises(errors.ConstraintViolation), conn.transaction():
        pay.update_payment_method_details(conn, id=old.id, last4="42")
    assert pay.delete_payment_method(conn, user_id=stranger, id=new.id) is None
    removed = pay.delete_payment_method(conn, user_id=user_id, id=new.id)
    assert removed is not None and removed.provider_method_id == new.provider_method_id
    # Removing the default leaves none: nothing is promoted behind the user's back.
    assert pay.get_default_payment_method(conn, user_id=user_id) is None
    assert [m.id for m in pay.list_payment_methods(conn, user_id=user_id)] == [old.id]
    assert pay.delete_payment_method(conn, user_id=user_id, id=new.id) is None


def test_racing_default_additions_leave_exactly_one_default(configured: str) -> None:
    """Twelve threads add a default card for one user at once: all saved, one default."""
    user_id = uuid.uuid4()
    added = race(12, lambda own, i: card(own, user_id, is_default=True), configured)
    assert all(m.is_default for m in added)
    methods = pay.list_payment_methods(user_id=user_id)
    assert {m.id for m in methods} == {m.id for m in added}
    assert sum(m.is_default for m in methods) == 1


def test_racing_set_default_leaves_exactly_one_default(configured: str) -> None:
    """Eight threads each make a different card the default at once."""
    user_id = uuid.uuid4()
    with psycopg.connect(configured, autocommit=True) as setup:
        cards = [card(setup, user_id, is_default=i == 0) for i in range(8)]
    chosen = race(
        8,
        lambda own, i: pay.set_default_payment_method(own, user_id=user_id, id=cards[i].id),
        configured,
    )
    assert all(c is not None and c.is_default for c in chosen)
    methods = pay.list_payment_methods(user_id=user_id)
    assert len(methods) == 8
    assert sum(m.is_default for m in methods) == 1


def test_async_twins(configured: str) -> None:
    async def main() -> None:
        user_id = uuid.uuid4()
        q = aio.queries.payments
        async with aio.transaction() as conn:
            sub = await q.create_subscription(conn, user_id=user_id, plan="PRO", status="ACTIVE")
            assert await q.get_active_subscription(conn, user_id=user_id) == sub
            tx = await q.record_transaction(
                conn,
                user_id=user_id,
                subscription_id=sub.id,
                amount_minor=999,
                currency="USD",
                status="SUCCEEDED",
                provider_payment_id=f"pi_{user_id.hex}",
            )
            method = await q.add_payment_method(
                conn,
                user_id=user_id,
                type="UPI",
                provider_method_id=f"pm_{user_id.hex}",
                is_default=True,
            )
            assert method.is_default
            page = await q.list_user_transactions(conn, user_id=user_id, limit=10)
            assert [t.id for t in page] == [tx.id]
        # Without a connection: borrowed from the asyncio pool and committed.
        replay = await q.record_transaction(
            user_id=user_id,
            subscription_id=None,
            amount_minor=1,
            currency="USD",
            status="PENDING",
            provider_payment_id=f"pi_{user_id.hex}",
        )
        assert replay.id == tx.id
        refunded = await q.refund_transaction(id=tx.id)
        assert refunded is not None and refunded.status is TransactionStatus.REFUNDED
        assert [m.id for m in await q.list_payment_methods(user_id=user_id)] == [method.id]

    run_async(main())
