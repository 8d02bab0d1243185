-- Advisories and everything keyed to one: versions, intake sidecar, visits,
-- access grants, invitations, comments, notifications (data-model §4-§7),
-- the non-deletable / append-only triggers and row-level security (§15).

-- +goose Up

-- advisories_advisory
CREATE TABLE advisories (
    id                                bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id                       varchar(32)  NOT NULL,
    project_id                        uuid         NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    state                             varchar(16)  NOT NULL DEFAULT 'draft',
    review_status                     varchar(24)  NOT NULL DEFAULT 'none',
    submitted_for_review_at           timestamptz  NULL,
    submitted_for_review_by_id        bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    kind                              varchar(16)  NOT NULL DEFAULT 'native',
    published_at                      timestamptz  NULL,
    modified_at                       timestamptz  NOT NULL DEFAULT now(),
    created_at                        timestamptz  NOT NULL DEFAULT now(),
    created_by_id                     bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    withdrawn_reason                  text         NOT NULL DEFAULT '',
    dismissed_reason                  text         NOT NULL DEFAULT '',
    dismissed_from_state              varchar(16)  NOT NULL DEFAULT '',
    republish_required                boolean      NOT NULL DEFAULT false,
    access_review_required_at         timestamptz  NULL,

    -- Content (OSV-shaped payload, data-model §4.2).
    summary                           varchar(300) NOT NULL DEFAULT '',
    details                           text         NOT NULL DEFAULT '',
    aliases                           jsonb        NOT NULL DEFAULT '[]'::jsonb,
    "references"                      jsonb        NOT NULL DEFAULT '[]'::jsonb,
    affected                          jsonb        NOT NULL DEFAULT '[]'::jsonb,
    severity                          jsonb        NOT NULL DEFAULT '[]'::jsonb,
    cwe_ids                           jsonb        NOT NULL DEFAULT '[]'::jsonb,
    credits                           jsonb        NOT NULL DEFAULT '[]'::jsonb,
    assigned_cve_id                   varchar(32)  NOT NULL DEFAULT '',

    -- Derived severity (not payload, never versioned).
    severity_level                    varchar(12)  NOT NULL DEFAULT 'none',
    severity_score                    double precision NULL,

    -- Workflow metadata (not payload, never versioned).
    reassignment_requested_at         timestamptz  NULL,
    reassignment_requested_by_id      bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    reassignment_request_note         text         NOT NULL DEFAULT '',
    reassignment_suggested_project_id uuid         NULL REFERENCES projects (id) ON DELETE SET NULL,
    withdrawal_requested_at           timestamptz  NULL,
    withdrawal_requested_by_id        bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    withdrawal_request_note           text         NOT NULL DEFAULT '',
    comments_locked                   boolean      NOT NULL DEFAULT false,
    comments_locked_at                timestamptz  NULL,
    comments_locked_by_id             bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    comments_lock_reason              text         NOT NULL DEFAULT '',
    cve_requests_banned               boolean      NOT NULL DEFAULT false,

    -- GHSA bridge (empty for native advisories).
    ghsa_id                           varchar(32)  NOT NULL DEFAULT '',
    ghsa_owner                        varchar(100) NOT NULL DEFAULT '',
    ghsa_repo                         varchar(200) NOT NULL DEFAULT '',
    ghsa_metadata                     jsonb        NULL,
    ghsa_metadata_synced_at           timestamptz  NULL,
    ghsa_sync_error                   text         NOT NULL DEFAULT '',
    ghsa_state                        varchar(16)  NOT NULL DEFAULT 'unknown',
    ghsa_cve_push_status              varchar(16)  NOT NULL DEFAULT 'none',
    ghsa_cve_push_attempted_at        timestamptz  NULL,
    ghsa_cve_conflict_detected_at     timestamptz  NULL,
    ghsa_cve_conflict_ghsa_value      varchar(64)  NOT NULL DEFAULT '',

    CONSTRAINT advisories_advisory_id_unique UNIQUE (advisory_id),
    CONSTRAINT advisories_advisory_id_format
        CHECK (advisory_id ~ '^ECL(-[23456789cfghjmpqrvwx]{4}){3}$'),
    CONSTRAINT advisories_state_check
        CHECK (state IN ('triage', 'draft', 'published', 'dismissed')),
    CONSTRAINT advisories_review_status_check
        CHECK (review_status IN ('none', 'submitted', 'changes_requested', 'approved')),
    CONSTRAINT advisories_kind_check
        CHECK (kind IN ('native', 'ghsa_linked')),
    CONSTRAINT advisories_dismissed_from_state_check
        CHECK (dismissed_from_state IN ('', 'triage', 'draft', 'published')),
    CONSTRAINT advisories_ghsa_state_check
        CHECK (ghsa_state IN ('unknown', 'draft', 'triage', 'published', 'closed', 'withdrawn')),
    CONSTRAINT advisories_ghsa_cve_push_status_check
        CHECK (ghsa_cve_push_status IN ('none', 'pending', 'succeeded', 'failed')),
    CONSTRAINT advisories_severity_level_check
        CHECK (severity_level IN ('critical', 'high', 'medium', 'low', 'none')),
    CONSTRAINT advisories_severity_score_check
        CHECK (severity_score IS NULL
               OR (severity_level <> 'none' AND severity_score >= 0 AND severity_score <= 10)),
    CONSTRAINT advisories_assigned_cve_id_format
        CHECK (assigned_cve_id = '' OR assigned_cve_id ~ '^CVE-\d{4}-\d{4,19}$'),
    CONSTRAINT advisories_ghsa_id_format
        CHECK (ghsa_id = '' OR ghsa_id ~* '^GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$'),
    CONSTRAINT advisories_json_lists_check
        CHECK (jsonb_typeof(aliases) = 'array'
               AND jsonb_typeof("references") = 'array'
               AND jsonb_typeof(affected) = 'array'
               AND jsonb_typeof(severity) = 'array'
               AND jsonb_typeof(cwe_ids) = 'array'
               AND jsonb_typeof(credits) = 'array')
);
CREATE INDEX advisories_state_idx ON advisories (state);
-- project_id is covered by the leading column of advisories_project_state_idx.
CREATE INDEX advisories_project_state_idx ON advisories (project_id, state);
CREATE INDEX advisories_review_status_idx ON advisories (review_status);
CREATE INDEX advisories_kind_idx ON advisories (kind);
CREATE INDEX advisories_ghsa_id_idx ON advisories (ghsa_id);
CREATE UNIQUE INDEX advisory_ghsa_id_unique_when_set ON advisories (ghsa_id) WHERE ghsa_id > '';
CREATE INDEX advisories_severity_level_idx ON advisories (severity_level);
CREATE INDEX advisories_created_at_idx ON advisories (created_at);
CREATE INDEX advisories_reassignment_requested_at_idx ON advisories (reassignment_requested_at);
CREATE INDEX advisories_withdrawal_requested_at_idx ON advisories (withdrawal_requested_at);
CREATE INDEX advisories_submitted_for_review_by_id_idx ON advisories (submitted_for_review_by_id);
CREATE INDEX advisories_created_by_id_idx ON advisories (created_by_id);
CREATE INDEX advisories_reassignment_requested_by_id_idx ON advisories (reassignment_requested_by_id);
CREATE INDEX advisories_reassignment_suggested_project_id_idx ON advisories (reassignment_suggested_project_id);
CREATE INDEX advisories_withdrawal_requested_by_id_idx ON advisories (withdrawal_requested_by_id);
CREATE INDEX advisories_comments_locked_by_id_idx ON advisories (comments_locked_by_id);
CREATE INDEX adv_aliases_gin ON advisories USING gin (aliases jsonb_path_ops);

