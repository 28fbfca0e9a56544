"""The factories, one per table, written once: `codezest_db.testing.factories` exports them.

``_factories_async.py`` holds the asyncio ones (``amake_<table>``) and is
written; ``_factories_sync.py``, its sync twin (``make_<table>``), is
generated from it by ``tools/async_to_sync.py``. What each factory inserts
is its recipe's (`codezest_db.testing._recipes`); how, `run`'s.
"""

from __future__ import annotations

from typing import Any, Unpack

import psycopg

from .. import models as m
from . import _fields as f
from . import _recipes
from ._factory_async import run

AsyncConn = psycopg.AsyncConnection[Any]

__all__ = [
    "amake_analytics_event",
    "amake_assignment",
    "amake_assignment_analysis",
    "amake_assignment_submission",
    "amake_email_log",
    "amake_email_verification",
    "amake_invoice",
    "amake_language_enrollment",
    "amake_material",
    "amake_material_progress",
    "amake_mcq_answer",
    "amake_mcq_attempt",
    "amake_mcq_option",
    "amake_mcq_question",
    "amake_mcq_quiz",
    "amake_module",
    "amake_module_progress",
    "amake_notification",
    "amake_notification_preference",
    "amake_oauth_account",
    "amake_password_reset",
    "amake_payment_method",
    "amake_programming_language",
    "amake_quiz_analysis",
    "amake_session",
    "amake_subscription",
    "amake_transaction",
    "amake_user",
    "amake_user_activity",
    "amake_user_profile",
]


async def amake_user(conn: AsyncConn, /, **fields: Unpack[f.UserFields]) -> m.User:
    """Insert a user: STUDENT, unique email; ``password_hash`` may be given too."""
    return await run(conn, _recipes.user(fields))


async def amake_user_profile(
    conn: AsyncConn, /, **fields: Unpack[f.UserProfileFields]
) -> m.UserProfile:
    """Insert a user's profile (made with its user)."""
    return await run(conn, _recipes.user_profile(fields))


async def amake_session(conn: AsyncConn, /, **fields: Unpack[f.SessionFields]) -> m.Session:
    """Insert a login session valid for a week."""
    return await run(conn, _recipes.session(fields))


async def amake_oauth_account(
    conn: AsyncConn, /, **fields: Unpack[f.OAuthAccountFields]
) -> m.OAuthAccount:
    """Insert a linked GitHub account."""
    return await run(conn, _recipes.oauth_account(fields))


async def amake_password_reset(
    conn: AsyncConn, /, **fields: Unpack[f.PasswordResetFields]
) -> m.PasswordReset:
    """Insert a password reset token valid for an hour."""
    return await run(conn, _recipes.password_reset(fields))


async def amake_email_verification(
    conn: AsyncConn, /, **fields: Unpack[f.EmailVerificationFields]
) -> m.EmailVerification:
    """Insert an email verification for its user's address."""
    return await run(conn, _recipes.email_verification(fields))


async def amake_programming_language(
    conn: AsyncConn, /, **fields: Unpack[f.ProgrammingLanguageFields]
) -> m.ProgrammingLanguage:
    """Insert a published language track, unique slug."""
    return await run(conn, _recipes.programming_language(fields))


async def amake_module(conn: AsyncConn, /, **fields: Unpack[f.ModuleFields]) -> m.Module:
    """Insert a module of a (new) language."""
    return await run(conn, _recipes.module(fields))


async def amake_material(conn: AsyncConn, /, **fields: Unpack[f.MaterialFields]) -> m.Material:
    """Insert an article of a module."""
    return await run(conn, _recipes.material(fields))


async def amake_assignment(
    conn: AsyncConn, /, **fields: Unpack[f.AssignmentFields]
) -> m.Assignment:
    """Insert a 10-point assignment of a module."""
    return await run(conn, _recipes.assignment(fields))


async def amake_mcq_quiz(conn: AsyncConn, /, **fields: Unpack[f.MCQQuizFields]) -> m.MCQQuiz:
    """Insert a quiz of a module, passed with 1 point."""
    return await run(conn, _recipes.mcq_quiz(fields))


async def amake_mcq_question(
    conn: AsyncConn, /, **fields: Unpack[f.MCQQuestionFields]
) -> m.MCQQuestion:
    """Insert a 1-point question of a quiz."""
    return await run(conn, _recipes.mcq_question(fields))


async def amake_mcq_option(conn: AsyncConn, /, **fields: Unpack[f.MCQOptionFields]) -> m.MCQOption:
    """Insert a correct option of a question."""
    return await run(conn, _recipes.mcq_option(fields))


