"""Frozen Pydantic models of the rows of every table, one module per schema.

Field names are column names; a nullable column is ``X | None``.
"""

from codezest_db.models.activity import AnalyticsEvent, AnalyticsEventIn, UserActivity
from codezest_db.models.activity_rows import EventCountRow
from codezest_db.models.auth import (
    EmailVerification,
    OAuthAccount,
    PasswordReset,
    Session,
    User,
    UserCredentials,
    UserProfile,
)
from codezest_db.models.learning import (
    Assignment,
    AssignmentAnalysis,
    AssignmentSubmission,
    LanguageEnrollment,
    Material,
    MaterialProgress,
    MCQAnswer,
    MCQAttempt,
    MCQOption,
    MCQQuestion,
    MCQQuiz,
    Module,
    ModuleProgress,
    ProgrammingLanguage,
    QuizAnalysis,
)
from codezest_db.models.learning_rows import DashboardEnrollmentRow, LanguageWithModuleCountRow
from codezest_db.models.notifications import EmailLog, Notification, NotificationPreference
from codezest_db.models.payments import Invoice, PaymentMethod, Subscription, Transaction

__all__ = [
    "AnalyticsEvent",
    "AnalyticsEventIn",
    "Assignment",
    "AssignmentAnalysis",
    "AssignmentSubmission",
    "DashboardEnrollmentRow",
    "EmailLog",
    "EmailVerification",
    "EventCountRow",
    "Invoice",
    "LanguageEnrollment",
    "LanguageWithModuleCountRow",
    "MCQAnswer",
    "MCQAttempt",
    "MCQOption",
    "MCQQuestion",
    "MCQQuiz",
    "Material",
    "MaterialProgress",
    "Module",
    "ModuleProgress",
    "Notification",
    "NotificationPreference",
    "OAuthAccount",
    "PasswordReset",
    "PaymentMethod",
    "ProgrammingLanguage",
    "QuizAnalysis",
    "Session",
    "Subscription",
    "Transaction",
    "User",
    "UserActivity",
    "UserCredentials",
    "UserProfile",
]
