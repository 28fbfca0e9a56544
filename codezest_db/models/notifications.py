"""Rows of the ``notifications`` schema."""

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

__all__ = ["EmailLog", "Notification", "NotificationPreference"]


class Notification(BaseModel, frozen=True, extra="forbid"):
    """A row of ``notifications.notifications``; unread while ``read_at`` is None."""

    id: UUID
    user_id: UUID
    type: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class NotificationPreference(BaseModel, frozen=True, extra="forbid"):
    """A row of ``notifications.notification_preferences``.

    ``channel`` is ``email``, ``in_app`` or ``push``; ``type`` None is the
    channel-wide default.
    """

    id: UUID
    user_id: UUID
    channel: str
    type: str | None
    enabled: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime


class EmailLog(BaseModel, frozen=True, extra="forbid"):
    """A row of ``notifications.email_logs``.

    ``status`` is ``queued``, ``sent``, ``delivered``, ``bounced`` or ``failed``.
    """

    id: UUID
    user_id: UUID | None
    to_email: str
    template: str
    subject: str
    status: str
    provider_message_id: str | None
    error: str | None
    sent_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