-- Trigram indexes. The operator class is qualified with the schema pg_trgm
-- actually lives in, which need not be on search_path (e.g. a per-test schema).
-- +goose StatementBegin
DO $$
DECLARE
    trgm text;
BEGIN
    SELECT n.nspname INTO STRICT trgm
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX adv_summary_trgm ON advisories USING gin (summary %I.gin_trgm_ops)', trgm);
    EXECUTE format('CREATE INDEX adv_details_trgm ON advisories USING gin (details %I.gin_trgm_ops)', trgm);
    EXECUTE format('CREATE INDEX adv_advisory_id_trgm ON advisories USING gin (advisory_id %I.gin_trgm_ops)', trgm);
END
$$;
-- +goose StatementEnd

-- INV-IMPL-1: advisories are never deleted; this is the database layer.
CREATE TRIGGER advisory_no_delete
    BEFORE DELETE ON advisories
    FOR EACH ROW EXECUTE FUNCTION forbid_write('advisories rows are non-deletable');
CREATE TRIGGER advisory_no_truncate
    BEFORE TRUNCATE ON advisories
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_write('advisories rows are non-deletable');

-- advisories_advisoryversion
CREATE TABLE advisory_versions (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    version     integer     NOT NULL,
    payload     jsonb       NOT NULL,
    editor_id   bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT advisory_versions_advisory_version_unique UNIQUE (advisory_id, version),
    CONSTRAINT advisory_versions_version_check CHECK (version >= 0),
    CONSTRAINT advisory_versions_payload_object CHECK (jsonb_typeof(payload) = 'object')
);
-- advisory_id is covered by advisory_versions_advisory_version_unique.
CREATE INDEX advisory_versions_editor_id_idx ON advisory_versions (editor_id);

