"""Factories for every table: valid rows with sensible defaults, any field overridable.

::

    from codezest_db.testing.factories import make_material_progress, make_user

    def test_progress(conn):
        ada = make_user(conn, name="Ada")
        progress = make_material_progress(conn, user_id=ada.id)  # its material, module
        assert progress.user_id == ada.id                        # and language are made too

``make_<table>(conn, **fields)`` inserts one row on *conn* (the test's
connection: rolled back after the test) and returns its model. Every column
is a keyword; a parent whose id is not given is made with its own defaults
(so a ``make_mcq_answer`` makes an attempt, a quiz, a question, an option...).
The defaults go through the package's own query for the table when there is
one and the fields fit it, else through ``insert ... returning``.
``amake_<table>(aconn, **fields)`` is the asyncio twin.

Raises InvalidParameters for a field that is not a column (nothing is
sent), and the package's errors for what the database refuses
(AlreadyExists, MissingReference, ConstraintViolation).
"""

from __future__ import annotations

from typing import Any, Unpack

import psycopg

from .. import models as m
from . import _fields as f
from . import _recipes
from ._factory import arun, run

Conn = psycopg.Connection[Any]
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
    "make_analytics_event",
    "make_assignment",
    "make_assignment_analysis",
    "make_assignment_submission",
    "make_email_log",
    "make_email_verification",
    "make_invoice",
    "make_language_enrollment",
    "make_material",
    "make_material_progress",
    "make_mcq_answer",
    "make_mcq_attempt",
    "make_mcq_option",
    "make_mcq_question",
    "make_mcq_quiz",
    "make_module",
    "make_module_progress",
    "make_notification",
    "make_notification_preference",
    "make_oauth_account",
    "make_password_reset",
    "make_payment_method",
    "make_programming_language",
    "make_quiz_analysis",
    "make_session",
    "make_subscription",
    "make_transaction",
    "make_user",
    "make_user_activity",
    "make_user_profile",
]


def make_user(conn: Conn, /, **fields: Unpack[f.UserFields]) -> m.User:
    """Insert a user: STUDENT, unique email; ``password_hash`` may be given too."""
    return run(conn, _recipes.user(fields))


async def amake_user(conn: AsyncConn, /, **fields: Unpack[f.UserFields]) -> m.User:
    """Insert a user: STUDENT, unique email; ``password_hash`` may be given too."""
    return await arun(conn, _recipes.user(fields))


def make_user_profile(conn: Conn, /, **fields: Unpack[f.UserProfileFields]) -> m.UserProfile:
    """Insert a user's profile (made with its user)."""
    return run(conn, _recipes.user_profile(fields))


async def amake_user_profile(
    conn: AsyncConn, /, **fields: Unpack[f.UserProfileFields]
) -> m.UserProfile:
    """Insert a user's profile (made with its user)."""
    return await arun(conn, _recipes.user_profile(fields))


def make_session(conn: Conn, /, **fields: Unpack[f.SessionFields]) -> m.Session:
    """Insert a login session valid for a week."""
    return run(conn, _recipes.session(fields))


async def amake_session(conn: AsyncConn, /, **fields: Unpack[f.SessionFields]) -> m.Session:
    """Insert a login session valid for a week."""
    return await arun(conn, _recipes.session(fields))


def make_oauth_account(conn: Conn, /, **fields: Unpack[f.OAuthAccountFields]) -> m.OAuthAccount:
    """Insert a linked GitHub account."""
    return run(conn, _recipes.oauth_account(fields))


async def amake_oauth_account(
    conn: AsyncConn, /, **fields: Unpack[f.OAuthAccountFields]
) -> m.OAuthAccount:
    """Insert a linked GitHub account."""
    return await arun(conn, _recipes.oauth_account(fields))


def make_password_reset(conn: Conn, /, **fields: Unpack[f.PasswordResetFields]) -> m.PasswordReset:
    """Insert a password reset token valid for an hour."""
    return run(conn, _recipes.password_reset(fields))


async def amake_password_reset(
    conn: AsyncConn, /, **fields: Unpack[f.PasswordResetFields]
) -> m.PasswordReset:
    """Insert a password reset token valid for an hour."""
    return await arun(conn, _recipes.password_reset(fields))


