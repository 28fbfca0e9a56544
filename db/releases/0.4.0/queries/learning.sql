-- Learning: the catalogue, enrollments, progress, submissions and quizzes.
-- Soft-deleted catalogue rows (languages, modules, materials, assignments,
-- quizzes) never come back from these queries. update_* queries patch: a
-- parameter left out (None) keeps the current value.

-- Languages -----------------------------------------------------------------

-- name: create_language(slug, name, description, icon_url, is_published)^
-- record_class: ProgrammingLanguage
-- Add a language track; is_published defaults to true. Raises AlreadyExists
-- (programming_languages_slug_key) when a live track has the slug.
-- optional: description, icon_url, is_published
insert into learning.programming_languages (slug, name, description, icon_url, is_published)
values (:slug, :name, :description, :icon_url, coalesce(:is_published::boolean, true))
returning id, slug, name, description, icon_url, is_published, created_at, updated_at, deleted_at;

-- name: list_languages(limit, after_id)
-- record_class: ProgrammingLanguage
-- Every live language of the catalogue, published or not, by name.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, slug, name, description, icon_url, is_published, created_at, updated_at, deleted_at
  from learning.programming_languages
 where deleted_at is null
   and (:after_id::uuid is null
        or (name, id) > (select k.name, k.id from learning.programming_languages k where k.id = :after_id::uuid))
 order by name, id
 limit coalesce(:limit::integer, 100);

-- name: list_languages_with_module_counts(limit, after_id)
-- record_class: LanguageWithModuleCountRow
-- The learner catalogue: published live tracks by name, each with its number
-- of live modules.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select l.id, l.slug, l.name, l.description, l.icon_url, l.is_published,
       count(m.id) as module_count, l.created_at, l.updated_at, l.deleted_at
  from learning.programming_languages l
  left join learning.modules m on m.language_id = l.id and m.deleted_at is null
 where l.deleted_at is null
   and l.is_published
   and (:after_id::uuid is null
        or (l.name, l.id) > (select k.name, k.id from learning.programming_languages k where k.id = :after_id::uuid))
 group by l.id
 order by l.name, l.id
 limit coalesce(:limit::integer, 100);

-- name: get_language_by_slug(slug)^
-- record_class: ProgrammingLanguage
-- A live language track by its URL key.
select id, slug, name, description, icon_url, is_published, created_at, updated_at, deleted_at
  from learning.programming_languages
 where slug = :slug
   and deleted_at is null;

-- name: update_language(id, slug, name, description, icon_url, is_published)^
-- record_class: ProgrammingLanguage
-- Patch a live language track; None when there is no such track.
-- optional: slug, name, description, icon_url, is_published
update learning.programming_languages
   set slug = coalesce(:slug, slug),
       name = coalesce(:name, name),
       description = coalesce(:description, description),
       icon_url = coalesce(:icon_url, icon_url),
       is_published = coalesce(:is_published::boolean, is_published)
 where id = :id
   and deleted_at is null
returning id, slug, name, description, icon_url, is_published, created_at, updated_at, deleted_at;

-- name: soft_delete_language(id)!
-- Retire a language track with its modules and their materials, assignments
-- and quizzes, in one statement. Returns 1, or 0 when it was not live.
with modules as (
  update learning.modules
     set deleted_at = now()
   where language_id = :id
     and deleted_at is null
), materials as (
  update learning.materials
     set deleted_at = now()
   where module_id in (select id from learning.modules where language_id = :id)
     and deleted_at is null
), assignments as (
  update learning.assignments
     set deleted_at = now()
   where module_id in (select id from learning.modules where language_id = :id)
     and deleted_at is null
), quizzes as (
  update learning.mcq_quizzes
     set deleted_at = now()
   where module_id in (select id from learning.modules where language_id = :id)
     and deleted_at is null
)
update learning.programming_languages
   set deleted_at = now()
 where id = :id
   and deleted_at is null;

-- Modules -------------------------------------------------------------------

