-- migrate:up

create schema learning;
comment on schema learning is 'The course catalogue, enrollments, progress, submissions, quizzes and their analyses. Owned by the learning service.';

create type learning."Difficulty" as enum ('BEGINNER', 'INTERMEDIATE', 'ADVANCED');
create type learning."MaterialType" as enum ('VIDEO', 'ARTICLE', 'CODE_EXAMPLE', 'DOCUMENTATION');
create type learning."SubmissionStatus" as enum ('PENDING', 'RUNNING', 'PASSED', 'FAILED', 'ERROR');
create type learning."ProgressStatus" as enum ('NOT_STARTED', 'IN_PROGRESS', 'COMPLETED');
create type learning."EnrollmentStatus" as enum ('ACTIVE', 'COMPLETED', 'DROPPED');
create type learning."AnalysisType" as enum ('AI', 'MANUAL', 'HYBRID');
comment on type learning."Difficulty" is 'How hard a module or assignment is.';
comment on type learning."MaterialType" is 'The kind of a learning material.';
comment on type learning."SubmissionStatus" is 'Grading state of a submission: PENDING (queued), RUNNING, then PASSED, FAILED or ERROR (the grader itself failed).';
comment on type learning."ProgressStatus" is 'A learner''s progress through a module or material.';
comment on type learning."EnrollmentStatus" is 'State of a learner''s enrollment in a language track.';
comment on type learning."AnalysisType" is 'Who produced an analysis: an AI model, a human reviewer, or both.';

-- Each schema owns its own copy so a service never needs usage on another schema.
create function learning.set_updated_at() returns trigger
language plpgsql as $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;
comment on function learning.set_updated_at() is 'Trigger function: keeps updated_at current on every update.';

-- The catalogue -------------------------------------------------------------

create table learning.programming_languages (
  id           uuid primary key default gen_random_uuid(),
  slug         text not null,
  name         text not null,
  description  text,
  icon_url     text,
  is_published boolean not null default true,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  deleted_at   timestamptz,
  constraint programming_languages_slug_check check (char_length(slug) <= 100 and slug ~ '^[a-z0-9][a-z0-9_-]*$'),
  constraint programming_languages_name_check check (name <> '')
);
create unique index programming_languages_slug_key on learning.programming_languages (slug) where deleted_at is null;
create trigger programming_languages_set_updated_at before update on learning.programming_languages
  for each row execute function learning.set_updated_at();
comment on table learning.programming_languages is 'Language tracks of the catalogue (Python, JavaScript, ...). Soft-deleted rows are hidden.';
comment on column learning.programming_languages.slug is 'URL key, lower-case; unique among non-deleted languages (index programming_languages_slug_key).';
comment on column learning.programming_languages.is_published is 'False hides the track from learners while it is being prepared.';
comment on column learning.programming_languages.deleted_at is 'Soft delete: set when the track is retired.';

create table learning.modules (
  id          uuid primary key default gen_random_uuid(),
  language_id uuid not null references learning.programming_languages (id) on delete cascade,
  slug        text not null,
  title       text not null,
  description text,
  position    integer not null default 0,
  difficulty  learning."Difficulty" not null default 'BEGINNER',
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  deleted_at  timestamptz,
  constraint modules_slug_check check (char_length(slug) <= 100 and slug ~ '^[a-z0-9][a-z0-9_-]*$'),
  constraint modules_title_check check (title <> ''),
  constraint modules_position_check check (position >= 0)
);
create unique index modules_language_id_slug_key on learning.modules (language_id, slug) where deleted_at is null;
create index modules_language_id_position_idx on learning.modules (language_id, position);
create trigger modules_set_updated_at before update on learning.modules
  for each row execute function learning.set_updated_at();
comment on table learning.modules is 'Ordered chapters of a language track. Soft-deleted rows are hidden.';
comment on column learning.modules.slug is 'URL key, unique within its language among non-deleted modules (index modules_language_id_slug_key).';
comment on column learning.modules.position is 'Display order within the language, ascending from 0.';
comment on column learning.modules.deleted_at is 'Soft delete: set when the module is retired.';