def make_email_verification(
    conn: Conn, /, **fields: Unpack[f.EmailVerificationFields]
) -> m.EmailVerification:
    """Insert an email verification for its user's address."""
    return run(conn, _recipes.email_verification(fields))


async def amake_email_verification(
    conn: AsyncConn, /, **fields: Unpack[f.EmailVerificationFields]
) -> m.EmailVerification:
    """Insert an email verification for its user's address."""
    return await arun(conn, _recipes.email_verification(fields))


def make_programming_language(
    conn: Conn, /, **fields: Unpack[f.ProgrammingLanguageFields]
) -> m.ProgrammingLanguage:
    """Insert a published language track, unique slug."""
    return run(conn, _recipes.programming_language(fields))


async def amake_programming_language(
    conn: AsyncConn, /, **fields: Unpack[f.ProgrammingLanguageFields]
) -> m.ProgrammingLanguage:
    """Insert a published language track, unique slug."""
    return await arun(conn, _recipes.programming_language(fields))


def make_module(conn: Conn, /, **fields: Unpack[f.ModuleFields]) -> m.Module:
    """Insert a module of a (new) language."""
    return run(conn, _recipes.module(fields))


async def amake_module(conn: AsyncConn, /, **fields: Unpack[f.ModuleFields]) -> m.Module:
    """Insert a module of a (new) language."""
    return await arun(conn, _recipes.module(fields))


def make_material(conn: Conn, /, **fields: Unpack[f.MaterialFields]) -> m.Material:
    """Insert an article of a module."""
    return run(conn, _recipes.material(fields))


async def amake_material(conn: AsyncConn, /, **fields: Unpack[f.MaterialFields]) -> m.Material:
    """Insert an article of a module."""
    return await arun(conn, _recipes.material(fields))


def make_assignment(conn: Conn, /, **fields: Unpack[f.AssignmentFields]) -> m.Assignment:
    """Insert a 10-point assignment of a module."""
    return run(conn, _recipes.assignment(fields))


async def amake_assignment(
    conn: AsyncConn, /, **fields: Unpack[f.AssignmentFields]
) -> m.Assignment:
    """Insert a 10-point assignment of a module."""
    return await arun(conn, _recipes.assignment(fields))


def make_mcq_quiz(conn: Conn, /, **fields: Unpack[f.MCQQuizFields]) -> m.MCQQuiz:
    """Insert a quiz of a module, passed with 1 point."""
    return run(conn, _recipes.mcq_quiz(fields))


async def amake_mcq_quiz(conn: AsyncConn, /, **fields: Unpack[f.MCQQuizFields]) -> m.MCQQuiz:
    """Insert a quiz of a module, passed with 1 point."""
    return await arun(conn, _recipes.mcq_quiz(fields))


def make_mcq_question(conn: Conn, /, **fields: Unpack[f.MCQQuestionFields]) -> m.MCQQuestion:
    """Insert a 1-point question of a quiz."""
    return run(conn, _recipes.mcq_question(fields))


async def amake_mcq_question(
    conn: AsyncConn, /, **fields: Unpack[f.MCQQuestionFields]
) -> m.MCQQuestion:
    """Insert a 1-point question of a quiz."""
    return await arun(conn, _recipes.mcq_question(fields))


def make_mcq_option(conn: Conn, /, **fields: Unpack[f.MCQOptionFields]) -> m.MCQOption:
    """Insert a correct option of a question."""
    return run(conn, _recipes.mcq_option(fields))


async def amake_mcq_option(conn: AsyncConn, /, **fields: Unpack[f.MCQOptionFields]) -> m.MCQOption:
    """Insert a correct option of a question."""
    return await arun(conn, _recipes.mcq_option(fields))


def make_language_enrollment(
    conn: Conn, /, **fields: Unpack[f.LanguageEnrollmentFields]
) -> m.LanguageEnrollment:
    """Insert an ACTIVE enrollment of a user in a language."""
    return run(conn, _recipes.language_enrollment(fields))


