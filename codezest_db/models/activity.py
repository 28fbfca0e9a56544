"""Rows of the ``activity`` schema, and the input of bulk event ingest."""

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

__all__ = ["AnalyticsEvent", "AnalyticsEventIn", "UserActivity"]


class UserActivity(BaseModel, frozen=True, extra="forbid"):
    """A row of ``activity.user_activities``: one entry of a user's feed."""

    id: UUID
    user_id: UUID
    type: str
    entity_type: str | None
    entity_id: UUID | None
    metadata: dict[str, Any]
    created_at: AwareDatetime


class AnalyticsEvent(BaseModel, frozen=True, extra="forbid"):
    """A row of ``activity.analytics_events``."""

    id: UUID
    name: str
    user_id: UUID | None
    properties: dict[str, Any]
    occurred_at: AwareDatetime
    created_at: AwareDatetime


class AnalyticsEventIn(BaseModel, frozen=True, extra="forbid"):
    """One event for bulk ingest; ``occurred_at`` None means now."""

    name: str
    user_id: UUID | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: AwareDatetime | None = None
