"""The names of ../shared/CONTRACT.md exist exactly as written."""

from __future__ import annotations

import inspect

import codezest_db
from codezest_db import aio, enums, errors, models, queries

CONTRACT_MODELS = {
    "User",
    "UserProfile",
    "Session",
    "OAuthAccount",
    "PasswordReset",
    "EmailVerification",
    "ProgrammingLanguage",
    "Module",
    "Material",
    "Assignment",
    "MCQQuiz",
    "MCQQuestion",
    "MCQOption",
    "LanguageEnrollment",
    "ModuleProgress",
    "MaterialProgress",
    "AssignmentSubmission",
    "MCQAttempt",
    "MCQAnswer",
    "AssignmentAnalysis",
    "QuizAnalysis",
    "Subscription",
    "Transaction",
    "Invoice",
    "PaymentMethod",
    "Notification",
    "NotificationPreference",
    "EmailLog",
    "UserActivity",
    "AnalyticsEvent",
    "UserCredentials",
    "AnalyticsEventIn",
}

CONTRACT_QUERIES = {
    "auth": {
        "create_user": ["email", "password_hash", "name", "role"],
        "get_user_by_id": ["id"],
        "get_user_by_email": ["email"],
        "get_credentials_by_email": ["email"],
        "soft_delete_user": ["id"],
        "upsert_user_profile": ["user_id", "bio", "avatar_url"],
        "create_session": ["user_id", "token_hash", "expires_at"],
        "get_active_session": ["token_hash"],
        "revoke_session": ["token_hash"],
        "create_password_reset": ["user_id", "token_hash", "expires_at"],
        "consume_password_reset": ["token_hash"],
        "link_oauth_account": ["user_id", "provider", "provider_account_id"],
        "get_user_by_oauth": ["provider", "provider_account_id"],
    },
    "learning": {
        "create_language": ["slug", "name"],
        "list_languages": [],
        "create_module": ["language_id", "slug", "title", "position", "difficulty"],
        "list_modules": ["language_id"],
        "enroll_user": ["user_id", "language_id"],
        "create_assignment": ["module_id", "title", "description", "difficulty", "points"],
        "create_submission": ["user_id", "assignment_id", "code"],
        "grade_submission": ["id", "status", "score"],
        "create_quiz": ["module_id", "title", "passing_score"],
        "create_question": ["quiz_id", "prompt", "position", "points"],
        "create_option": ["question_id", "text", "is_correct"],
        "start_quiz_attempt": ["user_id", "quiz_id"],
        "record_answer": ["attempt_id", "question_id", "option_id"],
        "finish_quiz_attempt": ["id"],
    },
    "payments": {
        "create_subscription": ["user_id", "plan", "status"],
        "get_active_subscription": ["user_id"],
        "record_transaction": [
            "user_id",
            "subscription_id",
            "amount_minor",
            "currency",
            "status",
            "provider_payment_id",
        ],
        "add_payment_method": ["user_id", "type", "provider_method_id", "is_default"],
    },
    "notifications": {
        "create_notification": ["user_id", "type", "title", "body"],
        "list_unread_notifications": ["user_id", "limit"],
        "mark_all_read": ["user_id"],
    },
    "activity": {
        "record_activity": ["user_id", "type", "entity_type", "entity_id"],
        "list_user_activity": ["user_id", "limit", "before"],
        "record_events": ["events"],
    },
}

ENUMS = {
    "Role": ["STUDENT", "INSTRUCTOR", "ADMIN"],
    "Difficulty": ["BEGINNER", "INTERMEDIATE", "ADVANCED"],
    "MaterialType": ["VIDEO", "ARTICLE", "CODE_EXAMPLE", "DOCUMENTATION"],
    "SubmissionStatus": ["PENDING", "RUNNING", "PASSED", "FAILED", "ERROR"],
    "ProgressStatus": ["NOT_STARTED", "IN_PROGRESS", "COMPLETED"],
    "EnrollmentStatus": ["ACTIVE", "COMPLETED", "DROPPED"],
    "AnalysisType": ["AI", "MANUAL", "HYBRID"],
    "SubscriptionPlan": ["FREE", "PRO", "ENTERPRISE"],
    "SubscriptionStatus": ["TRIALING", "ACTIVE", "PAST_DUE", "CANCELED", "EXPIRED"],
    "TransactionStatus": ["PENDING", "SUCCEEDED", "FAILED", "REFUNDED"],
    "InvoiceStatus": ["DRAFT", "OPEN", "PAID", "VOID", "UNCOLLECTIBLE"],
    "PaymentMethodType": ["CARD", "UPI", "BANK_ACCOUNT", "WALLET"],
}


def test_top_level_surface() -> None:
    assert codezest_db.__all__ == sorted(codezest_db.__all__)
    pinned = {
        "close",
        "configure",
        "connection",
        "errors",
        "pending_migrations",
        "queries",
        "require_current",
        "transaction",
    }
    assert pinned <= set(codezest_db.__all__)
    # httpx's rule: every public function or class the package defines is in __all__.
    defined = {
        name
        for name, value in vars(codezest_db).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", "").startswith("codezest_db")
    }
    exported = {n for n in codezest_db.__all__ if not inspect.ismodule(getattr(codezest_db, n))}
    assert defined == exported
    for name in ("close", "configure", "connection", "get_pool", "queries", "transaction"):
        assert hasattr(aio, name)
    assert inspect.iscoroutinefunction(aio.close)


def test_errors() -> None:
    for name in (
        "DatabaseError",
        "ConfigurationError",
        "AlreadyExists",
        "MissingReference",
        "ConstraintViolation",
        "InvalidParameters",
        "SchemaOutOfDate",
    ):
        assert name in errors.__all__
    assert errors.__all__ == sorted(errors.__all__)


def test_models_are_frozen_and_named_as_pinned() -> None:
    assert set(models.__all__) >= CONTRACT_MODELS
    assert models.__all__ == sorted(models.__all__)
    for name in models.__all__:
        assert getattr(models, name).model_config.get("frozen") is True, name
    assert "password_hash" not in models.User.model_fields
    assert list(models.UserCredentials.model_fields) == ["id", "email", "password_hash", "role"]


def test_enums() -> None:
    for name, values in ENUMS.items():
        enum = getattr(enums, name)
        assert [member.value for member in enum] == values
        assert all(isinstance(member, str) for member in enum)


def test_pinned_queries_and_parameters() -> None:
    for domain, pinned in CONTRACT_QUERIES.items():
        for namespace in (queries, aio.queries):
            functions = getattr(namespace, domain)
            for name, params in pinned.items():
                fn = getattr(functions, name)
                sig = inspect.signature(fn).parameters
                assert next(iter(sig)) == "conn", (domain, name)
                assert set(params) <= set(sig), (domain, name, list(sig))
                for param in params:
                    kind = sig[param].kind
                    assert kind is inspect.Parameter.KEYWORD_ONLY, (domain, name, param)
                    required = sig[param].default is inspect.Parameter.empty
                    assert required == (param != "before"), (domain, name, param)