-- name: create_module(language_id, slug, title, position, difficulty, description)^
-- record_class: Module
-- Add a module to a language track. Raises AlreadyExists
-- (modules_language_id_slug_key) when a live module of the track has the slug.
-- optional: description
insert into learning.modules (language_id, slug, title, position, difficulty, description)
values (:language_id, :slug, :title, :position, :difficulty, :description)
returning id, language_id, slug, title, description, position, difficulty, created_at, updated_at,
          deleted_at;

-- name: list_modules(language_id, limit, after_id)
-- record_class: Module
-- The live modules of a language track, by position.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, language_id, slug, title, description, position, difficulty, created_at, updated_at,
       deleted_at
  from learning.modules
 where language_id = :language_id
   and deleted_at is null
   and (:after_id::uuid is null
        or (position, id) > (select k.position, k.id from learning.modules k where k.id = :after_id::uuid))
 order by position, id
 limit coalesce(:limit::integer, 100);

-- name: get_module(id)^
-- record_class: Module
-- A live module by id.
select id, language_id, slug, title, description, position, difficulty, created_at, updated_at,
       deleted_at
  from learning.modules
 where id = :id
   and deleted_at is null;

-- name: get_module_by_slug(language_id, slug)^
-- record_class: Module
-- A live module by its URL key within a language track.
select id, language_id, slug, title, description, position, difficulty, created_at, updated_at,
       deleted_at
  from learning.modules
 where language_id = :language_id
   and slug = :slug
   and deleted_at is null;

-- name: update_module(id, slug, title, description, position, difficulty)^
-- record_class: Module
-- Patch a live module; None when there is no such module.
-- optional: slug, title, description, position, difficulty
update learning.modules
   set slug = coalesce(:slug, slug),
       title = coalesce(:title, title),
       description = coalesce(:description, description),
       position = coalesce(:position, position),
       difficulty = coalesce(:difficulty, difficulty)
 where id = :id
   and deleted_at is null
returning id, language_id, slug, title, description, position, difficulty, created_at, updated_at,
          deleted_at;

-- name: soft_delete_module(id)!
-- Retire a module with its materials, assignments and quizzes, in one
-- statement. Returns 1, or 0 when it was not live.
with materials as (
  update learning.materials
     set deleted_at = now()
   where module_id = :id
     and deleted_at is null
), assignments as (
  update learning.assignments
     set deleted_at = now()
   where module_id = :id
     and deleted_at is null
), quizzes as (
  update learning.mcq_quizzes
     set deleted_at = now()
   where module_id = :id
     and deleted_at is null
)
update learning.modules
   set deleted_at = now()
 where id = :id
   and deleted_at is null;

-- Materials -----------------------------------------------------------------

-- name: create_material(module_id, title, type, content, url, position, duration_seconds)^
-- record_class: Material
-- Add a material to a module; it needs content or url (else ConstraintViolation).
-- optional: content, url, position, duration_seconds
insert into learning.materials (module_id, title, type, content, url, position, duration_seconds)
values (:module_id, :title, :type, :content, :url, coalesce(:position::integer, 0),
        :duration_seconds)
returning id, module_id, title, type, content, url, position, duration_seconds, created_at,
          updated_at, deleted_at;

-- name: list_materials(module_id, limit, after_id)
-- record_class: Material
-- The live materials of a module, by position.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, module_id, title, type, content, url, position, duration_seconds, created_at,
       updated_at, deleted_at
  from learning.materials
 where module_id = :module_id
   and deleted_at is null
   and (:after_id::uuid is null
        or (position, id) > (select k.position, k.id from learning.materials k where k.id = :after_id::uuid))
 order by position, id
 limit coalesce(:limit::integer, 100);

-- name: update_material(id, title, type, content, url, position, duration_seconds)^
-- record_class: Material
-- Patch a live material; None when there is no such material.
-- optional: title, type, content, url, position, duration_seconds
update learning.materials
   set title = coalesce(:title, title),
       type = coalesce(:type, type),
       content = coalesce(:content, content),
       url = coalesce(:url, url),
       position = coalesce(:position, position),
       duration_seconds = coalesce(:duration_seconds, duration_seconds)
 where id = :id
   and deleted_at is null
returning id, module_id, title, type, content, url, position, duration_seconds, created_at,
          updated_at, deleted_at;

