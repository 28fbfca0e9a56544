"""Every query the loader classes as a read runs on a read-only hot standby.

The loader decides from the SQL which calls a replica may answer
(`codezest_db._query.parse.reads_only`); a write sent there would fail with
SQLSTATE 25006 (read-only transaction). Each read is run on the session's real
replica with a value of the right type for every parameter.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from codezest_db import errors, queries
from codezest_db._query.parse import load_specs
from codezest_db._query.signatures import ENUMS, PARAMS
from codezest_db.testing.servers import Replica

SAMPLES: dict[str, Any] = {
    "uuid": uuid.UUID(int=1),
    "int2": 1,
    "int4": 1,
    "int8": 1,
    "numeric": 1,
    "bool": True,
    "timestamptz": datetime(2026, 1, 1, tzinfo=UTC),
    "date": datetime(2026, 1, 1).date(),
    "jsonb": {},
    "array": [],
}
READS = sorted(spec.qualname for specs in load_specs().values() for spec in specs if spec.reads)


def sample(pg_type: str) -> Any:
    if pg_type.startswith("enum:"):
        return ENUMS[pg_type.removeprefix("enum:")][0]
    return SAMPLES.get(pg_type, "x")


def test_reads_are_found() -> None:
    assert len(READS) > 40
    assert "auth.get_user_by_email" in READS
    assert "auth.create_user" not in READS and "notifications.list_queued_emails" not in READS


@pytest.mark.parametrize("qualname", READS)
def test_every_read_runs_on_the_replica(replica: Replica, qualname: str) -> None:
    domain, name = qualname.split(".")
    fn = getattr(getattr(queries, domain), name)
    params = {param: sample(kind) for param, (kind, _) in PARAMS[qualname].items()}
    with psycopg.connect(replica.url) as conn:
        assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
        failure: errors.DatabaseError | None = None
        try:
            fn(conn, **params)
        except errors.DatabaseError as exc:  # no data to find is fine; a write is not
            failure = exc
    assert failure is None or failure.sqlstate != "25006", f"{qualname} writes: {failure}"


def test_a_write_is_refused_there(replica: Replica) -> None:
    """The control: the replica really is read-only, and says so with 25006."""
    with psycopg.connect(replica.url) as conn, pytest.raises(errors.DatabaseError) as caught:
        queries.learning.create_language(conn, slug="x", name="X")
    assert caught.value.sqlstate == "25006"
