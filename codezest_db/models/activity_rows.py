"""Projections of the ``activity`` queries that are not table rows."""

import datetime

from pydantic import BaseModel

__all__ = ["EventCountRow"]


class EventCountRow(BaseModel, frozen=True, extra="forbid"):
    """How many analytics events of one name occurred on one (UTC) day."""

    name: str
    day: datetime.date
    count: int
