-- Every change to secret_versions, made by the keyring or by hand (an operator's SQL, a restore's
-- follow-up, a test), notifies channel secret_versions_changed when its transaction commits, so
-- each process's Keyring drops its copy of the keyring at once (src/keys/keyring-changes.ts).
-- Statement-level: one notification per statement (and PostgreSQL folds equal ones within a
-- transaction), whatever the number of rows. The payload is only the operation: a process
-- forgets every purpose, and learns nothing secret from the channel.
CREATE FUNCTION notify_secret_versions_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('secret_versions_changed', TG_OP);
  RETURN NULL;
END
$$;

CREATE TRIGGER secret_versions_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON secret_versions
  FOR EACH STATEMENT EXECUTE FUNCTION notify_secret_versions_changed();
