-- migrate:up transaction:false
-- get_best_submission wants a learner's best graded submission for one
-- assignment: highest score, then the earliest. With this index it is the
-- first entry; the keyset index (user_id, assignment_id, submitted_at, id)
-- made it read every submission of the pair (33,344 buffers for the scale
-- dataset's heavy user, docs/scaling.md). Only graded rows are indexed.
create index concurrently if not exists assignment_submissions_best_score_idx on learning.assignment_submissions (user_id, assignment_id, score desc, submitted_at, id) where score is not null;

-- migrate:down transaction:false
drop index concurrently if exists learning.assignment_submissions_best_score_idx;