async def amake_language_enrollment(
    conn: AsyncConn, /, **fields: Unpack[f.LanguageEnrollmentFields]
) -> m.LanguageEnrollment:
    """Insert an ACTIVE enrollment of a user in a language."""
    return await arun(conn, _recipes.language_enrollment(fields))


def make_module_progress(
    conn: Conn, /, **fields: Unpack[f.ModuleProgressFields]
) -> m.ModuleProgress:
    """Insert a user's progress (IN_PROGRESS, 25%) through a module."""
    return run(conn, _recipes.module_progress(fields))


async def amake_module_progress(
    conn: AsyncConn, /, **fields: Unpack[f.ModuleProgressFields]
) -> m.ModuleProgress:
    """Insert a user's progress (IN_PROGRESS, 25%) through a module."""
    return await arun(conn, _recipes.module_progress(fields))


def make_material_progress(
    conn: Conn, /, **fields: Unpack[f.MaterialProgressFields]
) -> m.MaterialProgress:
    """Insert a user's progress (IN_PROGRESS) on a material."""
    return run(conn, _recipes.material_progress(fields))


async def amake_material_progress(
    conn: AsyncConn, /, **fields: Unpack[f.MaterialProgressFields]
) -> m.MaterialProgress:
    """Insert a user's progress (IN_PROGRESS) on a material."""
    return await arun(conn, _recipes.material_progress(fields))


def make_assignment_submission(
    conn: Conn, /, **fields: Unpack[f.AssignmentSubmissionFields]
) -> m.AssignmentSubmission:
    """Insert a PENDING submission of an assignment."""
    return run(conn, _recipes.assignment_submission(fields))


async def amake_assignment_submission(
    conn: AsyncConn, /, **fields: Unpack[f.AssignmentSubmissionFields]
) -> m.AssignmentSubmission:
    """Insert a PENDING submission of an assignment."""
    return await arun(conn, _recipes.assignment_submission(fields))


def make_mcq_attempt(conn: Conn, /, **fields: Unpack[f.MCQAttemptFields]) -> m.MCQAttempt:
    """Insert a started attempt of a quiz."""
    return run(conn, _recipes.mcq_attempt(fields))


async def amake_mcq_attempt(
    conn: AsyncConn, /, **fields: Unpack[f.MCQAttemptFields]
) -> m.MCQAttempt:
    """Insert a started attempt of a quiz."""
    return await arun(conn, _recipes.mcq_attempt(fields))


def make_mcq_answer(conn: Conn, /, **fields: Unpack[f.MCQAnswerFields]) -> m.MCQAnswer:
    """Insert an answer of an attempt: a question of its quiz, an option of it."""
    return run(conn, _recipes.mcq_answer(fields))


async def amake_mcq_answer(conn: AsyncConn, /, **fields: Unpack[f.MCQAnswerFields]) -> m.MCQAnswer:
    """Insert an answer of an attempt: a question of its quiz, an option of it."""
    return await arun(conn, _recipes.mcq_answer(fields))


def make_assignment_analysis(
    conn: Conn, /, **fields: Unpack[f.AssignmentAnalysisFields]
) -> m.AssignmentAnalysis:
    """Insert an AI analysis of a submission."""
    return run(conn, _recipes.assignment_analysis(fields))


async def amake_assignment_analysis(
    conn: AsyncConn, /, **fields: Unpack[f.AssignmentAnalysisFields]
) -> m.AssignmentAnalysis:
    """Insert an AI analysis of a submission."""
    return await arun(conn, _recipes.assignment_analysis(fields))


def make_quiz_analysis(conn: Conn, /, **fields: Unpack[f.QuizAnalysisFields]) -> m.QuizAnalysis:
    """Insert an AI analysis of a quiz attempt."""
    return run(conn, _recipes.quiz_analysis(fields))


async def amake_quiz_analysis(
    conn: AsyncConn, /, **fields: Unpack[f.QuizAnalysisFields]
) -> m.QuizAnalysis:
    """Insert an AI analysis of a quiz attempt."""
    return await arun(conn, _recipes.quiz_analysis(fields))


