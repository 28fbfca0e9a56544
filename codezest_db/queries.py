"""The named queries of every domain, as sync functions.

::

    from codezest_db import queries

    user = queries.auth.get_user_by_email(email="ada@example.com")  # borrows and commits
    with codezest_db.connection() as conn:
        user = queries.auth.get_user_by_email(conn, email="ada@example.com")

Each function takes an optional connection (positional) and keyword-only
parameters; one row comes back as a model or None, many as a list of models,
a value as itself, a statement without rows as its row count. The SQL lives in
``queries/<domain>.sql``; the asyncio twins are `codezest_db.aio.queries`.
"""

from __future__ import annotations

from ._loader import Domain, load_sync_queries

__all__ = ["activity", "auth", "learning", "notifications", "payments"]

_domains = load_sync_queries()

auth: Domain = _domains["auth"]
learning: Domain = _domains["learning"]
payments: Domain = _domains["payments"]
notifications: Domain = _domains["notifications"]
activity: Domain = _domains["activity"]
