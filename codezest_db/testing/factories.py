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

from ._factories_async import (
    amake_analytics_event,
    amake_assignment,
    amake_assignment_analysis,
    amake_assignment_submission,
    amake_email_log,
    amake_email_verification,
    amake_invoice,
    amake_language_enrollment,
    amake_material,
    amake_material_progress,
    amake_mcq_answer,
    amake_mcq_attempt,
    amake_mcq_option,
    amake_mcq_question,
    amake_mcq_quiz,
    amake_module,
    amake_module_progress,
    amake_notification,
    amake_notification_preference,
    amake_oauth_account,
    amake_password_reset,
    amake_payment_method,
    amake_programming_language,
    amake_quiz_analysis,
    amake_session,
    amake_subscription,
    amake_transaction,
    amake_user,
    amake_user_activity,
    amake_user_profile,
)
from ._factories_sync import (
    make_analytics_event,
    make_assignment,
    make_assignment_analysis,
    make_assignment_submission,
    make_email_log,
    make_email_verification,
    make_invoice,
    make_language_enrollment,
    make_material,
    make_material_progress,
    make_mcq_answer,
    make_mcq_attempt,
    make_mcq_option,
    make_mcq_question,
    make_mcq_quiz,
    make_module,
    make_module_progress,
    make_notification,
    make_notification_preference,
    make_oauth_account,
    make_password_reset,
    make_payment_method,
    make_programming_language,
    make_quiz_analysis,
    make_session,
    make_subscription,
    make_transaction,
    make_user,
    make_user_activity,
    make_user_profile,
)

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

# Written once in _factories_async.py (the sync twin is generated): they are
# documented, and looked up, here.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
