-- Learning: the catalogue, enrollments, progress, submissions and quizzes.

-- name: list_languages()
-- record_class: ProgrammingLanguage
-- Every live language of the catalogue, by name.
select id, slug, name, description, icon_url, is_published, created_at, updated_at, deleted_at
  from learning.programming_languages
 where deleted_at is null
 order by name, id;