-- INV-IMPL-5: version rows are append-only (goes beyond the original, which
-- had no trigger). The CASCADE from advisories can never fire (INV-IMPL-1).
-- A user delete that would SET NULL editor_id is refused too.
CREATE TRIGGER advisory_versions_no_update
    BEFORE UPDATE ON advisory_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_write('advisory versions are append-only');
CREATE TRIGGER advisory_versions_no_delete
    BEFORE DELETE ON advisory_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_write('advisory versions are append-only');
CREATE TRIGGER advisory_versions_no_truncate
    BEFORE TRUNCATE ON advisory_versions
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_write('advisory versions are append-only');

-- advisories_advisoryintakemetadata
CREATE TABLE advisory_intake_metadata (
    id                        bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id               bigint       NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    reporter_user_id          bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    reporter_display_name     varchar(200) NOT NULL DEFAULT '',
    submitted_ip              inet         NULL,
    submitted_user_agent      varchar(512) NOT NULL DEFAULT '',
    needs_admin_routing       boolean      NOT NULL DEFAULT false,
    admin_routing_note        text         NOT NULL DEFAULT '',
    flagged_for_routing_at    timestamptz  NULL,
    flagged_for_routing_by_id bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    submitted_at              timestamptz  NOT NULL DEFAULT now(),
    pii_cleared_at            timestamptz  NULL,
    CONSTRAINT advisory_intake_metadata_advisory_unique UNIQUE (advisory_id)
);
CREATE INDEX advisory_intake_metadata_reporter_user_id_idx ON advisory_intake_metadata (reporter_user_id);
CREATE INDEX advisory_intake_metadata_flagged_by_id_idx ON advisory_intake_metadata (flagged_for_routing_by_id);
CREATE INDEX advisory_intake_metadata_needs_admin_routing_idx ON advisory_intake_metadata (needs_admin_routing);
CREATE INDEX advisory_intake_metadata_submitted_at_idx ON advisory_intake_metadata (submitted_at);

-- advisories_advisoryvisit
CREATE TABLE advisory_visits (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    advisory_id     bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    last_visited_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT advisory_visits_user_advisory_unique UNIQUE (user_id, advisory_id)
);
-- user_id is covered by advisory_visits_user_advisory_unique.
CREATE INDEX advisory_visits_advisory_id_idx ON advisory_visits (advisory_id);

-- access_advisoryaccessgrant
CREATE TABLE access_grants (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id    bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    principal_type varchar(8)  NOT NULL,
    -- Polymorphic user or group id; deliberately no FK (a grant may outlive
    -- its principal).
    principal_id   bigint      NOT NULL,
    permission     varchar(16) NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by_id  bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT access_grants_advisory_principal_unique UNIQUE (advisory_id, principal_type, principal_id),
    CONSTRAINT access_grants_principal_type_check CHECK (principal_type IN ('user', 'group')),
    -- 'owner' is structural and deliberately not storable.
    CONSTRAINT access_grants_permission_check CHECK (permission IN ('viewer', 'collaborator'))
);
CREATE INDEX access_grants_principal_idx ON access_grants (principal_type, principal_id);
CREATE INDEX access_grants_advisory_permission_idx ON access_grants (advisory_id, permission);
CREATE INDEX access_grants_created_by_id_idx ON access_grants (created_by_id);

