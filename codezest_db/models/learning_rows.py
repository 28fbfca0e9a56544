"""Projections of the ``learning`` queries that are not table rows."""

from decimal import Decimal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

from codezest_db.enums import EnrollmentStatus

__all__ = ["DashboardEnrollmentRow", "LanguageWithModuleCountRow"]


class LanguageWithModuleCountRow(BaseModel, frozen=True, extra="forbid"):
    """A published language track of the catalogue with its number of live modules."""

    id: UUID
    slug: str
    name: str
    description: str | None
    icon_url: str | None
    is_published: bool
    module_count: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class DashboardEnrollmentRow(BaseModel, frozen=True, extra="forbid"):
    """One enrollment on a learner's dashboard, with the track and the progress made.

    ``progress_percent`` is the share (0 to 100) of the track's live materials the
    learner completed; a module counts as completed when all its live materials are.
    """

    id: UUID
    user_id: UUID
    language_id: UUID
    language_slug: str
    language_name: str
    language_icon_url: str | None
    status: EnrollmentStatus
    enrolled_at: AwareDatetime
    completed_at: AwareDatetime | None
    module_count: int
    completed_module_count: int
    progress_percent: Decimal