-- name: soft_delete_material(id)!
-- Retire a material. Returns 1, or 0 when it was not live.
update learning.materials
   set deleted_at = now()
 where id = :id
   and deleted_at is null;

-- Assignments ---------------------------------------------------------------

-- name: create_assignment(module_id, title, description, difficulty, points, starter_code, test_cases, position)^
-- record_class: Assignment
-- Add a coding exercise to a module. test_cases is a JSON array: pass
-- psycopg.types.json.Jsonb([...]); it defaults to [].
-- optional: starter_code, test_cases, position
insert into learning.assignments (module_id, title, description, difficulty, points, starter_code,
                                  test_cases, position)
values (:module_id, :title, :description, :difficulty, :points, :starter_code,
        coalesce(:test_cases::jsonb, '[]'), coalesce(:position::integer, 0))
returning id, module_id, title, description, difficulty, starter_code, test_cases, points, position,
          created_at, updated_at, deleted_at;

-- name: list_assignments(module_id, limit, after_id)
-- record_class: Assignment
-- The live assignments of a module, by position.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, module_id, title, description, difficulty, starter_code, test_cases, points, position,
       created_at, updated_at, deleted_at
  from learning.assignments
 where module_id = :module_id
   and deleted_at is null
   and (:after_id::uuid is null
        or (position, id) > (select k.position, k.id from learning.assignments k where k.id = :after_id::uuid))
 order by position, id
 limit coalesce(:limit::integer, 100);

-- name: get_assignment(id)^
-- record_class: Assignment
-- A live assignment by id.
select id, module_id, title, description, difficulty, starter_code, test_cases, points, position,
       created_at, updated_at, deleted_at
  from learning.assignments
 where id = :id
   and deleted_at is null;

-- name: update_assignment(id, title, description, difficulty, points, starter_code, test_cases, position)^
-- record_class: Assignment
-- Patch a live assignment; None when there is no such assignment.
-- optional: title, description, difficulty, points, starter_code, test_cases, position
update learning.assignments
   set title = coalesce(:title, title),
       description = coalesce(:description, description),
       difficulty = coalesce(:difficulty, difficulty),
       points = coalesce(:points, points),
       starter_code = coalesce(:starter_code, starter_code),
       test_cases = coalesce(:test_cases::jsonb, test_cases),
       position = coalesce(:position, position)
 where id = :id
   and deleted_at is null
returning id, module_id, title, description, difficulty, starter_code, test_cases, points, position,
          created_at, updated_at, deleted_at;

-- name: soft_delete_assignment(id)!
-- Retire an assignment; its submissions stay. Returns 1, or 0 when it was not live.
update learning.assignments
   set deleted_at = now()
 where id = :id
   and deleted_at is null;

-- Quizzes -------------------------------------------------------------------

-- name: create_quiz(module_id, title, passing_score, description, time_limit_seconds, position)^
-- record_class: MCQQuiz
-- Add a multiple-choice quiz to a module; passing_score is in question points.
-- optional: description, time_limit_seconds, position
insert into learning.mcq_quizzes (module_id, title, passing_score, description,
                                  time_limit_seconds, position)
values (:module_id, :title, :passing_score, :description, :time_limit_seconds,
        coalesce(:position::integer, 0))
returning id, module_id, title, description, passing_score, time_limit_seconds, position,
          created_at, updated_at, deleted_at;

-- name: list_quizzes(module_id, limit, after_id)
-- record_class: MCQQuiz
-- The live quizzes of a module, by position.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, module_id, title, description, passing_score, time_limit_seconds, position,
       created_at, updated_at, deleted_at
  from learning.mcq_quizzes
 where module_id = :module_id
   and deleted_at is null
   and (:after_id::uuid is null
        or (position, id) > (select k.position, k.id from learning.mcq_quizzes k where k.id = :after_id::uuid))
 order by position, id
 limit coalesce(:limit::integer, 100);

-- name: get_quiz(id)^
-- record_class: MCQQuiz
-- A live quiz by id.
select id, module_id, title, description, passing_score, time_limit_seconds, position,
       created_at, updated_at, deleted_at
  from learning.mcq_quizzes
 where id = :id
   and deleted_at is null;