-- access_pendinginvitation
-- Only the SHA-256 of the single-use token is stored (the original kept the
-- plaintext token).
CREATE TABLE invitations (
    id             bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id    bigint       NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    email          varchar(254) NOT NULL,
    permission     varchar(16)  NOT NULL,
    token_hash     bytea        NOT NULL,
    expires_at     timestamptz  NOT NULL DEFAULT now() + interval '14 days',
    created_at     timestamptz  NOT NULL DEFAULT now(),
    created_by_id  bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    redeemed_at    timestamptz  NULL,
    redeemed_by_id bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT invitations_token_hash_unique UNIQUE (token_hash),
    CONSTRAINT invitations_token_hash_sha256 CHECK (octet_length(token_hash) = 32),
    CONSTRAINT invitations_permission_check CHECK (permission IN ('viewer', 'collaborator')),
    CONSTRAINT invitations_email_not_empty CHECK (email <> '')
);
-- Email is matched case-insensitively at redemption.
CREATE INDEX invitations_email_lower_idx ON invitations (lower(email));
-- advisory_id is covered by the leading column.
CREATE INDEX invitations_advisory_redeemed_idx ON invitations (advisory_id, redeemed_at);
CREATE INDEX invitations_created_by_id_idx ON invitations (created_by_id);
CREATE INDEX invitations_redeemed_by_id_idx ON invitations (redeemed_by_id);

-- comments_advisorycomment
CREATE TABLE comments (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id    bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    author_id      bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    body           text        NOT NULL,
    is_internal    boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    edited_at      timestamptz NULL,
    redacted_at    timestamptz NULL,
    redacted_by_id bigint      NULL REFERENCES users (id) ON DELETE SET NULL
);
-- advisory_id is covered by the leading column.
CREATE INDEX comments_advisory_created_idx ON comments (advisory_id, created_at);
CREATE INDEX comments_advisory_internal_created_idx ON comments (advisory_id, is_internal, created_at);
CREATE INDEX comments_is_internal_idx ON comments (is_internal);
CREATE INDEX comments_author_id_idx ON comments (author_id);
CREATE INDEX comments_redacted_by_id_idx ON comments (redacted_by_id);

-- comments_commentversion
CREATE TABLE comment_versions (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_id bigint      NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    version    integer     NOT NULL,
    body       text        NOT NULL,
    editor_id  bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT comment_versions_comment_version_unique UNIQUE (comment_id, version),
    CONSTRAINT comment_versions_version_check CHECK (version >= 0)
);
-- comment_id is covered by comment_versions_comment_version_unique.
CREATE INDEX comment_versions_editor_id_idx ON comment_versions (editor_id);

-- INV-IMPL-3: comment versions are append-only (goes beyond the original,
-- which guarded only in the application). The forget-user scrub must disable
-- these triggers for its own transaction.
CREATE TRIGGER comment_versions_no_update
    BEFORE UPDATE ON comment_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_write('comment versions are append-only');
CREATE TRIGGER comment_versions_no_delete
    BEFORE DELETE ON comment_versions
    FOR EACH ROW EXECUTE FUNCTION forbid_write('comment versions are append-only');
CREATE TRIGGER comment_versions_no_truncate
    BEFORE TRUNCATE ON comment_versions
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_write('comment versions are append-only');

-- notifications_advisorynotificationpreference
CREATE TABLE advisory_notification_preferences (
    id                               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    advisory_id                      bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    on_advisory_submitted_for_review boolean     NULL,
    on_advisory_published            boolean     NULL,
    on_publication_export_status     boolean     NULL,
    comments_level                   varchar(16) NOT NULL DEFAULT '',
    created_at                       timestamptz NOT NULL DEFAULT now(),
    updated_at                       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT advisory_notification_preferences_user_advisory_unique UNIQUE (user_id, advisory_id),
    CONSTRAINT advisory_notification_preferences_comments_level_check
        CHECK (comments_level IN ('', 'all', 'mentioned'))
);
CREATE INDEX adv_notif_pref_adv_idx ON advisory_notification_preferences (advisory_id);

-- notifications_notification
CREATE TABLE notifications (
    id           bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id bigint       NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    advisory_id  bigint       NULL REFERENCES advisories (id) ON DELETE CASCADE,
    kind         varchar(40)  NOT NULL,
    -- No FK (as in the original).
    comment_id   bigint       NULL,
    subject      varchar(255) NOT NULL,
    summary      varchar(255) NOT NULL DEFAULT '',
    created_at   timestamptz  NOT NULL DEFAULT now(),
    read_at      timestamptz  NULL,
    CONSTRAINT notifications_kind_check CHECK (kind IN (
        'advisory_created', 'advisory_submitted_for_review', 'advisory_published',
        'publication_export_status', 'comment', 'mention', 'triage'))
);
-- recipient_id is covered by the leading column of these.
CREATE INDEX notif_recipient_read_idx ON notifications (recipient_id, read_at);
CREATE INDEX notif_recipient_created_idx ON notifications (recipient_id, created_at DESC);
CREATE INDEX notif_recipient_adv_idx ON notifications (recipient_id, advisory_id, read_at);
CREATE INDEX notifications_advisory_id_idx ON notifications (advisory_id);

