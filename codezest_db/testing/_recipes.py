"""What each factory inserts: the defaults of every table, and the parents it makes.

One recipe per table (see `codezest_db.testing._factory`). A recipe takes the
caller's fields, makes each parent row whose id is not among them, and
inserts its row with the defaults the caller did not override. Defaults are
valid, unique where the schema wants uniqueness, and read like real data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from .. import models as m
from ..enums import (
    AnalysisType,
    Difficulty,
    MaterialType,
    PaymentMethodType,
    ProgressStatus,
    Role,
    SubscriptionPlan,
    SubscriptionStatus,
    TransactionStatus,
)
from ..errors import InvalidParameters
from ._factory import Insert, Lookup, Recipe

Fields = Mapping[str, Any]
M = TypeVar("M", bound=BaseModel)

# Columns a factory may set that its model does not show.
_WRITE_ONLY = {"auth.users": frozenset({"password_hash"})}


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def _in(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def _row(table: str, model: type[M], fields: Fields, defaults: Fields, *queries: str) -> Recipe[M]:
    """Insert a row of *table*: *defaults* overridden by *fields*."""
    _check(table, model, fields)
    row: M = yield Insert(table, model, {**defaults, **fields}, queries)
    return row


def _check(table: str, model: type[BaseModel], fields: Collection[str]) -> None:
    """Refuse a field that is not a column before anything is sent."""
    known = set(model.model_fields) | _WRITE_ONLY.get(table, frozenset())
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidParameters(
            f"{table} has no column {', '.join(map(repr, unknown))}; "
            f"its columns: {', '.join(sorted(known))}"
        )


def _parent(fields: Fields, key: str, recipe: Callable[[Fields], Recipe[Any]]) -> Recipe[Any]:
    """The id in *fields[key]*, else the id of a parent row made by *recipe*."""
    if key in fields:
        return fields[key]
    parent = yield from recipe({})
    return parent.id


# -- auth ------------------------------------------------------------------------------


def user(fields: Fields) -> Recipe[m.User]:
    tag = _unique()
    defaults = {
        "email": f"learner-{tag}@example.com",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "name": "Ada Lovelace",
        "role": Role.STUDENT,
    }
    return (yield from _row("auth.users", m.User, fields, defaults, "auth.create_user"))


def user_profile(fields: Fields) -> Recipe[m.UserProfile]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {"user_id": user_id, "bio": "Learning to code, one kata a day.", "avatar_url": None}
    return (
        yield from _row(
            "auth.user_profiles", m.UserProfile, fields, defaults, "auth.upsert_user_profile"
        )
    )


def session(fields: Fields) -> Recipe[m.Session]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {"user_id": user_id, "token_hash": f"session-{_unique()}", "expires_at": _in(days=7)}
    return (yield from _row("auth.sessions", m.Session, fields, defaults, "auth.create_session"))


def oauth_account(fields: Fields) -> Recipe[m.OAuthAccount]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {"user_id": user_id, "provider": "github", "provider_account_id": _unique()}
    return (
        yield from _row(
            "auth.oauth_accounts", m.OAuthAccount, fields, defaults, "auth.link_oauth_account"
        )
    )


def password_reset(fields: Fields) -> Recipe[m.PasswordReset]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {"user_id": user_id, "token_hash": f"reset-{_unique()}", "expires_at": _in(hours=1)}
    return (
        yield from _row(
            "auth.password_resets",
            m.PasswordReset,
            fields,
            defaults,
            "auth.create_password_reset",
        )
    )


def email_verification(fields: Fields) -> Recipe[m.EmailVerification]:
    email = f"verify-{_unique()}@example.com"
    if "user_id" not in fields:
        owner = yield from user({})
        fields = {"user_id": owner.id, **fields}
        email = owner.email
    defaults = {"email": email, "token_hash": f"verify-{_unique()}", "expires_at": _in(days=1)}
    return (
        yield from _row(
            "auth.email_verifications",
            m.EmailVerification,
            fields,
            defaults,
            "auth.create_email_verification",
        )
    )


# -- learning: the catalogue --------------------------------------------------------------


def programming_language(fields: Fields) -> Recipe[m.ProgrammingLanguage]:
    tag = _unique()
    defaults = {"slug": f"python-{tag}", "name": "Python"}
    return (
        yield from _row(
            "learning.programming_languages",
            m.ProgrammingLanguage,
            fields,
            defaults,
            "learning.create_language",
        )
    )


def module(fields: Fields) -> Recipe[m.Module]:
    language_id = yield from _parent(fields, "language_id", programming_language)
    defaults = {
        "language_id": language_id,
        "slug": f"basics-{_unique()}",
        "title": "Variables and types",
        "position": 0,
        "difficulty": Difficulty.BEGINNER,
    }
    return (
        yield from _row("learning.modules", m.Module, fields, defaults, "learning.create_module")
    )


def material(fields: Fields) -> Recipe[m.Material]:
    module_id = yield from _parent(fields, "module_id", module)
    defaults = {
        "module_id": module_id,
        "title": "What is a variable?",
        "type": MaterialType.ARTICLE,
        "content": "A variable is a name bound to a value: `x = 42`.",
    }
    return (
        yield from _row(
            "learning.materials", m.Material, fields, defaults, "learning.create_material"
        )
    )


def assignment(fields: Fields) -> Recipe[m.Assignment]:
    module_id = yield from _parent(fields, "module_id", module)
    defaults = {
        "module_id": module_id,
        "title": "FizzBuzz",
        "description": "Print 1 to 100; Fizz for multiples of 3, Buzz of 5, FizzBuzz of both.",
        "difficulty": Difficulty.BEGINNER,
        "points": 10,
    }
    return (
        yield from _row(
            "learning.assignments", m.Assignment, fields, defaults, "learning.create_assignment"
        )
    )


def mcq_quiz(fields: Fields) -> Recipe[m.MCQQuiz]:
    module_id = yield from _parent(fields, "module_id", module)
    defaults = {"module_id": module_id, "title": "Variables quiz", "passing_score": 1}
    return (
        yield from _row("learning.mcq_quizzes", m.MCQQuiz, fields, defaults, "learning.create_quiz")
    )


def mcq_question(fields: Fields) -> Recipe[m.MCQQuestion]:
    quiz_id = yield from _parent(fields, "quiz_id", mcq_quiz)
    defaults = {
        "quiz_id": quiz_id,
        "prompt": "Which statement binds 42 to x?",
        "position": 0,
        "points": 1,
    }
    return (
        yield from _row(
            "learning.mcq_questions", m.MCQQuestion, fields, defaults, "learning.create_question"
        )
    )


def mcq_option(fields: Fields) -> Recipe[m.MCQOption]:
    question_id = yield from _parent(fields, "question_id", mcq_question)
    defaults = {"question_id": question_id, "text": "x = 42", "is_correct": True}
    return (
        yield from _row(
            "learning.mcq_options", m.MCQOption, fields, defaults, "learning.create_option"
        )
    )


# -- learning: a learner's progress ---------------------------------------------------------


def language_enrollment(fields: Fields) -> Recipe[m.LanguageEnrollment]:
    user_id = yield from _parent(fields, "user_id", user)
    language_id = yield from _parent(fields, "language_id", programming_language)
    defaults = {"user_id": user_id, "language_id": language_id}
    return (
        yield from _row(
            "learning.language_enrollments",
            m.LanguageEnrollment,
            fields,
            defaults,
            "learning.enroll_user",
        )
    )


def module_progress(fields: Fields) -> Recipe[m.ModuleProgress]:
    user_id = yield from _parent(fields, "user_id", user)
    module_id = yield from _parent(fields, "module_id", module)
    defaults = {
        "user_id": user_id,
        "module_id": module_id,
        "status": ProgressStatus.IN_PROGRESS,
        "progress_percent": Decimal("25.00"),
        "started_at": _in(),
    }
    return (yield from _row("learning.module_progress", m.ModuleProgress, fields, defaults))


def material_progress(fields: Fields) -> Recipe[m.MaterialProgress]:
    user_id = yield from _parent(fields, "user_id", user)
    material_id = yield from _parent(fields, "material_id", material)
    defaults = {
        "user_id": user_id,
        "material_id": material_id,
        "status": ProgressStatus.IN_PROGRESS,
    }
    return (yield from _row("learning.material_progress", m.MaterialProgress, fields, defaults))


def assignment_submission(fields: Fields) -> Recipe[m.AssignmentSubmission]:
    user_id = yield from _parent(fields, "user_id", user)
    assignment_id = yield from _parent(fields, "assignment_id", assignment)
    defaults = {
        "user_id": user_id,
        "assignment_id": assignment_id,
        "code": "for i in range(1, 101):\n    print(i)\n",
    }
    return (
        yield from _row(
            "learning.assignment_submissions",
            m.AssignmentSubmission,
            fields,
            defaults,
            "learning.create_submission",
        )
    )


def mcq_attempt(fields: Fields) -> Recipe[m.MCQAttempt]:
    user_id = yield from _parent(fields, "user_id", user)
    quiz_id = yield from _parent(fields, "quiz_id", mcq_quiz)
    defaults = {"user_id": user_id, "quiz_id": quiz_id}
    return (
        yield from _row(
            "learning.mcq_attempts", m.MCQAttempt, fields, defaults, "learning.start_quiz_attempt"
        )
    )


def mcq_answer(fields: Fields) -> Recipe[m.MCQAnswer]:
    """An answer to a question of the attempt's quiz, with an option of that question."""
    question_id = fields.get("question_id")
    if question_id is None and "option_id" in fields:
        question_id = yield Lookup(
            "select question_id from learning.mcq_options where id = %s", (fields["option_id"],)
        )
    attempt_id = fields.get("attempt_id")
    if attempt_id is None:
        quiz_id = None
        if question_id is not None:
            quiz_id = yield Lookup(
                "select quiz_id from learning.mcq_questions where id = %s", (question_id,)
            )
        attempt = yield from mcq_attempt({} if quiz_id is None else {"quiz_id": quiz_id})
        attempt_id = attempt.id
    if question_id is None:
        quiz_id = yield Lookup(
            "select quiz_id from learning.mcq_attempts where id = %s", (attempt_id,)
        )
        question = yield from mcq_question({} if quiz_id is None else {"quiz_id": quiz_id})
        question_id = question.id
    option_id = fields.get("option_id")
    if option_id is None:
        option = yield from mcq_option({"question_id": question_id})
        option_id = option.id
    defaults = {"attempt_id": attempt_id, "question_id": question_id, "option_id": option_id}
    return (
        yield from _row(
            "learning.mcq_answers", m.MCQAnswer, fields, defaults, "learning.record_answer"
        )
    )