-- name: update_quiz(id, title, description, passing_score, time_limit_seconds, position)^
-- record_class: MCQQuiz
-- Patch a live quiz; None when there is no such quiz. Finished attempts keep
-- their result.
-- optional: title, description, passing_score, time_limit_seconds, position
update learning.mcq_quizzes
   set title = coalesce(:title, title),
       description = coalesce(:description, description),
       passing_score = coalesce(:passing_score, passing_score),
       time_limit_seconds = coalesce(:time_limit_seconds, time_limit_seconds),
       position = coalesce(:position, position)
 where id = :id
   and deleted_at is null
returning id, module_id, title, description, passing_score, time_limit_seconds, position,
          created_at, updated_at, deleted_at;

-- name: soft_delete_quiz(id)!
-- Retire a quiz; its attempts stay. Returns 1, or 0 when it was not live.
update learning.mcq_quizzes
   set deleted_at = now()
 where id = :id
   and deleted_at is null;

-- name: create_question(quiz_id, prompt, position, points, explanation)^
-- record_class: MCQQuestion
-- Add a question worth points to a quiz.
-- optional: explanation
insert into learning.mcq_questions (quiz_id, prompt, position, points, explanation)
values (:quiz_id, :prompt, :position, :points, :explanation)
returning id, quiz_id, prompt, explanation, position, points, created_at, updated_at;

-- name: list_questions(quiz_id, limit, after_id)
-- record_class: MCQQuestion
-- The questions of a quiz, by position.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, quiz_id, prompt, explanation, position, points, created_at, updated_at
  from learning.mcq_questions
 where quiz_id = :quiz_id
   and (:after_id::uuid is null
        or (position, id) > (select k.position, k.id from learning.mcq_questions k where k.id = :after_id::uuid))
 order by position, id
 limit coalesce(:limit::integer, 100);

-- name: create_option(question_id, text, is_correct, position)^
-- record_class: MCQOption
-- Add an answer choice to a question.
-- optional: position
insert into learning.mcq_options (question_id, text, is_correct, position)
values (:question_id, :text, :is_correct, coalesce(:position::integer, 0))
returning id, question_id, text, is_correct, position, created_at, updated_at;

-- name: list_quiz_options(quiz_id, limit, after_id)
-- record_class: MCQOption
-- Every option of a quiz in one round trip, by question position then option
-- position. Carries is_correct: strip it before showing a learner the quiz.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select o.id, o.question_id, o.text, o.is_correct, o.position, o.created_at, o.updated_at
  from learning.mcq_options o
  join learning.mcq_questions q on q.id = o.question_id
 where q.quiz_id = :quiz_id
   and (:after_id::uuid is null
        or (q.position, q.id, o.position, o.id) > (select kq.position, kq.id, ko.position, ko.id from learning.mcq_options ko join learning.mcq_questions kq on kq.id = ko.question_id where ko.id = :after_id::uuid))
 order by q.position, q.id, o.position, o.id
 limit coalesce(:limit::integer, 100);

-- Enrollments and progress --------------------------------------------------

-- name: enroll_user(user_id, language_id)^
-- record_class: LanguageEnrollment
-- Enroll a learner in a language track, idempotently and atomically: a second
-- call (also a concurrent one) returns the same enrollment, never a second
-- row. An ACTIVE or COMPLETED enrollment keeps its status and enrolled_at; a
-- DROPPED one becomes ACTIVE again with a new enrolled_at. The caller checks
-- that the track is live; an unknown one raises MissingReference.
insert into learning.language_enrollments as e (user_id, language_id)
values (:user_id, :language_id)
    on conflict (user_id, language_id) do update
   set status = case when e.status = 'DROPPED' then 'ACTIVE' else e.status end,
       enrolled_at = case when e.status = 'DROPPED' then now() else e.enrolled_at end
returning id, user_id, language_id, status, enrolled_at, completed_at, created_at, updated_at;

-- name: get_enrollment(user_id, language_id)^
-- record_class: LanguageEnrollment
-- A learner's enrollment in a language track, in any status, or None.
select id, user_id, language_id, status, enrolled_at, completed_at, created_at, updated_at
  from learning.language_enrollments
 where user_id = :user_id
   and language_id = :language_id;