create table learning.materials (
  id               uuid primary key default gen_random_uuid(),
  module_id        uuid not null references learning.modules (id) on delete cascade,
  title            text not null,
  type             learning."MaterialType" not null,
  content          text,
  url              text,
  position         integer not null default 0,
  duration_seconds integer,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  deleted_at       timestamptz,
  constraint materials_title_check check (title <> ''),
  constraint materials_position_check check (position >= 0),
  constraint materials_duration_seconds_check check (duration_seconds >= 0),
  constraint materials_content_or_url_check check (content is not null or url is not null)
);
create index materials_module_id_position_idx on learning.materials (module_id, position);
create trigger materials_set_updated_at before update on learning.materials
  for each row execute function learning.set_updated_at();
comment on table learning.materials is 'Videos, articles, code examples and documentation of a module, shown in position order. Soft-deleted rows are hidden.';
comment on column learning.materials.content is 'Inline body (Markdown or code); null when the material lives at url.';
comment on column learning.materials.url is 'External location (video, documentation page); null when content is inline.';
comment on column learning.materials.position is 'Display order within the module, ascending from 0.';
comment on column learning.materials.duration_seconds is 'Expected time to watch or read, in seconds.';
comment on column learning.materials.deleted_at is 'Soft delete: set when the material is retired.';

create table learning.assignments (
  id           uuid primary key default gen_random_uuid(),
  module_id    uuid not null references learning.modules (id) on delete cascade,
  title        text not null,
  description  text not null,
  difficulty   learning."Difficulty" not null default 'BEGINNER',
  starter_code text,
  test_cases   jsonb not null default '[]',
  points       integer not null default 0,
  position     integer not null default 0,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  deleted_at   timestamptz,
  constraint assignments_title_check check (title <> ''),
  constraint assignments_test_cases_check check (jsonb_typeof(test_cases) = 'array'),
  constraint assignments_points_check check (points >= 0),
  constraint assignments_position_check check (position >= 0)
);
create index assignments_module_id_position_idx on learning.assignments (module_id, position);
create trigger assignments_set_updated_at before update on learning.assignments
  for each row execute function learning.set_updated_at();
comment on table learning.assignments is 'Coding exercises of a module, graded against test cases. Soft-deleted rows are hidden.';
comment on column learning.assignments.description is 'The task statement shown to the learner (Markdown).';
comment on column learning.assignments.starter_code is 'Code the editor starts with; null for an empty editor.';
comment on column learning.assignments.test_cases is 'JSON array of test cases the grader runs, e.g. [{"input": ..., "expected": ..., "hidden": false}].';
comment on column learning.assignments.points is 'Points awarded for a fully passing submission.';
comment on column learning.assignments.position is 'Display order within the module, ascending from 0.';
comment on column learning.assignments.deleted_at is 'Soft delete: set when the assignment is retired.';

create table learning.mcq_quizzes (
  id                 uuid primary key default gen_random_uuid(),
  module_id          uuid not null references learning.modules (id) on delete cascade,
  title              text not null,
  description        text,
  passing_score      integer not null,
  time_limit_seconds integer,
  position           integer not null default 0,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  deleted_at         timestamptz,
  constraint mcq_quizzes_title_check check (title <> ''),
  constraint mcq_quizzes_passing_score_check check (passing_score >= 0),
  constraint mcq_quizzes_time_limit_seconds_check check (time_limit_seconds > 0),
  constraint mcq_quizzes_position_check check (position >= 0)
);
create index mcq_quizzes_module_id_position_idx on learning.mcq_quizzes (module_id, position);
create trigger mcq_quizzes_set_updated_at before update on learning.mcq_quizzes
  for each row execute function learning.set_updated_at();
comment on table learning.mcq_quizzes is 'Multiple-choice quizzes of a module. Soft-deleted rows are hidden.';
comment on column learning.mcq_quizzes.passing_score is 'Minimum score, in question points, that passes the quiz.';
comment on column learning.mcq_quizzes.time_limit_seconds is 'Time allowed for one attempt; null for no limit.';
comment on column learning.mcq_quizzes.position is 'Display order within the module, ascending from 0.';
comment on column learning.mcq_quizzes.deleted_at is 'Soft delete: set when the quiz is retired.';