def assignment_analysis(fields: Fields) -> Recipe[m.AssignmentAnalysis]:
    submission_id = yield from _parent(fields, "submission_id", assignment_submission)
    defaults = {
        "submission_id": submission_id,
        "type": AnalysisType.AI,
        "summary": "Correct and readable; the loop could use a helper function.",
        "details": {"complexity": "O(n)", "style": ["naming", "comments"]},
        "score": Decimal("92.50"),
        "ai_model": "codezest-review-1",
    }
    return (
        yield from _row(
            "learning.assignment_analyses",
            m.AssignmentAnalysis,
            fields,
            defaults,
            "learning.create_assignment_analysis",
        )
    )


def quiz_analysis(fields: Fields) -> Recipe[m.QuizAnalysis]:
    attempt_id = yield from _parent(fields, "attempt_id", mcq_attempt)
    defaults = {
        "attempt_id": attempt_id,
        "type": AnalysisType.AI,
        "summary": "Solid on assignment; review the difference between = and ==.",
        "details": {"weak_topics": ["comparison"]},
        "ai_model": "codezest-review-1",
    }
    return (
        yield from _row(
            "learning.quiz_analyses",
            m.QuizAnalysis,
            fields,
            defaults,
            "learning.create_quiz_analysis",
        )
    )


