"""The keyword fields of each factory, for mypy: a column name or type slip is an error.

One TypedDict per table, every key optional: the model's fields (its
columns), plus a column the model hides (``auth.users.password_hash``).
tests/test_factories.py checks they match the models.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import uuid
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict

from .. import enums

if TYPE_CHECKING:  # the generated query signatures' enum aliases (enum or its label)
    from .._typing import (
        AnalysisTypeLike,
        DifficultyLike,
        EnrollmentStatusLike,
        MaterialTypeLike,
        PaymentMethodTypeLike,
        RoleLike,
        SubmissionStatusLike,
        SubscriptionPlanLike,
        SubscriptionStatusLike,
        TransactionStatusLike,
    )

# Enums no query takes as a parameter, so _typing has no alias for them.
InvoiceStatusLike: TypeAlias = (
    "enums.InvoiceStatus | Literal['DRAFT', 'OPEN', 'PAID', 'VOID', 'UNCOLLECTIBLE']"
)
ProgressStatusLike: TypeAlias = (
    "enums.ProgressStatus | Literal['NOT_STARTED', 'IN_PROGRESS', 'COMPLETED']"
)

__all__ = [
    "AnalyticsEventFields",
    "AssignmentAnalysisFields",
    "AssignmentFields",
    "AssignmentSubmissionFields",
    "EmailLogFields",
    "EmailVerificationFields",
    "InvoiceFields",
    "LanguageEnrollmentFields",
    "MCQAnswerFields",
    "MCQAttemptFields",
    "MCQOptionFields",
    "MCQQuestionFields",
    "MCQQuizFields",
    "MaterialFields",
    "MaterialProgressFields",
    "ModuleFields",
    "ModuleProgressFields",
    "NotificationFields",
    "NotificationPreferenceFields",
    "OAuthAccountFields",
    "PasswordResetFields",
    "PaymentMethodFields",
    "ProgrammingLanguageFields",
    "QuizAnalysisFields",
    "SessionFields",
    "SubscriptionFields",
    "TransactionFields",
    "UserActivityFields",
    "UserFields",
    "UserProfileFields",
]


class UserFields(TypedDict, total=False):
    """Columns of a User row, all optional."""

    id: uuid.UUID
    email: str
    name: str
    role: RoleLike
    email_verified_at: datetime.datetime | None
    last_login_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    password_hash: str | None


class UserProfileFields(TypedDict, total=False):
    """Columns of a UserProfile row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    bio: str | None
    avatar_url: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SessionFields(TypedDict, total=False):
    """Columns of a Session row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    token_hash: str
    user_agent: str | None
    ip_address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    expires_at: datetime.datetime
    revoked_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class OAuthAccountFields(TypedDict, total=False):
    """Columns of a OAuthAccount row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    provider: str
    provider_account_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PasswordResetFields(TypedDict, total=False):
    """Columns of a PasswordReset row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    token_hash: str
    expires_at: datetime.datetime
    used_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EmailVerificationFields(TypedDict, total=False):
    """Columns of a EmailVerification row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    token_hash: str
    expires_at: datetime.datetime
    verified_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ProgrammingLanguageFields(TypedDict, total=False):
    """Columns of a ProgrammingLanguage row, all optional."""

    id: uuid.UUID
    slug: str
    name: str
    description: str | None
    icon_url: str | None
    is_published: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None


class ModuleFields(TypedDict, total=False):
    """Columns of a Module row, all optional."""

    id: uuid.UUID
    language_id: uuid.UUID
    slug: str
    title: str
    description: str | None
    position: int
    difficulty: DifficultyLike
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None


class MaterialFields(TypedDict, total=False):
    """Columns of a Material row, all optional."""

    id: uuid.UUID
    module_id: uuid.UUID
    title: str
    type: MaterialTypeLike
    content: str | None
    url: str | None
    position: int
    duration_seconds: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None


class AssignmentFields(TypedDict, total=False):
    """Columns of a Assignment row, all optional."""

    id: uuid.UUID
    module_id: uuid.UUID
    title: str
    description: str
    difficulty: DifficultyLike
    starter_code: str | None
    test_cases: list[Any]
    points: int
    position: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None


class MCQQuizFields(TypedDict, total=False):
    """Columns of a MCQQuiz row, all optional."""

    id: uuid.UUID
    module_id: uuid.UUID
    title: str
    description: str | None
    passing_score: int
    time_limit_seconds: int | None
    position: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None


