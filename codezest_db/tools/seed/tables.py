"""The 30 tables `codezest-db seed` fills, parents first, with the columns it writes.

Every column is written explicitly (no server defaults), so the same seed
gives the same rows: ids and timestamps included.
"""

from __future__ import annotations

__all__ = ["COLUMNS", "TABLES"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "auth.users": (
        "id", "email", "password_hash", "name", "role", "email_verified_at", "last_login_at",
        "created_at", "updated_at", "deleted_at",
    ),
    "auth.user_profiles": ("id", "user_id", "bio", "avatar_url", "created_at", "updated_at"),
    "auth.sessions": (
        "id", "user_id", "token_hash", "user_agent", "ip_address", "expires_at", "revoked_at",
        "last_used_at", "created_at", "updated_at",
    ),
    "auth.oauth_accounts": (
        "id", "user_id", "provider", "provider_account_id", "created_at", "updated_at",
    ),
    "auth.password_resets": (
        "id", "user_id", "token_hash", "expires_at", "used_at", "created_at", "updated_at",
    ),
    "auth.email_verifications": (
        "id", "user_id", "email", "token_hash", "expires_at", "verified_at", "created_at",
        "updated_at",
    ),
    "learning.programming_languages": (
        "id", "slug", "name", "description", "icon_url", "is_published", "created_at",
        "updated_at", "deleted_at",
    ),
    "learning.modules": (
        "id", "language_id", "slug", "title", "description", "position", "difficulty",
        "created_at", "updated_at", "deleted_at",
    ),
    "learning.materials": (
        "id", "module_id", "title", "type", "content", "url", "position", "duration_seconds",
        "created_at", "updated_at", "deleted_at",
    ),
    "learning.assignments": (
        "id", "module_id", "title", "description", "difficulty", "starter_code", "test_cases",
        "points", "position", "created_at", "updated_at", "deleted_at",
    ),
    "learning.mcq_quizzes": (
        "id", "module_id", "title", "description", "passing_score", "time_limit_seconds",
        "position", "created_at", "updated_at", "deleted_at",
    ),
    "learning.mcq_questions": (
        "id", "quiz_id", "prompt", "explanation", "position", "points", "created_at", "updated_at",
    ),
    "learning.mcq_options": (
        "id", "question_id", "text", "is_correct", "position", "created_at", "updated_at",
    ),
    "learning.language_enrollments": (
        "id", "user_id", "language_id", "status", "enrolled_at", "completed_at", "created_at",
        "updated_at",
    ),
    "learning.module_progress": (
        "id", "user_id", "module_id", "status", "progress_percent", "started_at", "completed_at",
        "created_at", "updated_at",
    ),
    "learning.material_progress": (
        "id", "user_id", "material_id", "status", "completed_at", "created_at", "updated_at",
    ),
    "learning.assignment_submissions": (
        "id", "user_id", "assignment_id", "code", "status", "score", "test_results", "feedback",
        "submitted_at", "graded_at", "created_at", "updated_at",
    ),
    "learning.mcq_attempts": (
        "id", "user_id", "quiz_id", "score", "max_score", "passed", "started_at", "finished_at",
        "created_at", "updated_at",
    ),
    "learning.mcq_answers": (
        "id", "attempt_id", "question_id", "option_id", "created_at", "updated_at",
    ),
    "learning.assignment_analyses": (
        "id", "submission_id", "type", "summary", "details", "score", "ai_model", "reviewer_id",
        "created_at", "updated_at",
    ),
    "learning.quiz_analyses": (
        "id", "attempt_id", "type", "summary", "details", "ai_model", "reviewer_id",
        "created_at", "updated_at",
    ),
    "payments.subscriptions": (
        "id", "user_id", "plan", "status", "current_period_start", "current_period_end",
        "cancel_at_period_end", "canceled_at", "trial_ends_at", "provider",
        "provider_subscription_id", "created_at", "updated_at",
    ),
    "payments.transactions": (
        "id", "user_id", "subscription_id", "amount_minor", "currency", "status", "provider",
        "provider_payment_id", "description", "failure_reason", "refunded_at", "created_at",
        "updated_at",
    ),
    "payments.invoices": (
        "id", "user_id", "subscription_id", "transaction_id", "number", "amount_minor",
        "currency", "status", "line_items", "issued_at", "due_at", "paid_at", "voided_at",
        "created_at", "updated_at",
    ),
    "payments.payment_methods": (
        "id", "user_id", "type", "provider", "provider_method_id", "brand", "last4", "exp_month",
        "exp_year", "is_default", "created_at", "updated_at",
    ),
    "notifications.notifications": (
        "id", "user_id", "type", "title", "body", "data", "read_at", "created_at", "updated_at",
    ),
    "notifications.notification_preferences": (
        "id", "user_id", "channel", "type", "enabled", "created_at", "updated_at",
    ),
    "notifications.email_logs": (
        "id", "user_id", "to_email", "template", "subject", "status", "provider_message_id",
        "error", "sent_at", "created_at", "updated_at",
    ),
    "activity.user_activities": (
        "id", "user_id", "type", "entity_type", "entity_id", "metadata", "created_at",
    ),
    "activity.analytics_events": (
        "id", "name", "user_id", "properties", "occurred_at", "created_at",
    ),
}  # fmt: skip

# Parents before children: the order rows are copied in.
TABLES: tuple[str, ...] = tuple(COLUMNS)