# -- payments ------------------------------------------------------------------------------


def subscription(fields: Fields) -> Recipe[m.Subscription]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {
        "user_id": user_id,
        "plan": SubscriptionPlan.PRO,
        "status": SubscriptionStatus.ACTIVE,
    }
    return (
        yield from _row(
            "payments.subscriptions",
            m.Subscription,
            fields,
            defaults,
            "payments.create_subscription",
            "payments.create_provider_subscription",
        )
    )


def transaction(fields: Fields) -> Recipe[m.Transaction]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {
        "user_id": user_id,
        "subscription_id": None,
        "amount_minor": 1999,
        "currency": "USD",
        "status": TransactionStatus.SUCCEEDED,
        "provider_payment_id": f"pi_{_unique()}",
    }
    return (
        yield from _row(
            "payments.transactions",
            m.Transaction,
            fields,
            defaults,
            "payments.record_transaction",
        )
    )


def invoice(fields: Fields) -> Recipe[m.Invoice]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {
        "user_id": user_id,
        "number": f"INV-{_unique().upper()}",
        "amount_minor": 1999,
        "currency": "USD",
        "line_items": [{"description": "CodeZest Pro, 1 month", "amount_minor": 1999}],
    }
    return (
        yield from _row("payments.invoices", m.Invoice, fields, defaults, "payments.create_invoice")
    )