-- name: update_enrollment_status(user_id, language_id, status)^
-- record_class: LanguageEnrollment
-- Move an enrollment to ACTIVE, COMPLETED or DROPPED; None when there is none.
-- COMPLETED stamps completed_at (once); leaving it clears completed_at;
-- DROPPED -> ACTIVE stamps a new enrolled_at.
update learning.language_enrollments
   set status = :status::learning."EnrollmentStatus",
       completed_at = case
                        when :status::learning."EnrollmentStatus" = 'COMPLETED'
                        then coalesce(completed_at, now())
                      end,
       enrolled_at = case
                       when status = 'DROPPED' and :status::learning."EnrollmentStatus" = 'ACTIVE'
                       then now()
                       else enrolled_at
                     end
 where user_id = :user_id
   and language_id = :language_id
returning id, user_id, language_id, status, enrolled_at, completed_at, created_at, updated_at;

-- name: get_learner_dashboard(user_id)
-- record_class: DashboardEnrollmentRow
-- A learner's enrollments in live tracks, most recently enrolled first, each
-- with its track, module counts and progress percent, in one round trip.
-- Progress is counted from the completed live materials of the live modules.
with mine as (
  select e.id, e.user_id, e.language_id, e.status, e.enrolled_at, e.completed_at,
         l.slug, l.name, l.icon_url
    from learning.language_enrollments e
    join learning.programming_languages l on l.id = e.language_id
   where e.user_id = :user_id
     and l.deleted_at is null
), per_module as (
  select mo.language_id, mo.id, count(ma.id) as total, count(mp.id) as done
    from learning.modules mo
    left join learning.materials ma on ma.module_id = mo.id and ma.deleted_at is null
    left join learning.material_progress mp
           on mp.material_id = ma.id
          and mp.user_id = :user_id
          and mp.status = 'COMPLETED'
   where mo.language_id in (select language_id from mine)
     and mo.deleted_at is null
   group by mo.language_id, mo.id
)
select e.id, e.user_id, e.language_id, e.slug as language_slug, e.name as language_name,
       e.icon_url as language_icon_url, e.status, e.enrolled_at, e.completed_at,
       count(pm.id) as module_count,
       count(pm.id) filter (where pm.total > 0 and pm.done = pm.total) as completed_module_count,
       coalesce(round(100.0 * sum(pm.done) / nullif(sum(pm.total), 0), 2), 0) as progress_percent
  from mine e
  left join per_module pm on pm.language_id = e.language_id
 group by e.id, e.user_id, e.language_id, e.slug, e.name, e.icon_url, e.status, e.enrolled_at,
          e.completed_at
 order by e.enrolled_at desc, e.id;

-- name: complete_material(user_id, material_id)^
-- record_class: ModuleProgress
-- Mark a live material completed and recompute the learner's progress in its
-- module (share of its live materials completed; COMPLETED at 100), in one
-- statement. Returns the module progress; None when the material (or its
-- module) is not live. Completing a material again changes nothing.
-- plan: custom
with material as (
  select ma.id, ma.module_id
    from learning.materials ma
    join learning.modules mo on mo.id = ma.module_id
   where ma.id = :material_id
     and ma.deleted_at is null
     and mo.deleted_at is null
), done as (
  insert into learning.material_progress as mp (user_id, material_id, status, completed_at)
  select :user_id::uuid, id, 'COMPLETED'::learning."ProgressStatus", now()
    from material
      on conflict (user_id, material_id) do update
     set status = 'COMPLETED',
         completed_at = coalesce(mp.completed_at, now())
), tally as (
  -- The snapshot of the statement misses the row done writes: count it by id.
  select ma.module_id,
         count(*) as total,
         count(*) filter (where ma.id = :material_id or mp.status = 'COMPLETED') as completed
    from learning.materials ma
    left join learning.material_progress mp
           on mp.material_id = ma.id
          and mp.user_id = :user_id
   where ma.module_id = (select module_id from material)
     and ma.deleted_at is null
   group by ma.module_id
)
insert into learning.module_progress as p (user_id, module_id, status, progress_percent,
                                           started_at, completed_at)
