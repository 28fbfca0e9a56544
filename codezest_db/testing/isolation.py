"""Connections whose work is always undone: the ``conn`` and ``aconn`` of a test.

An isolated connection opens an outer transaction that nothing in the test
can end. Its ``commit()`` keeps the work done so far (it releases a savepoint
and takes a new one) and its ``rollback()`` undoes the work since the last
commit (back to that savepoint), so code that commits behaves as it would in
production, while the test's fixture rolls the outer transaction back at the
end. ``conn.transaction()`` blocks (and so ``codezest_db.transaction(conn)``)
are savepoints inside it, as psycopg nests them; ``commit()`` and
``rollback()`` inside one are refused, as psycopg refuses them.

Only SQL that ends the transaction itself (``conn.execute("commit")``) gets
out; `IsolatedConnection.discard` notices it and raises `IsolationBroken`.

Both classes are psycopg connections that override public methods only
(``commit``, ``rollback``, ``transaction``) and talk to the server through
``execute``. `AsyncIsolatedConnection` is written (``_isolation_async.py``);
`IsolatedConnection` is generated from it (``_isolation_sync.py``).
"""

from __future__ import annotations

from ._isolation import IsolationBroken
from ._isolation_async import AsyncIsolatedConnection
from ._isolation_sync import IsolatedConnection

__all__ = ["AsyncIsolatedConnection", "IsolatedConnection", "IsolationBroken"]

for _public in (AsyncIsolatedConnection, IsolatedConnection, IsolationBroken):
    _public.__module__ = __name__  # tracebacks and reprs show the public path