def payment_method(fields: Fields) -> Recipe[m.PaymentMethod]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {
        "user_id": user_id,
        "type": PaymentMethodType.CARD,
        "provider_method_id": f"pm_{_unique()}",
        "is_default": False,
    }
    return (
        yield from _row(
            "payments.payment_methods",
            m.PaymentMethod,
            fields,
            defaults,
            "payments.add_payment_method",
        )
    )


# -- notifications -------------------------------------------------------------------------


def notification(fields: Fields) -> Recipe[m.Notification]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {
        "user_id": user_id,
        "type": "achievement",
        "title": "Module completed",
        "body": "You finished Variables and types. On to control flow!",
    }
    return (
        yield from _row(
            "notifications.notifications",
            m.Notification,
            fields,
            defaults,
            "notifications.create_notification",
            "notifications.create_notification_with_data",
        )
    )


def notification_preference(fields: Fields) -> Recipe[m.NotificationPreference]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {"user_id": user_id, "channel": "email", "enabled": True}
    return (
        yield from _row(
            "notifications.notification_preferences",
            m.NotificationPreference,
            fields,
            defaults,
            "notifications.upsert_notification_preference",
        )
    )


def email_log(fields: Fields) -> Recipe[m.EmailLog]:
    to_email = f"learner-{_unique()}@example.com"
    if "user_id" not in fields:
        owner = yield from user({})
        fields = {"user_id": owner.id, **fields}
        to_email = owner.email
    defaults = {"to_email": to_email, "template": "welcome", "subject": "Welcome to CodeZest"}
    return (
        yield from _row(
            "notifications.email_logs",
            m.EmailLog,
            fields,
            defaults,
            "notifications.create_email_log",
        )
    )


# -- activity ------------------------------------------------------------------------------


def user_activity(fields: Fields) -> Recipe[m.UserActivity]:
    user_id = yield from _parent(fields, "user_id", user)
    defaults = {"user_id": user_id, "type": "login", "entity_type": None, "entity_id": None}
    return (
        yield from _row(
            "activity.user_activities",
            m.UserActivity,
            fields,
            defaults,
            "activity.record_activity",
        )
    )


def analytics_event(fields: Fields) -> Recipe[m.AnalyticsEvent]:
    # user_id may be null (an anonymous visitor): no user is made for it.
    defaults = {"name": "page_view", "properties": {"path": "/learn/python"}}
    return (yield from _row("activity.analytics_events", m.AnalyticsEvent, fields, defaults))
