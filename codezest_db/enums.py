"""The PostgreSQL enum types of the schema, as Python string enums.

Each class has the name of its Postgres type and the same values in the same
order; ``tests/test_schema.py`` compares them with the catalog.
"""

from enum import StrEnum

__all__ = [
    "AnalysisType",
    "Difficulty",
    "EnrollmentStatus",
    "InvoiceStatus",
    "MaterialType",
    "PaymentMethodType",
    "ProgressStatus",
    "Role",
    "SubmissionStatus",
    "SubscriptionPlan",
    "SubscriptionStatus",
    "TransactionStatus",
]


class Role(StrEnum):
    """``auth."Role"``: what a user may do on the platform."""

    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    ADMIN = "ADMIN"


class Difficulty(StrEnum):
    """``learning."Difficulty"``: how hard a module or assignment is."""

    BEGINNER = "BEGINNER"
    INTERMEDIATE = "INTERMEDIATE"
    ADVANCED = "ADVANCED"


class MaterialType(StrEnum):
    """``learning."MaterialType"``: the kind of a learning material."""

    VIDEO = "VIDEO"
    ARTICLE = "ARTICLE"
    CODE_EXAMPLE = "CODE_EXAMPLE"
    DOCUMENTATION = "DOCUMENTATION"


class SubmissionStatus(StrEnum):
    """``learning."SubmissionStatus"``: grading state of a submission."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"


class ProgressStatus(StrEnum):
    """``learning."ProgressStatus"``: progress through a module or material."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class EnrollmentStatus(StrEnum):
    """``learning."EnrollmentStatus"``: state of an enrollment in a language."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    DROPPED = "DROPPED"


class AnalysisType(StrEnum):
    """``learning."AnalysisType"``: who produced an analysis."""

    AI = "AI"
    MANUAL = "MANUAL"
    HYBRID = "HYBRID"


class SubscriptionPlan(StrEnum):
    """``payments."SubscriptionPlan"``: the plan a subscription is on."""

    FREE = "FREE"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


class SubscriptionStatus(StrEnum):
    """``payments."SubscriptionStatus"``: TRIALING and ACTIVE grant access."""

    TRIALING = "TRIALING"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class TransactionStatus(StrEnum):
    """``payments."TransactionStatus"``: outcome of a charge."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


class InvoiceStatus(StrEnum):
    """``payments."InvoiceStatus"``: lifecycle of an invoice."""

    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    UNCOLLECTIBLE = "UNCOLLECTIBLE"


class PaymentMethodType(StrEnum):
    """``payments."PaymentMethodType"``: the kind of a saved payment method."""

    CARD = "CARD"
    UPI = "UPI"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    WALLET = "WALLET"