create table learning.mcq_questions (
  id          uuid primary key default gen_random_uuid(),
  quiz_id     uuid not null references learning.mcq_quizzes (id) on delete cascade,
  prompt      text not null,
  explanation text,
  position    integer not null default 0,
  points      integer not null default 1,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint mcq_questions_prompt_check check (prompt <> ''),
  constraint mcq_questions_position_check check (position >= 0),
  constraint mcq_questions_points_check check (points >= 0)
);
create index mcq_questions_quiz_id_position_idx on learning.mcq_questions (quiz_id, position);
create trigger mcq_questions_set_updated_at before update on learning.mcq_questions
  for each row execute function learning.set_updated_at();
comment on table learning.mcq_questions is 'Questions of a quiz, in position order.';
comment on column learning.mcq_questions.explanation is 'Shown after answering: why the correct option is correct.';
comment on column learning.mcq_questions.position is 'Display order within the quiz, ascending from 0.';
comment on column learning.mcq_questions.points is 'Points earned by answering correctly.';

create table learning.mcq_options (
  id          uuid primary key default gen_random_uuid(),
  question_id uuid not null references learning.mcq_questions (id) on delete cascade,
  text        text not null,
  is_correct  boolean not null default false,
  position    integer not null default 0,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  -- Target of mcq_answers' composite key: an answer's option belongs to its question.
  constraint mcq_options_id_question_id_key unique (id, question_id),
  constraint mcq_options_text_check check (text <> ''),
  constraint mcq_options_position_check check (position >= 0)
);
create index mcq_options_question_id_position_idx on learning.mcq_options (question_id, position);
create trigger mcq_options_set_updated_at before update on learning.mcq_options
  for each row execute function learning.set_updated_at();
comment on table learning.mcq_options is 'Answer choices of a question; is_correct marks the right one(s).';
comment on column learning.mcq_options.is_correct is 'True for a correct choice. Never sent to learners before they answer.';
comment on column learning.mcq_options.position is 'Display order within the question, ascending from 0.';

-- Learner state -------------------------------------------------------------

create table learning.language_enrollments (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null,
  language_id  uuid not null references learning.programming_languages (id) on delete cascade,
  status       learning."EnrollmentStatus" not null default 'ACTIVE',
  enrolled_at  timestamptz not null default now(),
  completed_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint language_enrollments_user_id_language_id_key unique (user_id, language_id)
);
create index language_enrollments_language_id_idx on learning.language_enrollments (language_id);
create trigger language_enrollments_set_updated_at before update on learning.language_enrollments
  for each row execute function learning.set_updated_at();
comment on table learning.language_enrollments is 'A learner''s enrollment in a language track; one per user and language.';
comment on column learning.language_enrollments.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column learning.language_enrollments.enrolled_at is 'When the learner (re-)enrolled.';
comment on column learning.language_enrollments.completed_at is 'When the track was completed; null until then.';

create table learning.module_progress (
  id               uuid primary key default gen_random_uuid(),
  user_id          uuid not null,
  module_id        uuid not null references learning.modules (id) on delete cascade,
  status           learning."ProgressStatus" not null default 'NOT_STARTED',
  progress_percent numeric(5, 2) not null default 0,
  started_at       timestamptz,
  completed_at     timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  constraint module_progress_user_id_module_id_key unique (user_id, module_id),
  constraint module_progress_progress_percent_check check (progress_percent between 0 and 100)
);
create index module_progress_module_id_idx on learning.module_progress (module_id);
create trigger module_progress_set_updated_at before update on learning.module_progress
  for each row execute function learning.set_updated_at();
comment on table learning.module_progress is 'A learner''s progress through a module; one row per user and module.';
comment on column learning.module_progress.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column learning.module_progress.progress_percent is 'Share of the module completed, 0 to 100.';

create table learning.material_progress (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null,
  material_id  uuid not null references learning.materials (id) on delete cascade,
  status       learning."ProgressStatus" not null default 'NOT_STARTED',
  completed_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint material_progress_user_id_material_id_key unique (user_id, material_id)
);
create index material_progress_material_id_idx on learning.material_progress (material_id);
create trigger material_progress_set_updated_at before update on learning.material_progress
  for each row execute function learning.set_updated_at();
comment on table learning.material_progress is 'Whether a learner has gone through a material; one row per user and material.';
comment on column learning.material_progress.user_id is 'auth.users.id (no foreign key: another service''s schema).';

