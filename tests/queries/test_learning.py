"""Every learning query, against a real migrated database."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from codezest_db import aio, errors, queries
from codezest_db.enums import (
    AnalysisType,
    Difficulty,
    EnrollmentStatus,
    MaterialType,
    ProgressStatus,
    SubmissionStatus,
)
from codezest_db.models import (
    Assignment,
    AssignmentAnalysis,
    AssignmentSubmission,
    DashboardEnrollmentRow,
    LanguageEnrollment,
    LanguageWithModuleCountRow,
    Material,
    MCQAnswer,
    MCQAttempt,
    MCQOption,
    MCQQuestion,
    MCQQuiz,
    Module,
    ModuleProgress,
    ProgrammingLanguage,
    QuizAnalysis,
)
from tests.conftest import run_async

Conn = psycopg.Connection[Any]
learning = queries.learning


def slug(prefix: str = "lang") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_language(conn: Conn, **fields: Any) -> ProgrammingLanguage:
    values = {"slug": slug(), "name": "Python", **fields}
    language: ProgrammingLanguage = learning.create_language(conn, **values)
    return language


def make_module(conn: Conn, language_id: uuid.UUID, **fields: Any) -> Module:
    values = {
        "language_id": language_id,
        "slug": slug("mod"),
        "title": "Basics",
        "position": 0,
        "difficulty": Difficulty.BEGINNER,
        **fields,
    }
    module: Module = learning.create_module(conn, **values)
    return module


def make_material(conn: Conn, module_id: uuid.UUID, position: int = 0) -> Material:
    material: Material = learning.create_material(
        conn,
        module_id=module_id,
        title=f"Lesson {position}",
        type=MaterialType.ARTICLE,
        content="# Hello",
        position=position,
    )
    return material


def make_assignment(conn: Conn, module_id: uuid.UUID, **fields: Any) -> Assignment:
    values = {
        "module_id": module_id,
        "title": "FizzBuzz",
        "description": "Print 1 to 100, mostly.",
        "difficulty": Difficulty.BEGINNER,
        "points": 10,
        **fields,
    }
    assignment: Assignment = learning.create_assignment(conn, **values)
    return assignment


@pytest.fixture
def module(conn: Conn) -> Module:
    return make_module(conn, make_language(conn).id)


def run_threads(count: int, target: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# Catalogue -------------------------------------------------------------------


def test_languages_create_list_get_and_update(conn: Conn) -> None:
    python = make_language(conn, name="Python", description="Snakes")
    assert isinstance(python, ProgrammingLanguage)
    assert python.is_published
    assert python.icon_url is None
    assert python.deleted_at is None
    draft = make_language(conn, name="Zig", is_published=False, icon_url="https://x/zig.svg")
    assert not draft.is_published
    listed = [lang.id for lang in learning.list_languages(conn)]
    assert python.id in listed
    assert draft.id in listed
    assert learning.get_language_by_slug(conn, slug=python.slug) == python
    assert learning.get_language_by_slug(conn, slug="no-such-track") is None
    patched = learning.update_language(conn, id=draft.id, is_published=True, name="Zig!")
    assert patched is not None
    assert (patched.name, patched.is_published, patched.icon_url) == ("Zig!", True, draft.icon_url)
    assert learning.update_language(conn, id=uuid.uuid4(), name="x") is None
    with pytest.raises(errors.AlreadyExists) as caught, conn.transaction():
        make_language(conn, slug=python.slug)
    assert caught.value.constraint == "programming_languages_slug_key"


def test_catalogue_counts_live_modules_of_published_tracks(conn: Conn) -> None:
    track = make_language(conn)
    draft = make_language(conn, is_published=False)
    empty = make_language(conn)
    make_module(conn, track.id, position=0)
    make_module(conn, track.id, position=1)
    retired = make_module(conn, track.id, position=2)
    make_module(conn, draft.id)
    learning.soft_delete_module(conn, id=retired.id)
    rows = {row.id: row for row in learning.list_languages_with_module_counts(conn)}
    assert isinstance(rows[track.id], LanguageWithModuleCountRow)
    assert rows[track.id].module_count == 2
    assert rows[track.id].slug == track.slug
    assert rows[empty.id].module_count == 0
    assert draft.id not in rows


def test_modules_are_listed_by_position(conn: Conn) -> None:
    language = make_language(conn)
    third = make_module(conn, language.id, position=2, title="Classes")
    first = make_module(conn, language.id, position=0, description="Start here")
    second = make_module(conn, language.id, position=1, difficulty=Difficulty.INTERMEDIATE)
    assert [m.id for m in learning.list_modules(conn, language_id=language.id)] == [
        first.id,
        second.id,
        third.id,
    ]
    assert first.description == "Start here"
    assert second.difficulty is Difficulty.INTERMEDIATE
    assert learning.get_module(conn, id=first.id) == first
    assert learning.get_module_by_slug(conn, language_id=language.id, slug=third.slug) == third
    assert learning.get_module_by_slug(conn, language_id=uuid.uuid4(), slug=third.slug) is None
    moved = learning.update_module(conn, id=third.id, position=0, difficulty="ADVANCED")
    assert moved is not None
    assert (moved.position, moved.difficulty, moved.title) == (0, Difficulty.ADVANCED, "Classes")
    assert learning.update_module(conn, id=uuid.uuid4(), title="x") is None
    with pytest.raises(errors.AlreadyExists) as caught, conn.transaction():
        make_module(conn, language.id, slug=first.slug)
    assert caught.value.constraint == "modules_language_id_slug_key"
    with pytest.raises(errors.MissingReference), conn.transaction():
        make_module(conn, uuid.uuid4())


def test_materials_in_position_order(conn: Conn, module: Module) -> None:
    late = make_material(conn, module.id, position=1)
    early = learning.create_material(
        conn,
        module_id=module.id,
        title="Intro video",
        type="VIDEO",
        url="https://videos.example/intro",
        duration_seconds=300,
    )
    assert early.position == 0
    assert early.content is None
    assert early.type is MaterialType.VIDEO
    assert learning.list_materials(conn, module_id=module.id) == [early, late]
    patched = learning.update_material(conn, id=late.id, title="Lesson one", duration_seconds=60)
    assert patched is not None
    assert (patched.title, patched.duration_seconds, patched.content) == (
        "Lesson one",
        60,
        "# Hello",
    )
    assert learning.update_material(conn, id=uuid.uuid4(), title="x") is None
    with pytest.raises(errors.ConstraintViolation), conn.transaction():
        learning.create_material(conn, module_id=module.id, title="Empty", type="ARTICLE")


def test_assignments_in_position_order(conn: Conn, module: Module) -> None:
    cases = [{"input": "3", "expected": "Fizz", "hidden": False}]
    second = make_assignment(conn, module.id, position=1, test_cases=Jsonb(cases))
    first = make_assignment(conn, module.id, title="Hello", starter_code="print()")
    assert second.test_cases == cases
    assert first.test_cases == []
    assert first.position == 0
    assert learning.list_assignments(conn, module_id=module.id) == [first, second]
    assert learning.get_assignment(conn, id=second.id) == second
    patched = learning.update_assignment(
        conn, id=first.id, points=25, test_cases=Jsonb([{"input": "", "expected": "hi"}])
    )
    assert patched is not None
    assert (patched.points, patched.starter_code) == (25, "print()")
    assert patched.test_cases == [{"input": "", "expected": "hi"}]
    assert learning.update_assignment(conn, id=uuid.uuid4(), points=1) is None


def test_quizzes_questions_and_options(conn: Conn, module: Module) -> None:
    later = learning.create_quiz(
        conn, module_id=module.id, title="Recap", passing_score=1, position=1
    )
    quiz = learning.create_quiz(
        conn, module_id=module.id, title="Check", passing_score=2, time_limit_seconds=600
    )
    assert isinstance(quiz, MCQQuiz)
    assert quiz.position == 0
    assert quiz.description is None
    assert learning.list_quizzes(conn, module_id=module.id) == [quiz, later]
    assert learning.get_quiz(conn, id=later.id) == later
    patched = learning.update_quiz(conn, id=quiz.id, passing_score=3, description="Warm-up")
    assert patched is not None
    assert (patched.passing_score, patched.description, patched.time_limit_seconds) == (
        3,
        "Warm-up",
        600,
    )
    assert learning.update_quiz(conn, id=uuid.uuid4(), title="x") is None
    q2 = learning.create_question(conn, quiz_id=quiz.id, prompt="Second?", position=1, points=2)
    q1 = learning.create_question(
        conn, quiz_id=quiz.id, prompt="First?", position=0, points=1, explanation="Because."
    )
    assert isinstance(q1, MCQQuestion)
    assert q1.explanation == "Because."
    assert q2.explanation is None
    assert learning.list_questions(conn, quiz_id=quiz.id) == [q1, q2]
    b2 = learning.create_option(conn, question_id=q2.id, text="b", is_correct=False, position=1)
    a2 = learning.create_option(conn, question_id=q2.id, text="a", is_correct=True)
    a1 = learning.create_option(conn, question_id=q1.id, text="yes", is_correct=True)
    assert isinstance(a1, MCQOption)
    assert a1.position == 0
    assert learning.list_quiz_options(conn, quiz_id=quiz.id) == [a1, a2, b2]


def test_soft_deletes_hide_rows_and_cascade(conn: Conn) -> None:
    language = make_language(conn)
    module = make_module(conn, language.id)
    material = make_material(conn, module.id)
    assignment = make_assignment(conn, module.id)
    quiz = learning.create_quiz(conn, module_id=module.id, title="Q", passing_score=0)
    # One at a time: gone from lists and lookups, and only deleted once.
    assert learning.soft_delete_material(conn, id=material.id) == 1
    assert learning.soft_delete_material(conn, id=material.id) == 0
    assert learning.update_material(conn, id=material.id, title="x") is None
    assert learning.soft_delete_assignment(conn, id=assignment.id) == 1
    assert learning.soft_delete_assignment(conn, id=assignment.id) == 0
    assert learning.get_assignment(conn, id=assignment.id) is None
    assert learning.soft_delete_quiz(conn, id=quiz.id) == 1
    assert learning.soft_delete_quiz(conn, id=quiz.id) == 0
    assert learning.get_quiz(conn, id=quiz.id) is None
    assert learning.list_materials(conn, module_id=module.id) == []
    assert learning.list_assignments(conn, module_id=module.id) == []
    assert learning.list_quizzes(conn, module_id=module.id) == []
    # A module takes its contents along.
    material = make_material(conn, module.id)
    assignment = make_assignment(conn, module.id)
    assert learning.soft_delete_module(conn, id=module.id) == 1
    assert learning.soft_delete_module(conn, id=module.id) == 0
    assert learning.get_module(conn, id=module.id) is None
    assert learning.get_module_by_slug(conn, language_id=language.id, slug=module.slug) is None
    assert learning.list_modules(conn, language_id=language.id) == []
    assert learning.update_module(conn, id=module.id, title="x") is None
    assert learning.get_assignment(conn, id=assignment.id) is None
    assert make_module(conn, language.id, slug=module.slug).id != module.id  # slug is free again
    # A language takes everything along.
    live = make_module(conn, language.id, slug=slug("live"))
    live_material = make_material(conn, live.id)
    live_quiz = learning.create_quiz(conn, module_id=live.id, title="Q", passing_score=0)
    assert learning.soft_delete_language(conn, id=language.id) == 1
    assert learning.soft_delete_language(conn, id=language.id) == 0
    assert learning.get_language_by_slug(conn, slug=language.slug) is None
    assert language.id not in {lang.id for lang in learning.list_languages(conn)}
    assert language.id not in {r.id for r in learning.list_languages_with_module_counts(conn)}
    assert learning.update_language(conn, id=language.id, name="x") is None
    assert learning.list_modules(conn, language_id=language.id) == []
    assert learning.list_materials(conn, module_id=live.id) == []
    assert learning.get_quiz(conn, id=live_quiz.id) is None
    assert (
        learning.complete_material(conn, user_id=uuid.uuid4(), material_id=live_material.id) is None
    )


# Enrollments, progress and the dashboard -------------------------------------


def test_enroll_user_is_idempotent_and_status_changes(conn: Conn) -> None:
    language = make_language(conn)
    user_id = uuid.uuid4()
    first = learning.enroll_user(conn, user_id=user_id, language_id=language.id)
    assert isinstance(first, LanguageEnrollment)
    assert first.status is EnrollmentStatus.ACTIVE
    assert first.completed_at is None
    again = learning.enroll_user(conn, user_id=user_id, language_id=language.id)
    assert (again.id, again.status, again.enrolled_at) == (
        first.id,
        first.status,
        first.enrolled_at,
    )
    assert learning.get_enrollment(conn, user_id=user_id, language_id=language.id) == again
    assert learning.get_enrollment(conn, user_id=uuid.uuid4(), language_id=language.id) is None

    done = learning.update_enrollment_status(
        conn, user_id=user_id, language_id=language.id, status=EnrollmentStatus.COMPLETED
    )
    assert done is not None
    assert done.completed_at is not None
    kept = learning.enroll_user(conn, user_id=user_id, language_id=language.id)
    assert (kept.status, kept.completed_at) == (EnrollmentStatus.COMPLETED, done.completed_at)
    dropped = learning.update_enrollment_status(
        conn, user_id=user_id, language_id=language.id, status="DROPPED"
    )
    assert dropped is not None
    assert dropped.status is EnrollmentStatus.DROPPED
    assert dropped.completed_at is None
    back = learning.enroll_user(conn, user_id=user_id, language_id=language.id)
    assert (back.id, back.status) == (first.id, EnrollmentStatus.ACTIVE)
    count = conn.execute(
        "select count(*) from learning.language_enrollments where user_id = %s", (user_id,)
    ).fetchone()
    assert count == (1,)
    assert (
        learning.update_enrollment_status(
            conn, user_id=uuid.uuid4(), language_id=language.id, status="ACTIVE"
        )
        is None
    )
    with pytest.raises(errors.MissingReference), conn.transaction():
        learning.enroll_user(conn, user_id=user_id, language_id=uuid.uuid4())


def test_enroll_user_race_makes_one_row(configured: str) -> None:
    """Twelve threads, each on its own connection, enroll the same learner at once."""
    with psycopg.connect(configured, autocommit=True) as setup:
        language = make_language(setup)
    user_id = uuid.uuid4()
    barrier = threading.Barrier(12)
    results: list[LanguageEnrollment] = []
    lock = threading.Lock()

    def enroll() -> None:
        with psycopg.connect(configured) as own:
            barrier.wait()
            got = learning.enroll_user(own, user_id=user_id, language_id=language.id)
            own.commit()
        with lock:
            results.append(got)

    run_threads(12, enroll)
    assert len(results) == 12
    assert len({r.id for r in results}) == 1
    with psycopg.connect(configured) as check:
        rows = check.execute(
            "select id from learning.language_enrollments where user_id = %s", (user_id,)
        ).fetchall()
    assert rows == [(results[0].id,)]


def test_complete_material_recomputes_module_progress(conn: Conn, module: Module) -> None:
    user_id = uuid.uuid4()
    materials = [make_material(conn, module.id, position=i) for i in range(3)]
    retired = make_material(conn, module.id, position=3)
    learning.soft_delete_material(conn, id=retired.id)
    assert learning.complete_material(conn, user_id=user_id, material_id=retired.id) is None
    assert learning.complete_material(conn, user_id=user_id, material_id=uuid.uuid4()) is None

    third = learning.complete_material(conn, user_id=user_id, material_id=materials[1].id)
    assert isinstance(third, ModuleProgress)
    assert (third.status, third.progress_percent) == (ProgressStatus.IN_PROGRESS, Decimal("33.33"))
    assert third.started_at is not None
    assert third.completed_at is None
    same = learning.complete_material(conn, user_id=user_id, material_id=materials[1].id)
    assert (same.id, same.progress_percent) == (third.id, Decimal("33.33"))
    learning.complete_material(conn, user_id=user_id, material_id=materials[0].id)
    full = learning.complete_material(conn, user_id=user_id, material_id=materials[2].id)
    assert (full.status, full.progress_percent) == (ProgressStatus.COMPLETED, Decimal("100.00"))
    assert full.completed_at is not None
    assert full.id == third.id

    marks = learning.list_material_progress(conn, user_id=user_id, module_id=module.id)
    assert [p.material_id for p in marks] == [m.id for m in materials]
    assert all(p.status is ProgressStatus.COMPLETED and p.completed_at for p in marks)
    assert learning.list_module_progress(conn, user_id=user_id, language_id=module.language_id) == [
        full
    ]
    # Another learner's progress is their own.
    other = learning.complete_material(conn, user_id=uuid.uuid4(), material_id=materials[0].id)
    assert other.progress_percent == Decimal("33.33")


def test_learner_dashboard_in_one_round_trip(conn: Conn) -> None:
    user_id = uuid.uuid4()
    python, rust, gone = make_language(conn), make_language(conn), make_language(conn)
    intro, advanced = make_module(conn, python.id), make_module(conn, python.id, position=1)
    make_module(conn, python.id, position=2)  # no materials yet
    intro_materials = [make_material(conn, intro.id, position=i) for i in range(2)]
    advanced_materials = [make_material(conn, advanced.id, position=i) for i in range(2)]
    for material in [*intro_materials, advanced_materials[0]]:
        learning.complete_material(conn, user_id=user_id, material_id=material.id)
    for language in (python, rust, gone):
        learning.enroll_user(conn, user_id=user_id, language_id=language.id)
    learning.update_enrollment_status(conn, user_id=user_id, language_id=rust.id, status="DROPPED")
    learning.soft_delete_language(conn, id=gone.id)
    learning.enroll_user(conn, user_id=uuid.uuid4(), language_id=python.id)

    rows = {row.language_id: row for row in learning.get_learner_dashboard(conn, user_id=user_id)}
    assert set(rows) == {python.id, rust.id}
    py = rows[python.id]
    assert isinstance(py, DashboardEnrollmentRow)
    assert (py.language_slug, py.language_name, py.user_id) == (python.slug, "Python", user_id)
    assert (py.module_count, py.completed_module_count) == (3, 1)
    assert py.progress_percent == Decimal("75.00")
    assert py.status is EnrollmentStatus.ACTIVE
    assert (rows[rust.id].status, rows[rust.id].module_count) == (EnrollmentStatus.DROPPED, 0)
    assert rows[rust.id].progress_percent == 0
    assert learning.get_learner_dashboard(conn, user_id=uuid.uuid4()) == []


# Submissions -----------------------------------------------------------------


def test_submission_grading_history_and_best(conn: Conn, module: Module) -> None:
    conn.execute("delete from learning.assignment_submissions")  # the queue is ours
    assignment = make_assignment(conn, module.id)
    user_id = uuid.uuid4()
    made = [
        learning.create_submission(
            conn, user_id=user_id, assignment_id=assignment.id, code=f"print({i})"
        )
        for i in range(4)
    ]
    assert all(s.status is SubmissionStatus.PENDING and s.score is None for s in made)
    assert isinstance(made[0], AssignmentSubmission)

    claimed = learning.claim_pending_submission(conn)
    assert claimed is not None
    assert claimed.status is SubmissionStatus.RUNNING
    assert claimed.graded_at is None
    graded = learning.grade_submission(
        conn,
        id=claimed.id,
        status=SubmissionStatus.PASSED,
        score=7,
        test_results={"passed": 7, "total": 10},
        feedback="Nearly.",
    )
    assert graded is not None
    assert graded.graded_at is not None
    assert (graded.score, graded.test_results, graded.feedback) == (
        7,
        {"passed": 7, "total": 10},
        "Nearly.",
    )
    others = [s for s in made if s.id != claimed.id]
    learning.grade_submission(conn, id=others[1].id, status="FAILED", score=3)
    learning.grade_submission(conn, id=others[2].id, status="PASSED", score=7)
    running = learning.grade_submission(conn, id=others[0].id, status="RUNNING", score=None)
    assert running is not None
    assert running.graded_at is None
    assert learning.grade_submission(conn, id=uuid.uuid4(), status="ERROR", score=None) is None
    assert learning.get_submission(conn, id=graded.id) == graded
    assert learning.get_submission(conn, id=uuid.uuid4()) is None

    best = learning.get_best_submission(conn, user_id=user_id, assignment_id=assignment.id)
    assert best is not None
    assert best.score == 7
    assert best.id == min(claimed.id, others[2].id)  # equal scores and submitted_at: lower id
    assert (
        learning.get_best_submission(conn, user_id=uuid.uuid4(), assignment_id=assignment.id)
        is None
    )

    # Made in one transaction: same submitted_at, so pages follow the id.
    page_one = learning.list_submissions(
        conn, user_id=user_id, assignment_id=assignment.id, limit=3
    )
    last = page_one[-1]
    page_two = learning.list_submissions(
        conn,
        user_id=user_id,
        assignment_id=assignment.id,
        limit=3,
        before=last.submitted_at,
        before_id=last.id,
    )
    assert [s.id for s in page_one + page_two] == sorted((s.id for s in made), reverse=True)
    assert learning.claim_pending_submission(conn) is None


def test_claim_pending_submission_never_hands_out_twice(configured: str) -> None:
    with psycopg.connect(configured, autocommit=True) as setup:
        module = make_module(setup, make_language(setup).id)
        assignment = make_assignment(setup, module.id)
        mine = {
            learning.create_submission(
                setup, user_id=uuid.uuid4(), assignment_id=assignment.id, code="x"
            ).id
            for _ in range(6)
        }
    barrier = threading.Barrier(8)
    claimed: list[uuid.UUID] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        # Bounded: a claim that does not stick would hand out rows forever.
        for _ in range(10_000):
            got = learning.claim_pending_submission()
            if got is None:
                return
            with lock:
                claimed.append(got.id)
        raise AssertionError("claim_pending_submission never ran out of rows")

    run_threads(8, work)
    assert len(claimed) == len(set(claimed))
    assert mine <= set(claimed)


# Quizzes ---------------------------------------------------------------------


def build_quiz(conn: Conn, module_id: uuid.UUID) -> tuple[MCQQuiz, list[tuple[Any, Any, Any]]]:
    """A quiz worth 10 points (3 + 2 + 4 + 1), passing at 5; (question, right, wrong) each."""
    quiz = learning.create_quiz(conn, module_id=module_id, title="Basics", passing_score=5)
    parts = []
    for position, points in enumerate((3, 2, 4, 1)):
        question = learning.create_question(
            conn, quiz_id=quiz.id, prompt=f"Q{position}?", position=position, points=points
        )
        right = learning.create_option(conn, question_id=question.id, text="right", is_correct=True)
        wrong = learning.create_option(
            conn, question_id=question.id, text="wrong", is_correct=False
        )
        parts.append((question, right, wrong))
    return quiz, parts


def test_quiz_attempt_is_scored_in_sql(conn: Conn, module: Module) -> None:
    quiz, parts = build_quiz(conn, module.id)
    user_id = uuid.uuid4()
    attempt = learning.start_quiz_attempt(conn, user_id=user_id, quiz_id=quiz.id)
    assert isinstance(attempt, MCQAttempt)
    assert (attempt.score, attempt.max_score, attempt.passed, attempt.finished_at) == (
        None,
        None,
        None,
        None,
    )
    (q0, r0, w0), (q1, _r1, w1), (q2, r2, _w2), _unanswered = parts

    def answer(question: Any, option: Any) -> MCQAnswer | None:
        got: MCQAnswer | None = learning.record_answer(
            conn, attempt_id=attempt.id, question_id=question.id, option_id=option.id
        )
        return got

    first = answer(q0, w0)
    changed = answer(q0, r0)  # a changed mind replaces the answer
    assert first is not None
    assert changed is not None
    assert (changed.id, changed.option_id) == (first.id, r0.id)
    answer(q1, w1)
    answer(q2, r2)
    assert [a.question_id for a in learning.list_attempt_answers(conn, attempt_id=attempt.id)] == [
        q0.id,
        q1.id,
        q2.id,
    ]
    with pytest.raises(errors.MissingReference), conn.transaction():
        answer(q1, r0)  # an option of another question

    other_quiz, other_parts = build_quiz(conn, module.id)
    assert answer(other_parts[0][0], other_parts[0][1]) is None  # not in this quiz

    finished = learning.finish_quiz_attempt(conn, id=attempt.id)
    assert finished is not None
    assert (finished.score, finished.max_score, finished.passed) == (7, 10, True)
    assert finished.finished_at is not None
    assert learning.finish_quiz_attempt(conn, id=attempt.id) == finished
    assert learning.get_attempt(conn, id=attempt.id) == finished
    assert answer(q1, parts[1][1]) is None  # a finished attempt takes no answers
    assert learning.finish_quiz_attempt(conn, id=attempt.id) == finished
    assert learning.finish_quiz_attempt(conn, id=uuid.uuid4()) is None
    assert learning.get_attempt(conn, id=uuid.uuid4()) is None

    failed = learning.start_quiz_attempt(conn, user_id=user_id, quiz_id=quiz.id)
    learning.record_answer(conn, attempt_id=failed.id, question_id=q2.id, option_id=r2.id)
    result = learning.finish_quiz_attempt(conn, id=failed.id)
    assert result is not None
    assert (result.score, result.passed) == (4, False)
    empty = learning.start_quiz_attempt(conn, user_id=user_id, quiz_id=other_quiz.id)
    nothing = learning.finish_quiz_attempt(conn, id=empty.id)
    assert nothing is not None
    assert (nothing.score, nothing.max_score) == (0, 10)

    page_one = learning.list_attempts(conn, user_id=user_id, quiz_id=quiz.id, limit=1)
    page_two = learning.list_attempts(
        conn,
        user_id=user_id,
        quiz_id=quiz.id,
        limit=5,
        before=page_one[0].started_at,
        before_id=page_one[0].id,
    )
    assert [a.id for a in page_one + page_two] == sorted([attempt.id, failed.id], reverse=True)


def test_finish_quiz_attempt_race_changes_nothing(configured: str) -> None:
    """Twelve threads finish the same attempt at once: one result, written once."""
    with psycopg.connect(configured, autocommit=True) as setup:
        module = make_module(setup, make_language(setup).id)
        quiz, parts = build_quiz(setup, module.id)
        attempt = learning.start_quiz_attempt(setup, user_id=uuid.uuid4(), quiz_id=quiz.id)
        for question, right, wrong in parts[:3]:
            chosen = wrong if question.points == 2 else right
            learning.record_answer(
                setup, attempt_id=attempt.id, question_id=question.id, option_id=chosen.id
            )
    barrier = threading.Barrier(12)
    results: list[MCQAttempt | None] = []
    lock = threading.Lock()

    def finish() -> None:
        with psycopg.connect(configured) as own:
            barrier.wait()
            got = learning.finish_quiz_attempt(own, id=attempt.id)
            own.commit()
        with lock:
            results.append(got)

    run_threads(12, finish)
    assert len(results) == 12
    assert all(r is not None for r in results)
    # Each caller committed its own transaction: had any of them written again,
    # finished_at and updated_at (now() of that transaction) would differ.
    assert len(set(results)) == 1
    final = learning.get_attempt(id=attempt.id)
    assert final == results[0]
    assert final is not None
    assert (final.score, final.max_score, final.passed) == (7, 10, True)


# Analyses --------------------------------------------------------------------


def test_attach_and_read_analyses(conn: Conn, module: Module) -> None:
    assignment = make_assignment(conn, module.id)
    submission = learning.create_submission(
        conn, user_id=uuid.uuid4(), assignment_id=assignment.id, code="print('hi')"
    )
    ai = learning.create_assignment_analysis(
        conn,
        submission_id=submission.id,
        type=AnalysisType.AI,
        summary="Clean code.",
        details={"issues": [], "suggestions": ["add tests"]},
        score=Decimal("87.5"),
        ai_model="gpt-x",
    )
    manual = learning.create_assignment_analysis(
        conn,
        submission_id=submission.id,
        type="MANUAL",
        summary="Agreed.",
        reviewer_id=uuid.uuid4(),
    )
    assert isinstance(ai, AssignmentAnalysis)
    assert ai.score == Decimal("87.50")
    assert manual.details == {}
    assert manual.score is None
    assert manual.ai_model is None
    assert learning.list_assignment_analyses(conn, submission_id=submission.id) == sorted(
        [ai, manual], key=lambda a: (a.created_at, a.id)
    )
    with pytest.raises(errors.ConstraintViolation), conn.transaction():
        learning.create_assignment_analysis(
            conn, submission_id=submission.id, type="AI", summary="x", score=101
        )

    quiz, _ = build_quiz(conn, module.id)
    attempt = learning.start_quiz_attempt(conn, user_id=uuid.uuid4(), quiz_id=quiz.id)
    analysis = learning.create_quiz_analysis(
        conn,
        attempt_id=attempt.id,
        type=AnalysisType.HYBRID,
        summary="Revise loops.",
        details={"weak_topics": ["loops"]},
        ai_model="gpt-x",
        reviewer_id=uuid.uuid4(),
    )
    assert isinstance(analysis, QuizAnalysis)
    assert analysis.details == {"weak_topics": ["loops"]}
    assert learning.list_quiz_analyses(conn, attempt_id=attempt.id) == [analysis]
    assert learning.list_quiz_analyses(conn, attempt_id=uuid.uuid4()) == []
    with pytest.raises(errors.MissingReference), conn.transaction():
        learning.create_quiz_analysis(conn, attempt_id=uuid.uuid4(), type="AI", summary="x")


# Async twins -----------------------------------------------------------------


def test_async_twins(configured: str) -> None:
    alearning = aio.queries.learning
    user_id = uuid.uuid4()

    async def main() -> None:
        async with aio.transaction() as conn:
            language = await alearning.create_language(conn, slug=slug(), name="Go")
            module = await alearning.create_module(
                conn,
                language_id=language.id,
                slug="intro",
                title="Intro",
                position=0,
                difficulty="BEGINNER",
            )
            material = await alearning.create_material(
                conn, module_id=module.id, title="Read me", type="ARTICLE", content="..."
            )
            assert await alearning.list_modules(conn, language_id=language.id) == [module]
            quiz = await alearning.create_quiz(
                conn, module_id=module.id, title="Q", passing_score=1
            )
            question = await alearning.create_question(
                conn, quiz_id=quiz.id, prompt="?", position=0, points=1
            )
            option = await alearning.create_option(
                conn, question_id=question.id, text="yes", is_correct=True
            )
            assignment = await alearning.create_assignment(
                conn,
                module_id=module.id,
                title="T",
                description="D",
                difficulty="BEGINNER",
                points=5,
            )
        # Without a connection: each call borrows from the asyncio pool and commits.
        enrolled = await asyncio.gather(
            *(alearning.enroll_user(user_id=user_id, language_id=language.id) for _ in range(4))
        )
        assert len({e.id for e in enrolled}) == 1
        progress = await alearning.complete_material(user_id=user_id, material_id=material.id)
        assert progress.status is ProgressStatus.COMPLETED
        [row] = await alearning.get_learner_dashboard(user_id=user_id)
        assert (row.language_id, row.progress_percent) == (language.id, Decimal("100.00"))
        attempt = await alearning.start_quiz_attempt(user_id=user_id, quiz_id=quiz.id)
        await alearning.record_answer(
            attempt_id=attempt.id, question_id=question.id, option_id=option.id
        )
        finished = await asyncio.gather(
            *(alearning.finish_quiz_attempt(id=attempt.id) for _ in range(3))
        )
        assert len(set(finished)) == 1
        assert finished[0].passed is True
        submission = await alearning.create_submission(
            user_id=user_id, assignment_id=assignment.id, code="x"
        )
        graded = await alearning.grade_submission(id=submission.id, status="PASSED", score=5)
        assert graded.score == 5
        history = await alearning.list_submissions(
            user_id=user_id, assignment_id=assignment.id, limit=10
        )
        assert [s.id for s in history] == [submission.id]
        assert await alearning.soft_delete_language(id=language.id) == 1
        assert await alearning.get_language_by_slug(slug=language.slug) is None

    run_async(main())
