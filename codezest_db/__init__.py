"""codezest-db: the CodeZest PostgreSQL schema, its named queries and pooled connections.

::

    import codezest_db as db
    from codezest_db import queries

    db.require_current()  # at start: raises errors.SchemaOutOfDate if migrations are pending
    with db.transaction() as conn:
        user = queries.auth.create_user(
            conn, email="ada@example.com", password_hash="...", name="Ada", role="STUDENT"
        )
"""

from __future__ import annotations

from . import errors, queries
from ._version import __version__ as __version__
from .pool import close, configure, connection, pool_stats, transaction
from .schema import pending_migrations, require_current

__all__ = [
    "close",
    "configure",
    "connection",
    "errors",
    "pending_migrations",
    "pool_stats",
    "queries",
    "require_current",
    "transaction",
]
