-- The advisory-list generation (new; no original counterpart). One
-- counter that every committed change to what an advisory list can show or
-- who may see it advances: advisories (any column), access grants, group
-- memberships and projects. A transaction that reads generation n sees
-- exactly the list data of every other transaction that read n, so the
-- application may reuse a list page it computed under n for the same
-- caller and filter (INV-PRIVACY-1 holds: a revoked grant or membership
-- advances the counter in the same commit that revokes it).
--
-- The counter is advanced by deferred constraint triggers, which run at
-- COMMIT after every other statement of the transaction, once per
-- transaction (a transaction-local flag skips the repeats). Taking the
-- counter's row lock last keeps it out of every lock cycle: the holder is
-- already committing and asks for nothing more, so writers queue on it for
-- the length of a commit and never deadlock on it.

-- +goose Up
CREATE TABLE list_generation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    n         bigint  NOT NULL
);
INSERT INTO list_generation (singleton, n) VALUES (true, 1);

-- +goose StatementBegin
CREATE FUNCTION advance_list_generation() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('advisoryhub.list_generation_advanced', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE list_generation SET n = n + 1 WHERE singleton;
    PERFORM set_config('advisoryhub.list_generation_advanced', 'on', true);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER advisories_list_generation
    AFTER INSERT OR UPDATE OR DELETE ON advisories
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION advance_list_generation();
CREATE CONSTRAINT TRIGGER access_grants_list_generation
    AFTER INSERT OR UPDATE OR DELETE ON access_grants
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION advance_list_generation();
CREATE CONSTRAINT TRIGGER user_groups_list_generation
    AFTER INSERT OR UPDATE OR DELETE ON user_groups
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION advance_list_generation();
CREATE CONSTRAINT TRIGGER projects_list_generation
    AFTER INSERT OR UPDATE OR DELETE ON projects
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION advance_list_generation();
-- TRUNCATE has no row triggers (and no deferred ones): advance at once.
CREATE TRIGGER advisories_list_generation_truncate AFTER TRUNCATE ON advisories
    FOR EACH STATEMENT EXECUTE FUNCTION advance_list_generation();
CREATE TRIGGER access_grants_list_generation_truncate AFTER TRUNCATE ON access_grants
    FOR EACH STATEMENT EXECUTE FUNCTION advance_list_generation();
CREATE TRIGGER user_groups_list_generation_truncate AFTER TRUNCATE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION advance_list_generation();
CREATE TRIGGER projects_list_generation_truncate AFTER TRUNCATE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION advance_list_generation();

-- +goose Down
DROP TRIGGER projects_list_generation_truncate ON projects;
DROP TRIGGER user_groups_list_generation_truncate ON user_groups;
DROP TRIGGER access_grants_list_generation_truncate ON access_grants;
DROP TRIGGER advisories_list_generation_truncate ON advisories;
DROP TRIGGER projects_list_generation ON projects;
DROP TRIGGER user_groups_list_generation ON user_groups;
DROP TRIGGER access_grants_list_generation ON access_grants;
DROP TRIGGER advisories_list_generation ON advisories;
DROP FUNCTION advance_list_generation();
DROP TABLE list_generation;