async def amake_language_enrollment(
    conn: AsyncConn, /, **fields: Unpack[f.LanguageEnrollmentFields]
) -> m.LanguageEnrollment:
    """Insert an ACTIVE enrollment of a user in a language."""
    return await run(conn, _recipes.language_enrollment(fields))


async def amake_module_progress(
    conn: AsyncConn, /, **fields: Unpack[f.ModuleProgressFields]
) -> m.ModuleProgress:
    """Insert a user's progress (IN_PROGRESS, 25%) through a module."""
    return await run(conn, _recipes.module_progress(fields))


async def amake_material_progress(
    conn: AsyncConn, /, **fields: Unpack[f.MaterialProgressFields]
) -> m.MaterialProgress:
    """Insert a user's progress (IN_PROGRESS) on a material."""
    return await run(conn, _recipes.material_progress(fields))


async def amake_assignment_submission(
    conn: AsyncConn, /, **fields: Unpack[f.AssignmentSubmissionFields]
) -> m.AssignmentSubmission:
    """Insert a PENDING submission of an assignment."""
    return await run(conn, _recipes.assignment_submission(fields))


async def amake_mcq_attempt(
    conn: AsyncConn, /, **fields: Unpack[f.MCQAttemptFields]
) -> m.MCQAttempt:
    """Insert a started attempt of a quiz."""
    return await run(conn, _recipes.mcq_attempt(fields))


async def amake_mcq_answer(conn: AsyncConn, /, **fields: Unpack[f.MCQAnswerFields]) -> m.MCQAnswer:
    """Insert an answer of an attempt: a question of its quiz, an option of it."""
    return await run(conn, _recipes.mcq_answer(fields))


async def amake_assignment_analysis(
    conn: AsyncConn, /, **fields: Unpack[f.AssignmentAnalysisFields]
) -> m.AssignmentAnalysis:
    """Insert an AI analysis of a submission."""
    return await run(conn, _recipes.assignment_analysis(fields))


async def amake_quiz_analysis(
    conn: AsyncConn, /, **fields: Unpack[f.QuizAnalysisFields]
) -> m.QuizAnalysis:
    """Insert an AI analysis of a quiz attempt."""
    return await run(conn, _recipes.quiz_analysis(fields))


async def amake_subscription(
    conn: AsyncConn, /, **fields: Unpack[f.SubscriptionFields]
) -> m.Subscription:
    """Insert an ACTIVE PRO subscription."""
    return await run(conn, _recipes.subscription(fields))


async def amake_transaction(
    conn: AsyncConn, /, **fields: Unpack[f.TransactionFields]
) -> m.Transaction:
    """Insert a SUCCEEDED USD 19.99 payment."""
    return await run(conn, _recipes.transaction(fields))


async def amake_invoice(conn: AsyncConn, /, **fields: Unpack[f.InvoiceFields]) -> m.Invoice:
    """Insert a DRAFT invoice of USD 19.99, one line."""
    return await run(conn, _recipes.invoice(fields))


async def amake_payment_method(
    conn: AsyncConn, /, **fields: Unpack[f.PaymentMethodFields]
) -> m.PaymentMethod:
    """Insert a card, not the default."""
    return await run(conn, _recipes.payment_method(fields))


async def amake_notification(
    conn: AsyncConn, /, **fields: Unpack[f.NotificationFields]
) -> m.Notification:
    """Insert an unread notification."""
    return await run(conn, _recipes.notification(fields))


async def amake_notification_preference(
    conn: AsyncConn, /, **fields: Unpack[f.NotificationPreferenceFields]
) -> m.NotificationPreference:
    """Insert email notifications on, for every type."""
    return await run(conn, _recipes.notification_preference(fields))


async def amake_email_log(conn: AsyncConn, /, **fields: Unpack[f.EmailLogFields]) -> m.EmailLog:
    """Insert a queued welcome email to its user."""
    return await run(conn, _recipes.email_log(fields))


async def amake_user_activity(
    conn: AsyncConn, /, **fields: Unpack[f.UserActivityFields]
) -> m.UserActivity:
    """Insert a login activity."""
    return await run(conn, _recipes.user_activity(fields))


async def amake_analytics_event(
    conn: AsyncConn, /, **fields: Unpack[f.AnalyticsEventFields]
) -> m.AnalyticsEvent:
    """Insert an anonymous page view."""
    return await run(conn, _recipes.analytics_event(fields))