select :user_id::uuid, module_id,
       case when completed = total then 'COMPLETED' else 'IN_PROGRESS' end::learning."ProgressStatus",
       round(100.0 * completed / total, 2), now(),
       case when completed = total then now() end
  from tally
    on conflict (user_id, module_id) do update
   set status = excluded.status,
       progress_percent = excluded.progress_percent,
       started_at = coalesce(p.started_at, excluded.started_at),
       completed_at = case
                        when excluded.status = 'COMPLETED'
                        then coalesce(p.completed_at, excluded.completed_at)
                      end
returning id, user_id, module_id, status, progress_percent, started_at, completed_at, created_at,
          updated_at;

-- name: list_module_progress(user_id, language_id, limit, after_id)
-- record_class: ModuleProgress
-- A learner's progress rows for the live modules of a track, by module
-- position; a module not started yet has no row.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select p.id, p.user_id, p.module_id, p.status, p.progress_percent, p.started_at, p.completed_at,
       p.created_at, p.updated_at
  from learning.module_progress p
  join learning.modules mo on mo.id = p.module_id
 where p.user_id = :user_id
   and mo.language_id = :language_id
   and mo.deleted_at is null
   and (:after_id::uuid is null
        or (mo.position, mo.id) > (select km.position, km.id from learning.module_progress kp join learning.modules km on km.id = kp.module_id where kp.id = :after_id::uuid))
 order by mo.position, mo.id
 limit coalesce(:limit::integer, 100);

-- name: list_material_progress(user_id, module_id, limit, after_id)
-- record_class: MaterialProgress
-- A learner's progress rows for the live materials of a module, by material
-- position; a material not started yet has no row.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select p.id, p.user_id, p.material_id, p.status, p.completed_at, p.created_at, p.updated_at
  from learning.material_progress p
  join learning.materials ma on ma.id = p.material_id
 where p.user_id = :user_id
   and ma.module_id = :module_id
   and ma.deleted_at is null
   and (:after_id::uuid is null
        or (ma.position, ma.id) > (select km.position, km.id from learning.material_progress kp join learning.materials km on km.id = kp.material_id where kp.id = :after_id::uuid))
 order by ma.position, ma.id
 limit coalesce(:limit::integer, 100);

-- Submissions ---------------------------------------------------------------

-- name: create_submission(user_id, assignment_id, code)^
-- record_class: AssignmentSubmission
-- Queue code for grading: status PENDING.
insert into learning.assignment_submissions (user_id, assignment_id, code)
values (:user_id, :assignment_id, :code)
returning id, user_id, assignment_id, code, status, score, test_results, feedback, submitted_at,
          graded_at, created_at, updated_at;

-- name: claim_pending_submission()^
-- record_class: AssignmentSubmission
-- For a grader worker: take the oldest PENDING submission and mark it RUNNING,
-- atomically; concurrent workers never get the same one (skip locked). None
-- when the queue is empty.
update learning.assignment_submissions
   set status = 'RUNNING'
 where id = (select id
               from learning.assignment_submissions
              where status = 'PENDING'
              order by submitted_at, id
              limit 1
                for update skip locked)
returning id, user_id, assignment_id, code, status, score, test_results, feedback, submitted_at,
          graded_at, created_at, updated_at;

-- name: grade_submission(id, status, score, test_results, feedback)^
-- record_class: AssignmentSubmission
-- Record the grader's outcome; PASSED, FAILED and ERROR stamp graded_at.
-- test_results (a JSON object) and feedback keep their value when None.
-- None when there is no such submission.
-- optional: test_results, feedback
update learning.assignment_submissions
   set status = :status::learning."SubmissionStatus",
       score = :score,
       test_results = coalesce(:test_results::jsonb, test_results),
       feedback = coalesce(:feedback, feedback),
       graded_at = case
                     when :status::learning."SubmissionStatus" in ('PASSED', 'FAILED', 'ERROR')
                     then now()
                   end
 where id = :id
returning id, user_id, assignment_id, code, status, score, test_results, feedback, submitted_at,
          graded_at, created_at, updated_at;

-- name: get_submission(id)^
-- record_class: AssignmentSubmission
-- A submission by id.
select id, user_id, assignment_id, code, status, score, test_results, feedback, submitted_at,
       graded_at, created_at, updated_at
  from learning.assignment_submissions
 where id = :id;

