"""Rows of the ``payments`` schema. Money is ``amount_minor`` plus ``currency``."""

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

from codezest_db.enums import (
    InvoiceStatus,
    PaymentMethodType,
    SubscriptionPlan,
    SubscriptionStatus,
    TransactionStatus,
)

__all__ = ["Invoice", "PaymentMethod", "Subscription", "Transaction"]


class Subscription(BaseModel, frozen=True, extra="forbid"):
    """A row of ``payments.subscriptions``."""

    id: UUID
    user_id: UUID
    plan: SubscriptionPlan
    status: SubscriptionStatus
    current_period_start: AwareDatetime | None
    current_period_end: AwareDatetime | None
    cancel_at_period_end: bool
    canceled_at: AwareDatetime | None
    trial_ends_at: AwareDatetime | None
    provider: str | None
    provider_subscription_id: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Transaction(BaseModel, frozen=True, extra="forbid"):
    """A row of ``payments.transactions``: a charge, in minor units."""

    id: UUID
    user_id: UUID
    subscription_id: UUID | None
    amount_minor: int
    currency: str
    status: TransactionStatus
    provider: str | None
    provider_payment_id: str
    description: str | None
    failure_reason: str | None
    refunded_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class Invoice(BaseModel, frozen=True, extra="forbid"):
    """A row of ``payments.invoices``."""

    id: UUID
    user_id: UUID
    subscription_id: UUID | None
    transaction_id: UUID | None
    number: str
    amount_minor: int
    currency: str
    status: InvoiceStatus
    line_items: list[Any]
    issued_at: AwareDatetime | None
    due_at: AwareDatetime | None
    paid_at: AwareDatetime | None
    voided_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class PaymentMethod(BaseModel, frozen=True, extra="forbid"):
    """A row of ``payments.payment_methods``."""

    id: UUID
    user_id: UUID
    type: PaymentMethodType
    provider: str | None
    provider_method_id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
