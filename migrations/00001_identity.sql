-- Identity, groups, preferences, projects and their PMI mirrors
-- (data-model §0-§3), plus the shared pg_trgm extension and the generic
-- write-refusal trigger function used by later migrations.
--
-- Every object is created unqualified, so the schema lands in the first
-- schema of search_path (production: public; tests: a per-test schema).

-- +goose Up

-- pg_trgm is a trusted extension: the non-superuser database owner may create
-- it. It is database-wide, so it goes to public when that schema is usable
-- (a per-test schema would take it along when dropped); the advisory lock
-- serialises concurrent migrations of the same database.
-- +goose StatementBegin
DO $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('advisoryhub:create-extension:pg_trgm'));
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')
           AND has_schema_privilege('public', 'CREATE') THEN
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
        ELSE
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        END IF;
    END IF;
END
$$;
-- +goose StatementEnd

-- forbid_write() backs every "append-only" / "non-deletable" trigger
-- (INV-AUDIT-1, INV-IMPL-1/2/3/5). TG_ARGV[0] is the message prefix; the
-- operation is appended, e.g. "audit log entries are append-only (UPDATE
-- forbidden)". SQLSTATE 23001 (restrict_violation).
-- +goose StatementBegin
CREATE FUNCTION forbid_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% (% forbidden)', TG_ARGV[0], TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = format('table %I.%I is protected by trigger %I', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_NAME);
END
$$;
-- +goose StatementEnd

-- accounts_user
CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           varchar(254) NOT NULL,
    display_name    varchar(200) NOT NULL DEFAULT '',
    oidc_subject    varchar(255) NOT NULL DEFAULT '',
    is_provisioned  boolean      NOT NULL DEFAULT false,
    banned_at       timestamptz  NULL,
    banned_by_id    bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    ban_reason      text         NOT NULL DEFAULT '',
    is_active       boolean      NOT NULL DEFAULT true,
    is_staff        boolean      NOT NULL DEFAULT false,
    is_superuser    boolean      NOT NULL DEFAULT false,
    last_login      timestamptz  NULL,
    first_name      varchar(150) NOT NULL DEFAULT '',
    last_name       varchar(150) NOT NULL DEFAULT '',
    date_joined     timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT users_email_unique UNIQUE (email),
    CONSTRAINT users_email_not_empty CHECK (email <> '')
);
-- Email is looked up case-insensitively.
CREATE INDEX users_email_lower_idx ON users (lower(email));
CREATE INDEX users_oidc_subject_idx ON users (oidc_subject);
CREATE INDEX users_is_provisioned_idx ON users (is_provisioned);
CREATE INDEX users_banned_at_idx ON users (banned_at);
CREATE INDEX users_banned_by_id_idx ON users (banned_by_id);

-- auth_group
CREATE TABLE groups (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(150) NOT NULL,
    CONSTRAINT groups_name_unique UNIQUE (name),
    CONSTRAINT groups_name_not_empty CHECK (name <> '')
);

-- accounts_user_groups
CREATE TABLE user_groups (
    id       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id  bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id integer NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    CONSTRAINT user_groups_user_group_unique UNIQUE (user_id, group_id)
);
-- user_id is covered by the leading column of user_groups_user_group_unique.
CREATE INDEX user_groups_group_id_idx ON user_groups (group_id);

-- accounts_notificationpreference
CREATE TABLE notification_preferences (
    id                               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    on_advisory_created              boolean     NOT NULL DEFAULT true,
    on_triage_event                  boolean     NOT NULL DEFAULT true,
    on_advisory_submitted_for_review boolean     NOT NULL DEFAULT true,
    on_advisory_published            boolean     NOT NULL DEFAULT true,
    on_publication_export_status     boolean     NOT NULL DEFAULT true,
    comments_level                   varchar(16) NOT NULL DEFAULT 'mentioned',
    CONSTRAINT notification_preferences_user_unique UNIQUE (user_id),
    CONSTRAINT notification_preferences_comments_level_check
        CHECK (comments_level IN ('all', 'mentioned'))
);