-- name: list_submissions(user_id, assignment_id, limit, before, before_id)
-- record_class: AssignmentSubmission
-- A page of a learner's submissions for an assignment, newest first
-- (submitted_at desc, id desc). To continue, pass the last row's submitted_at
-- and id as before and before_id (keyset pagination).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before, before_id
select id, user_id, assignment_id, code, status, score, test_results, feedback, submitted_at,
       graded_at, created_at, updated_at
  from learning.assignment_submissions
 where user_id = :user_id
   and assignment_id = :assignment_id
   and (submitted_at, id) < (coalesce(:before::timestamptz, 'infinity'),
                         coalesce(:before_id::uuid, '00000000-0000-0000-0000-000000000000'))
 order by submitted_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: get_best_submission(user_id, assignment_id)^
-- record_class: AssignmentSubmission
-- A learner's best graded submission for an assignment: highest score, the
-- earliest of equal ones. None before anything was graded.
select id, user_id, assignment_id, code, status, score, test_results, feedback, submitted_at,
       graded_at, created_at, updated_at
  from learning.assignment_submissions
 where user_id = :user_id
   and assignment_id = :assignment_id
   and score is not null
 order by score desc, submitted_at, id
 limit 1;

-- Quiz attempts -------------------------------------------------------------

-- name: start_quiz_attempt(user_id, quiz_id)^
-- record_class: MCQAttempt
-- Open an attempt at a quiz; score, max_score and passed stay null until finished.
insert into learning.mcq_attempts (user_id, quiz_id)
values (:user_id, :quiz_id)
returning id, user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at,
          updated_at;

-- name: record_answer(attempt_id, question_id, option_id)^
-- record_class: MCQAnswer
-- Choose an option for a question of an unfinished attempt; answering the same
-- question again replaces the choice. None when the attempt is finished (or
-- unknown) or the question is not in its quiz. An option of another question
-- raises MissingReference.
insert into learning.mcq_answers as ans (attempt_id, question_id, option_id)
select a.id, q.id, :option_id::uuid
  from learning.mcq_attempts a
  join learning.mcq_questions q on q.quiz_id = a.quiz_id
 where a.id = :attempt_id
   and q.id = :question_id
   and a.finished_at is null
   -- Waits for a concurrent finish_quiz_attempt, then sees the attempt finished.
   for share of a
    on conflict (attempt_id, question_id) do update
   set option_id = excluded.option_id
returning id, attempt_id, question_id, option_id, created_at, updated_at;

-- name: finish_quiz_attempt(id)^
-- record_class: MCQAttempt
-- Submit an attempt, in one statement: score = the points of the questions
-- answered with a correct option, max_score = the points of all the quiz's
-- questions, passed = score >= the quiz's passing_score. The first call
-- finishes it; later calls (also concurrent ones) return the finished attempt
-- unchanged. None for an unknown attempt. Answers must be recorded before
-- finishing: one racing the finish may be left out of the score.
with attempt as (
  -- Locking returns the latest version: a racing finisher sees it finished.
  select id, user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at,
         updated_at
    from learning.mcq_attempts
   where id = :id
     for update
), result as (
  select a.id,
         z.passing_score,
         (select coalesce(sum(q.points), 0)
            from learning.mcq_questions q
           where q.quiz_id = a.quiz_id) as max_score,
         (select coalesce(sum(q.points), 0)
            from learning.mcq_answers ans
            join learning.mcq_questions q on q.id = ans.question_id and q.quiz_id = a.quiz_id
            join learning.mcq_options o on o.id = ans.option_id and o.question_id = q.id
           where ans.attempt_id = a.id
             and o.is_correct) as score
    from attempt a
    join learning.mcq_quizzes z on z.id = a.quiz_id
   where a.finished_at is null
), finished as (
  update learning.mcq_attempts t
     set score = r.score,
         max_score = r.max_score,
         passed = r.score >= r.passing_score,
         finished_at = now()
    from result r
   where t.id = r.id
  returning t.id, t.user_id, t.quiz_id, t.score, t.max_score, t.passed, t.started_at,
            t.finished_at, t.created_at, t.updated_at
)
select id, user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at,
       updated_at
  from finished
 union all