class MCQQuestionFields(TypedDict, total=False):
    """Columns of a MCQQuestion row, all optional."""

    id: uuid.UUID
    quiz_id: uuid.UUID
    prompt: str
    explanation: str | None
    position: int
    points: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MCQOptionFields(TypedDict, total=False):
    """Columns of a MCQOption row, all optional."""

    id: uuid.UUID
    question_id: uuid.UUID
    text: str
    is_correct: bool
    position: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class LanguageEnrollmentFields(TypedDict, total=False):
    """Columns of a LanguageEnrollment row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    language_id: uuid.UUID
    status: EnrollmentStatusLike
    enrolled_at: datetime.datetime
    completed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ModuleProgressFields(TypedDict, total=False):
    """Columns of a ModuleProgress row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    module_id: uuid.UUID
    status: ProgressStatusLike
    progress_percent: decimal.Decimal
    started_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MaterialProgressFields(TypedDict, total=False):
    """Columns of a MaterialProgress row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    material_id: uuid.UUID
    status: ProgressStatusLike
    completed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AssignmentSubmissionFields(TypedDict, total=False):
    """Columns of a AssignmentSubmission row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    assignment_id: uuid.UUID
    code: str
    status: SubmissionStatusLike
    score: int | None
    test_results: dict[str, Any] | None
    feedback: str | None
    submitted_at: datetime.datetime
    graded_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MCQAttemptFields(TypedDict, total=False):
    """Columns of a MCQAttempt row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    quiz_id: uuid.UUID
    score: int | None
    max_score: int | None
    passed: bool | None
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MCQAnswerFields(TypedDict, total=False):
    """Columns of a MCQAnswer row, all optional."""

    id: uuid.UUID
    attempt_id: uuid.UUID
    question_id: uuid.UUID
    option_id: uuid.UUID
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AssignmentAnalysisFields(TypedDict, total=False):
    """Columns of a AssignmentAnalysis row, all optional."""

    id: uuid.UUID
    submission_id: uuid.UUID
    type: AnalysisTypeLike
    summary: str
    details: dict[str, Any]
    score: decimal.Decimal | None
    ai_model: str | None
    reviewer_id: uuid.UUID | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class QuizAnalysisFields(TypedDict, total=False):
    """Columns of a QuizAnalysis row, all optional."""

    id: uuid.UUID
    attempt_id: uuid.UUID
    type: AnalysisTypeLike
    summary: str
    details: dict[str, Any]
    ai_model: str | None
    reviewer_id: uuid.UUID | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SubscriptionFields(TypedDict, total=False):
    """Columns of a Subscription row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    plan: SubscriptionPlanLike
    status: SubscriptionStatusLike
    current_period_start: datetime.datetime | None
    current_period_end: datetime.datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime.datetime | None
    trial_ends_at: datetime.datetime | None
    provider: str | None
    provider_subscription_id: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TransactionFields(TypedDict, total=False):
    """Columns of a Transaction row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    subscription_id: uuid.UUID | None
    amount_minor: int
    currency: str
    status: TransactionStatusLike
    provider: str | None
    provider_payment_id: str
    description: str | None
    failure_reason: str | None
    refunded_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class InvoiceFields(TypedDict, total=False):
    """Columns of a Invoice row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    subscription_id: uuid.UUID | None
    transaction_id: uuid.UUID | None
    number: str
    amount_minor: int
    currency: str
    status: InvoiceStatusLike
    line_items: list[Any]
    issued_at: datetime.datetime | None
    due_at: datetime.datetime | None
    paid_at: datetime.datetime | None
    voided_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PaymentMethodFields(TypedDict, total=False):
    """Columns of a PaymentMethod row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    type: PaymentMethodTypeLike
    provider: str | None
    provider_method_id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class NotificationFields(TypedDict, total=False):
    """Columns of a Notification row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    type: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class NotificationPreferenceFields(TypedDict, total=False):
    """Columns of a NotificationPreference row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    channel: str
    type: str | None
    enabled: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EmailLogFields(TypedDict, total=False):
    """Columns of a EmailLog row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID | None
    to_email: str
    template: str
    subject: str
    status: str
    provider_message_id: str | None
    error: str | None
    sent_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class UserActivityFields(TypedDict, total=False):
    """Columns of a UserActivity row, all optional."""

    id: uuid.UUID
    user_id: uuid.UUID
    type: str
    entity_type: str | None
    entity_id: uuid.UUID | None
    metadata: dict[str, Any]
    created_at: datetime.datetime


class AnalyticsEventFields(TypedDict, total=False):
    """Columns of a AnalyticsEvent row, all optional."""

    id: uuid.UUID
    name: str
    user_id: uuid.UUID | None
    properties: dict[str, Any]
    occurred_at: datetime.datetime
    created_at: datetime.datetime