-- Row-level security (data-model §15, INV-CONF-2): fail-closed backstop.
-- Principal: advisoryhub.user_id (user id as text, '' = nobody) and
-- advisoryhub.is_admin ('on'/'off'), read with missing_ok so an unset setting
-- means nobody / not admin. FORCE applies the policies to the owning role;
-- jobs use the system principal (user_id '', is_admin 'on'). Grants,
-- projects and user_groups, which the policy reads, stay without RLS.
ALTER TABLE advisories ENABLE ROW LEVEL SECURITY;
ALTER TABLE advisories FORCE ROW LEVEL SECURITY;
CREATE POLICY advisory_visibility ON advisories
    AS PERMISSIVE FOR ALL
    USING (
        coalesce(current_setting('advisoryhub.is_admin', true), '') = 'on'
        OR EXISTS (
            SELECT 1
              FROM projects p
              JOIN user_groups ug ON ug.group_id = p.security_team_id
             WHERE p.id = advisories.project_id
               AND ug.user_id = NULLIF(current_setting('advisoryhub.user_id', true), '')::bigint
        )
        OR EXISTS (
            SELECT 1
              FROM access_grants g
             WHERE g.advisory_id = advisories.id
               AND (
                    (g.principal_type = 'user'
                     AND g.principal_id = NULLIF(current_setting('advisoryhub.user_id', true), '')::bigint)
                 OR (g.principal_type = 'group'
                     AND g.principal_id IN (
                         SELECT ug.group_id
                           FROM user_groups ug
                          WHERE ug.user_id = NULLIF(current_setting('advisoryhub.user_id', true), '')::bigint))
               )
        )
    )
    WITH CHECK (true);

ALTER TABLE advisory_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE advisory_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY advisory_child_visibility ON advisory_versions
    AS PERMISSIVE FOR ALL
    USING (EXISTS (SELECT 1 FROM advisories a WHERE a.id = advisory_versions.advisory_id))
    WITH CHECK (true);

ALTER TABLE advisory_intake_metadata ENABLE ROW LEVEL SECURITY;
ALTER TABLE advisory_intake_metadata FORCE ROW LEVEL SECURITY;
CREATE POLICY advisory_child_visibility ON advisory_intake_metadata
    AS PERMISSIVE FOR ALL
    USING (EXISTS (SELECT 1 FROM advisories a WHERE a.id = advisory_intake_metadata.advisory_id))
    WITH CHECK (true);

ALTER TABLE advisory_visits ENABLE ROW LEVEL SECURITY;
ALTER TABLE advisory_visits FORCE ROW LEVEL SECURITY;
CREATE POLICY advisory_child_visibility ON advisory_visits
    AS PERMISSIVE FOR ALL
    USING (EXISTS (SELECT 1 FROM advisories a WHERE a.id = advisory_visits.advisory_id))
    WITH CHECK (true);

ALTER TABLE comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE comments FORCE ROW LEVEL SECURITY;
CREATE POLICY advisory_child_visibility ON comments
    AS PERMISSIVE FOR ALL
    USING (EXISTS (SELECT 1 FROM advisories a WHERE a.id = comments.advisory_id))
    WITH CHECK (true);

-- +goose Down

-- The advisories policy reads access_grants, user_groups and projects, so the
-- policies go first.
DROP POLICY IF EXISTS advisory_child_visibility ON comments;
DROP POLICY IF EXISTS advisory_child_visibility ON advisory_visits;
DROP POLICY IF EXISTS advisory_child_visibility ON advisory_intake_metadata;
DROP POLICY IF EXISTS advisory_child_visibility ON advisory_versions;
DROP POLICY IF EXISTS advisory_visibility ON advisories;
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS advisory_notification_preferences;
DROP TABLE IF EXISTS comment_versions;
DROP TABLE IF EXISTS comments;
DROP TABLE IF EXISTS invitations;
DROP TABLE IF EXISTS access_grants;
DROP TABLE IF EXISTS advisory_visits;
DROP TABLE IF EXISTS advisory_intake_metadata;
DROP TABLE IF EXISTS advisory_versions;
DROP TABLE IF EXISTS advisories;