select id, user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at,
       updated_at
  from attempt
 where finished_at is not null;

-- name: get_attempt(id)^
-- record_class: MCQAttempt
-- A quiz attempt by id.
select id, user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at,
       updated_at
  from learning.mcq_attempts
 where id = :id;

-- name: list_attempts(user_id, quiz_id, limit, before, before_id)
-- record_class: MCQAttempt
-- A page of a learner's attempts at a quiz, newest first (started_at desc,
-- id desc). To continue, pass the last row's started_at and id as before and
-- before_id (keyset pagination).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before, before_id
select id, user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at,
       updated_at
  from learning.mcq_attempts
 where user_id = :user_id
   and quiz_id = :quiz_id
   and (started_at, id) < (coalesce(:before::timestamptz, 'infinity'),
                         coalesce(:before_id::uuid, '00000000-0000-0000-0000-000000000000'))
 order by started_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: list_attempt_answers(attempt_id, limit, after_id)
-- record_class: MCQAnswer
-- The answers of an attempt, in question order (the review screen).
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select ans.id, ans.attempt_id, ans.question_id, ans.option_id, ans.created_at, ans.updated_at
  from learning.mcq_answers ans
  join learning.mcq_questions q on q.id = ans.question_id
 where ans.attempt_id = :attempt_id
   and (:after_id::uuid is null
        or (q.position, q.id, ans.id) > (select kq.position, kq.id, ka.id from learning.mcq_answers ka join learning.mcq_questions kq on kq.id = ka.question_id where ka.id = :after_id::uuid))
 order by q.position, q.id, ans.id
 limit coalesce(:limit::integer, 100);

-- Analyses ------------------------------------------------------------------

-- name: create_assignment_analysis(submission_id, type, summary, details, score, ai_model, reviewer_id)^
-- record_class: AssignmentAnalysis
-- Attach an AI, MANUAL or HYBRID review to a submission; details (a JSON
-- object) defaults to {}, score is 0 to 100.
-- optional: details, score, ai_model, reviewer_id
insert into learning.assignment_analyses (submission_id, type, summary, details, score, ai_model,
                                          reviewer_id)
values (:submission_id, :type, :summary, coalesce(:details::jsonb, '{}'), :score, :ai_model,
        :reviewer_id)
returning id, submission_id, type, summary, details, score, ai_model, reviewer_id, created_at,
          updated_at;

-- name: list_assignment_analyses(submission_id, limit, after_id)
-- record_class: AssignmentAnalysis
-- The analyses of a submission, oldest first.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, submission_id, type, summary, details, score, ai_model, reviewer_id, created_at,
       updated_at
  from learning.assignment_analyses
 where submission_id = :submission_id
   and (:after_id::uuid is null
        or (created_at, id) > (select k.created_at, k.id from learning.assignment_analyses k where k.id = :after_id::uuid))
 order by created_at, id
 limit coalesce(:limit::integer, 100);

-- name: create_quiz_analysis(attempt_id, type, summary, details, ai_model, reviewer_id)^
-- record_class: QuizAnalysis
-- Attach an AI, MANUAL or HYBRID analysis to a quiz attempt; details (a JSON
-- object) defaults to {}.
-- optional: details, ai_model, reviewer_id
insert into learning.quiz_analyses (attempt_id, type, summary, details, ai_model, reviewer_id)
values (:attempt_id, :type, :summary, coalesce(:details::jsonb, '{}'), :ai_model, :reviewer_id)
returning id, attempt_id, type, summary, details, ai_model, reviewer_id, created_at, updated_at;

-- name: list_quiz_analyses(attempt_id, limit, after_id)
-- record_class: QuizAnalysis
-- The analyses of a quiz attempt, oldest first.
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, attempt_id, type, summary, details, ai_model, reviewer_id, created_at, updated_at
  from learning.quiz_analyses
 where attempt_id = :attempt_id
   and (:after_id::uuid is null
        or (created_at, id) > (select k.created_at, k.id from learning.quiz_analyses k where k.id = :after_id::uuid))
 order by created_at, id
 limit coalesce(:limit::integer, 100);