create table learning.assignment_submissions (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null,
  assignment_id uuid not null references learning.assignments (id) on delete cascade,
  code          text not null,
  status        learning."SubmissionStatus" not null default 'PENDING',
  score         integer,
  test_results  jsonb,
  feedback      text,
  submitted_at  timestamptz not null default now(),
  graded_at     timestamptz,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  constraint assignment_submissions_score_check check (score >= 0),
  constraint assignment_submissions_test_results_check check (jsonb_typeof(test_results) = 'object')
);
create index assignment_submissions_user_id_created_at_idx on learning.assignment_submissions (user_id, created_at desc);
create index assignment_submissions_assignment_id_idx on learning.assignment_submissions (assignment_id);
create index assignment_submissions_pending_idx on learning.assignment_submissions (submitted_at) where status = 'PENDING';
create trigger assignment_submissions_set_updated_at before update on learning.assignment_submissions
  for each row execute function learning.set_updated_at();
comment on table learning.assignment_submissions is 'Code a learner submitted for an assignment, and its grading outcome.';
comment on column learning.assignment_submissions.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column learning.assignment_submissions.score is 'Points earned, 0 to the assignment''s points; null until graded.';
comment on column learning.assignment_submissions.test_results is 'Grader output (JSON object), e.g. {"passed": 3, "total": 4, "cases": [...]}; null until graded.';
comment on column learning.assignment_submissions.feedback is 'Human-readable grading feedback.';
comment on column learning.assignment_submissions.graded_at is 'When grading finished; null while PENDING or RUNNING.';

create table learning.mcq_attempts (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null,
  quiz_id     uuid not null references learning.mcq_quizzes (id) on delete cascade,
  score       integer,
  max_score   integer,
  passed      boolean,
  started_at  timestamptz not null default now(),
  finished_at timestamptz,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint mcq_attempts_score_check check (score >= 0),
  constraint mcq_attempts_max_score_check check (max_score >= 0),
  constraint mcq_attempts_score_max_score_check check (score <= max_score)
);
create index mcq_attempts_user_id_created_at_idx on learning.mcq_attempts (user_id, created_at desc);
create index mcq_attempts_quiz_id_idx on learning.mcq_attempts (quiz_id);
create trigger mcq_attempts_set_updated_at before update on learning.mcq_attempts
  for each row execute function learning.set_updated_at();
comment on table learning.mcq_attempts is 'One sitting of a quiz by a learner; score, max_score and passed are set when it is finished.';
comment on column learning.mcq_attempts.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column learning.mcq_attempts.score is 'Points of the correctly answered questions; null until finished.';
comment on column learning.mcq_attempts.max_score is 'Total points of the quiz''s questions when it was finished.';
comment on column learning.mcq_attempts.passed is 'score >= the quiz''s passing_score; null until finished.';
comment on column learning.mcq_attempts.finished_at is 'When the attempt was submitted; the result never changes afterwards.';

create table learning.mcq_answers (
  id          uuid primary key default gen_random_uuid(),
  attempt_id  uuid not null references learning.mcq_attempts (id) on delete cascade,
  question_id uuid not null references learning.mcq_questions (id) on delete cascade,
  option_id   uuid not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint mcq_answers_attempt_id_question_id_key unique (attempt_id, question_id),
  constraint mcq_answers_option_id_question_id_fkey foreign key (option_id, question_id)
    references learning.mcq_options (id, question_id) on delete cascade
);
create index mcq_answers_question_id_idx on learning.mcq_answers (question_id);
create index mcq_answers_option_id_question_id_idx on learning.mcq_answers (option_id, question_id);
create trigger mcq_answers_set_updated_at before update on learning.mcq_answers
  for each row execute function learning.set_updated_at();
comment on table learning.mcq_answers is 'The option a learner chose for a question in an attempt; one per attempt and question.';
comment on column learning.mcq_answers.option_id is 'The chosen option; it must belong to question_id (composite foreign key).';

create table learning.assignment_analyses (
  id            uuid primary key default gen_random_uuid(),
  submission_id uuid not null references learning.assignment_submissions (id) on delete cascade,
  type          learning."AnalysisType" not null,
  summary       text not null,
  details       jsonb not null default '{}',
  score         numeric(5, 2),
  ai_model      text,
  reviewer_id   uuid,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  constraint assignment_analyses_details_check check (jsonb_typeof(details) = 'object'),
  constraint assignment_analyses_score_check check (score between 0 and 100)
);
create index assignment_analyses_submission_id_idx on learning.assignment_analyses (submission_id);
create index assignment_analyses_reviewer_id_idx on learning.assignment_analyses (reviewer_id) where reviewer_id is not null;
create trigger assignment_analyses_set_updated_at before update on learning.assignment_analyses
  for each row execute function learning.set_updated_at();