def make_subscription(conn: Conn, /, **fields: Unpack[f.SubscriptionFields]) -> m.Subscription:
    """Insert an ACTIVE PRO subscription."""
    return run(conn, _recipes.subscription(fields))


async def amake_subscription(
    conn: AsyncConn, /, **fields: Unpack[f.SubscriptionFields]
) -> m.Subscription:
    """Insert an ACTIVE PRO subscription."""
    return await arun(conn, _recipes.subscription(fields))


def make_transaction(conn: Conn, /, **fields: Unpack[f.TransactionFields]) -> m.Transaction:
    """Insert a SUCCEEDED USD 19.99 payment."""
    return run(conn, _recipes.transaction(fields))


async def amake_transaction(
    conn: AsyncConn, /, **fields: Unpack[f.TransactionFields]
) -> m.Transaction:
    """Insert a SUCCEEDED USD 19.99 payment."""
    return await arun(conn, _recipes.transaction(fields))


def make_invoice(conn: Conn, /, **fields: Unpack[f.InvoiceFields]) -> m.Invoice:
    """Insert a DRAFT invoice of USD 19.99, one line."""
    return run(conn, _recipes.invoice(fields))


async def amake_invoice(conn: AsyncConn, /, **fields: Unpack[f.InvoiceFields]) -> m.Invoice:
    """Insert a DRAFT invoice of USD 19.99, one line."""
    return await arun(conn, _recipes.invoice(fields))


def make_payment_method(conn: Conn, /, **fields: Unpack[f.PaymentMethodFields]) -> m.PaymentMethod:
    """Insert a card, not the default."""
    return run(conn, _recipes.payment_method(fields))


async def amake_payment_method(
    conn: AsyncConn, /, **fields: Unpack[f.PaymentMethodFields]
) -> m.PaymentMethod:
    """Insert a card, not the default."""
    return await arun(conn, _recipes.payment_method(fields))


def make_notification(conn: Conn, /, **fields: Unpack[f.NotificationFields]) -> m.Notification:
    """Insert an unread notification."""
    return run(conn, _recipes.notification(fields))


async def amake_notification(
    conn: AsyncConn, /, **fields: Unpack[f.NotificationFields]
) -> m.Notification:
    """Insert an unread notification."""
    return await arun(conn, _recipes.notification(fields))


def make_notification_preference(
    conn: Conn, /, **fields: Unpack[f.NotificationPreferenceFields]
) -> m.NotificationPreference:
    """Insert email notifications on, for every type."""
    return run(conn, _recipes.notification_preference(fields))


async def amake_notification_preference(
    conn: AsyncConn, /, **fields: Unpack[f.NotificationPreferenceFields]
) -> m.NotificationPreference:
    """Insert email notifications on, for every type."""
    return await arun(conn, _recipes.notification_preference(fields))


def make_email_log(conn: Conn, /, **fields: Unpack[f.EmailLogFields]) -> m.EmailLog:
    """Insert a queued welcome email to its user."""
    return run(conn, _recipes.email_log(fields))


async def amake_email_log(conn: AsyncConn, /, **fields: Unpack[f.EmailLogFields]) -> m.EmailLog:
    """Insert a queued welcome email to its user."""
    return await arun(conn, _recipes.email_log(fields))


def make_user_activity(conn: Conn, /, **fields: Unpack[f.UserActivityFields]) -> m.UserActivity:
    """Insert a login activity."""
    return run(conn, _recipes.user_activity(fields))


async def amake_user_activity(
    conn: AsyncConn, /, **fields: Unpack[f.UserActivityFields]
) -> m.UserActivity:
    """Insert a login activity."""
    return await arun(conn, _recipes.user_activity(fields))


def make_analytics_event(
    conn: Conn, /, **fields: Unpack[f.AnalyticsEventFields]
) -> m.AnalyticsEvent:
    """Insert an anonymous page view."""
    return run(conn, _recipes.analytics_event(fields))


async def amake_analytics_event(
    conn: AsyncConn, /, **fields: Unpack[f.AnalyticsEventFields]
) -> m.AnalyticsEvent:
    """Insert an anonymous page view."""
    return await arun(conn, _recipes.analytics_event(fields))