-- projects_project
CREATE TABLE projects (
    id                     uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    slug                   varchar(100) NOT NULL,
    name                   varchar(200) NOT NULL,
    description            text         NOT NULL DEFAULT '',
    homepage_url           varchar(200) NOT NULL DEFAULT '',
    security_team_id       integer      NOT NULL REFERENCES groups (id) ON DELETE RESTRICT,
    is_mature_publisher    boolean      NOT NULL DEFAULT false,
    created_at             timestamptz  NOT NULL DEFAULT now(),
    last_pmi_sync_at       timestamptz  NULL,
    last_pmi_sync_error    text         NOT NULL DEFAULT '',
    last_roster_sync_at    timestamptz  NULL,
    last_roster_sync_error text         NOT NULL DEFAULT '',
    CONSTRAINT projects_slug_unique UNIQUE (slug),
    CONSTRAINT projects_slug_format CHECK (slug ~ '^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$')
);
CREATE INDEX projects_security_team_id_idx ON projects (security_team_id);
CREATE INDEX projects_name_idx ON projects (name);

-- projects_projectgithubrepository
CREATE TABLE project_github_repositories (
    id                  bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          uuid         NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    owner               varchar(100) NOT NULL,
    name                varchar(200) NOT NULL,
    last_seen_in_pmi_at timestamptz  NOT NULL,
    soft_removed_at     timestamptz  NULL,
    created_at          timestamptz  NOT NULL DEFAULT now(),
    pvr_enabled         boolean      NULL,
    pvr_checked_at      timestamptz  NULL,
    CONSTRAINT project_github_repo_unique UNIQUE (project_id, owner, name)
);
-- project_id is covered by the leading column of project_github_repo_unique.
CREATE INDEX project_github_repositories_owner_name_idx ON project_github_repositories (owner, name);
CREATE INDEX project_github_repositories_project_removed_idx ON project_github_repositories (project_id, soft_removed_at);

-- projects_securityteamrosterentry
CREATE TABLE security_roster_entries (
    id                  bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id          uuid         NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    eclipse_username    varchar(100) NOT NULL,
    email               varchar(254) NOT NULL,
    display_name        varchar(200) NOT NULL DEFAULT '',
    user_id             bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    last_seen_in_pmi_at timestamptz  NOT NULL,
    soft_removed_at     timestamptz  NULL,
    created_at          timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT security_roster_unique UNIQUE (project_id, eclipse_username)
);
-- project_id is covered by the leading column of security_roster_unique.
CREATE INDEX security_roster_entries_project_removed_idx ON security_roster_entries (project_id, soft_removed_at);
CREATE INDEX security_roster_entries_email_idx ON security_roster_entries (email);
CREATE INDEX security_roster_entries_user_id_idx ON security_roster_entries (user_id);

-- +goose Down

DROP TABLE IF EXISTS security_roster_entries;
DROP TABLE IF EXISTS project_github_repositories;
DROP TABLE IF EXISTS projects;
DROP TABLE IF EXISTS notification_preferences;
DROP TABLE IF EXISTS user_groups;
DROP TABLE IF EXISTS groups;
DROP TABLE IF EXISTS users;
DROP FUNCTION IF EXISTS forbid_write();

-- Drop pg_trgm only when nothing else in the database still uses it and this
-- role may drop it (another schema or a DBA may rely on it).
-- +goose StatementBegin
DO $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('advisoryhub:create-extension:pg_trgm'));
    DROP EXTENSION IF EXISTS pg_trgm;
EXCEPTION
    WHEN dependent_objects_still_exist OR insufficient_privilege THEN
        RAISE NOTICE 'pg_trgm kept: %', SQLERRM;
END
$$;
-- +goose StatementEnd