comment on table learning.assignment_analyses is 'Code review of a submission by an AI model, a human reviewer, or both.';
comment on column learning.assignment_analyses.summary is 'Short verdict shown to the learner.';
comment on column learning.assignment_analyses.details is 'Structured findings (JSON object), e.g. {"issues": [...], "suggestions": [...]}.';
comment on column learning.assignment_analyses.score is 'Code quality score, 0 to 100.';
comment on column learning.assignment_analyses.ai_model is 'Name of the AI model that produced an AI or HYBRID analysis.';
comment on column learning.assignment_analyses.reviewer_id is 'auth.users.id of the human reviewer of a MANUAL or HYBRID analysis (no foreign key: another service''s schema).';

create table learning.quiz_analyses (
  id          uuid primary key default gen_random_uuid(),
  attempt_id  uuid not null references learning.mcq_attempts (id) on delete cascade,
  type        learning."AnalysisType" not null,
  summary     text not null,
  details     jsonb not null default '{}',
  ai_model    text,
  reviewer_id uuid,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint quiz_analyses_details_check check (jsonb_typeof(details) = 'object')
);
create index quiz_analyses_attempt_id_idx on learning.quiz_analyses (attempt_id);
create index quiz_analyses_reviewer_id_idx on learning.quiz_analyses (reviewer_id) where reviewer_id is not null;
create trigger quiz_analyses_set_updated_at before update on learning.quiz_analyses
  for each row execute function learning.set_updated_at();
comment on table learning.quiz_analyses is 'Analysis of a quiz attempt (weak topics, advice) by an AI model, a human reviewer, or both.';
comment on column learning.quiz_analyses.summary is 'Short verdict shown to the learner.';
comment on column learning.quiz_analyses.details is 'Structured findings (JSON object), e.g. {"weak_topics": [...]}.';
comment on column learning.quiz_analyses.ai_model is 'Name of the AI model that produced an AI or HYBRID analysis.';
comment on column learning.quiz_analyses.reviewer_id is 'auth.users.id of the human reviewer of a MANUAL or HYBRID analysis (no foreign key: another service''s schema).';

-- Roles are cluster-wide: another database on the server may have created it already.
do $$
begin
  if not exists (select from pg_roles where rolname = 'codezest_learning') then
    create role codezest_learning nologin;
  end if;
exception when duplicate_object or unique_violation then
  null;  -- created concurrently by a migration in another database
end
$$;

grant usage on schema learning to codezest_learning;
grant select, insert, update, delete on all tables in schema learning to codezest_learning;
grant usage on all sequences in schema learning to codezest_learning;
grant usage on type learning."Difficulty", learning."MaterialType", learning."SubmissionStatus",
  learning."ProgressStatus", learning."EnrollmentStatus", learning."AnalysisType" to codezest_learning;
alter default privileges in schema learning grant select, insert, update, delete on tables to codezest_learning;
alter default privileges in schema learning grant usage on sequences to codezest_learning;
alter default privileges in schema learning grant usage on types to codezest_learning;

-- migrate:down

alter default privileges in schema learning revoke all on tables from codezest_learning;
alter default privileges in schema learning revoke all on sequences from codezest_learning;
alter default privileges in schema learning revoke all on types from codezest_learning;
revoke all on all tables in schema learning from codezest_learning;
revoke all on all sequences in schema learning from codezest_learning;
revoke all on type learning."Difficulty", learning."MaterialType", learning."SubmissionStatus",
  learning."ProgressStatus", learning."EnrollmentStatus", learning."AnalysisType" from codezest_learning;
revoke all on schema learning from codezest_learning;

drop schema learning cascade;

-- Another database on the same server may still grant to the role: keep it then.
do $$
begin
  drop role if exists codezest_learning;
exception when dependent_objects_still_exist then
  raise notice 'role codezest_learning kept: still used in another database';
end
$$;
