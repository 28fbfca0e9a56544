"""codezest-db: the CodeZest PostgreSQL schema, its named queries and pooled connections.

::

    import codezest_db as db
    from codezest_db import queries

    with db.transaction() as conn:
        user = queries.auth.create_user(
            conn, email="ada@example.com", password_hash="...", name="Ada", role="STUDENT"
        )
"""

from __future__ import annotations

from . import errors, queries
from .pool import close, configure, connection, pool_stats, transaction

__all__ = ["close", "configure", "connection", "errors", "pool_stats", "queries", "transaction"]

__version__ = "0.1.0"
