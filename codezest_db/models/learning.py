"""Rows of the ``learning`` schema."""

from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel

from codezest_db.enums import (
    AnalysisType,
    Difficulty,
    EnrollmentStatus,
    MaterialType,
    ProgressStatus,
    SubmissionStatus,
)

__all__ = [
    "Assignment",
    "AssignmentAnalysis",
    "AssignmentSubmission",
    "LanguageEnrollment",
    "MCQAnswer",
    "MCQAttempt",
    "MCQOption",
    "MCQQuestion",
    "MCQQuiz",
    "Material",
    "MaterialProgress",
    "Module",
    "ModuleProgress",
    "ProgrammingLanguage",
    "QuizAnalysis",
]


class ProgrammingLanguage(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.programming_languages``: a language track."""

    id: UUID
    slug: str
    name: str
    description: str | None
    icon_url: str | None
    is_published: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class Module(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.modules``: a chapter of a language track."""

    id: UUID
    language_id: UUID
    slug: str
    title: str
    description: str | None
    position: int
    difficulty: Difficulty
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class Material(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.materials``: a video, article, example or doc page."""

    id: UUID
    module_id: UUID
    title: str
    type: MaterialType
    content: str | None
    url: str | None
    position: int
    duration_seconds: int | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class Assignment(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.assignments``: a graded coding exercise."""

    id: UUID
    module_id: UUID
    title: str
    description: str
    difficulty: Difficulty
    starter_code: str | None
    test_cases: list[Any]
    points: int
    position: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class MCQQuiz(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.mcq_quizzes``."""

    id: UUID
    module_id: UUID
    title: str
    description: str | None
    passing_score: int
    time_limit_seconds: int | None
    position: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None


class MCQQuestion(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.mcq_questions``."""

    id: UUID
    quiz_id: UUID
    prompt: str
    explanation: str | None
    position: int
    points: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class MCQOption(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.mcq_options``."""

    id: UUID
    question_id: UUID
    text: str
    is_correct: bool
    position: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class LanguageEnrollment(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.language_enrollments``."""

    id: UUID
    user_id: UUID
    language_id: UUID
    status: EnrollmentStatus
    enrolled_at: AwareDatetime
    completed_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ModuleProgress(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.module_progress``."""

    id: UUID
    user_id: UUID
    module_id: UUID
    status: ProgressStatus
    progress_percent: Decimal
    started_at: AwareDatetime | None
    completed_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class MaterialProgress(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.material_progress``."""

    id: UUID
    user_id: UUID
    material_id: UUID
    status: ProgressStatus
    completed_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class AssignmentSubmission(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.assignment_submissions``."""

    id: UUID
    user_id: UUID
    assignment_id: UUID
    code: str
    status: SubmissionStatus
    score: int | None
    test_results: dict[str, Any] | None
    feedback: str | None
    submitted_at: AwareDatetime
    graded_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class MCQAttempt(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.mcq_attempts``."""

    id: UUID
    user_id: UUID
    quiz_id: UUID
    score: int | None
    max_score: int | None
    passed: bool | None
    started_at: AwareDatetime
    finished_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class MCQAnswer(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.mcq_answers``."""

    id: UUID
    attempt_id: UUID
    question_id: UUID
    option_id: UUID
    created_at: AwareDatetime
    updated_at: AwareDatetime


class AssignmentAnalysis(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.assignment_analyses``."""

    id: UUID
    submission_id: UUID
    type: AnalysisType
    summary: str
    details: dict[str, Any]
    score: Decimal | None
    ai_model: str | None
    reviewer_id: UUID | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class QuizAnalysis(BaseModel, frozen=True, extra="forbid"):
    """A row of ``learning.quiz_analyses``."""

    id: UUID
    attempt_id: UUID
    type: AnalysisType
    summary: str
    details: dict[str, Any]
    ai_model: str | None
    reviewer_id: UUID | None
    created_at: AwareDatetime
    updated_at: AwareDatetime
