-- The webhook workflow run that last counted an attempt: an activity retry within the same run
-- records the outcome again but is not a new attempt (issue 14).
ALTER TABLE "webhook_events" ADD COLUMN "counted_run_id" TEXT;
