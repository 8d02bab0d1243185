-- Workflow tasks, publication, GHSA integration, intake honeypot, similarity
-- and the maintenance-mode singleton (data-model §8-§13). None of these has
-- row-level security (app-enforced only, §15). Celery task ids are replaced
-- by queue_message_id.

-- +goose Up

-- workflows_cverequesttask
CREATE TABLE cve_requests (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id     bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    status          varchar(16) NOT NULL DEFAULT 'queued',
    requested_by_id bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    assignee_id     bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    cve_id          varchar(32) NOT NULL DEFAULT '',
    notes           text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz NULL,
    CONSTRAINT cve_requests_status_check
        CHECK (status IN ('queued', 'reserved', 'rejected', 'cancelled')),
    CONSTRAINT cve_requests_cve_id_format
        CHECK (cve_id = '' OR cve_id ~ '^CVE-\d{4}-\d{4,19}$')
);
CREATE UNIQUE INDEX cve_request_one_open_per_advisory ON cve_requests (advisory_id) WHERE status = 'queued';
CREATE INDEX cve_requests_status_created_idx ON cve_requests (status, created_at);
-- advisory_id is covered by the leading column.
CREATE INDEX cve_requests_advisory_status_idx ON cve_requests (advisory_id, status);
CREATE INDEX cve_requests_requested_by_id_idx ON cve_requests (requested_by_id);
CREATE INDEX cve_requests_assignee_id_idx ON cve_requests (assignee_id);

-- workflows_orphancve
CREATE TABLE orphan_cves (
    id                      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cve_id                  varchar(32) NOT NULL,
    previous_advisory_id    bigint      NULL REFERENCES advisories (id) ON DELETE SET NULL,
    previous_advisory_label varchar(32) NOT NULL DEFAULT '',
    status                  varchar(24) NOT NULL DEFAULT 'orphaned',
    unassigned_by_id        bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    unassigned_at           timestamptz NOT NULL DEFAULT now(),
    unassign_reason         text        NOT NULL,
    marked_rejected_by_id   bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    marked_rejected_at      timestamptz NULL,
    marked_rejected_notes   text        NOT NULL DEFAULT '',
    CONSTRAINT orphan_cves_cve_id_unique UNIQUE (cve_id),
    CONSTRAINT orphan_cves_cve_id_format CHECK (cve_id ~ '^CVE-\d{4}-\d{4,19}$'),
    CONSTRAINT orphan_cves_status_check
        CHECK (status IN ('orphaned', 'marked_rejected', 'reassigned'))
);
CREATE INDEX orphan_cves_status_unassigned_idx ON orphan_cves (status, unassigned_at);
CREATE INDEX orphan_cves_previous_advisory_id_idx ON orphan_cves (previous_advisory_id);
CREATE INDEX orphan_cves_unassigned_by_id_idx ON orphan_cves (unassigned_by_id);
CREATE INDEX orphan_cves_marked_rejected_by_id_idx ON orphan_cves (marked_rejected_by_id);

-- workflows_orphancvereassignmenttask
CREATE TABLE orphan_cve_reassignments (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    orphan_cve_id      bigint      NOT NULL REFERENCES orphan_cves (id) ON DELETE RESTRICT,
    advisory_id        bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    status             varchar(24) NOT NULL DEFAULT 'queued',
    requested_by_id    bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    resolved_by_id     bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    replacement_cve_id varchar(32) NOT NULL DEFAULT '',
    resolution_notes   text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz NULL,
    CONSTRAINT orphan_cve_reassignments_status_check
        CHECK (status IN ('queued', 'resolved_reassigned', 'resolved_replaced')),
    CONSTRAINT orphan_cve_reassignments_replacement_cve_id_format
        CHECK (replacement_cve_id = '' OR replacement_cve_id ~ '^CVE-\d{4}-\d{4,19}$')
);
CREATE UNIQUE INDEX orphan_reassignment_one_open_per_orphan ON orphan_cve_reassignments (orphan_cve_id) WHERE status = 'queued';
CREATE INDEX orphan_cve_reassignments_orphan_cve_id_idx ON orphan_cve_reassignments (orphan_cve_id);
CREATE INDEX orphan_cve_reassignments_status_created_idx ON orphan_cve_reassignments (status, created_at);
-- advisory_id is covered by the leading column.
CREATE INDEX orphan_cve_reassignments_advisory_status_idx ON orphan_cve_reassignments (advisory_id, status);
CREATE INDEX orphan_cve_reassignments_requested_by_id_idx ON orphan_cve_reassignments (requested_by_id);
CREATE INDEX orphan_cve_reassignments_resolved_by_id_idx ON orphan_cve_reassignments (resolved_by_id);

-- workflows_reviewtask
CREATE TABLE review_tasks (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id     bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    version_id      bigint      NOT NULL REFERENCES advisory_versions (id) ON DELETE RESTRICT,
    status          varchar(24) NOT NULL DEFAULT 'open',
    submitted_by_id bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    reviewer_id     bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    decision_notes  text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz NULL,
    CONSTRAINT review_tasks_status_check
        CHECK (status IN ('open', 'approved', 'changes_requested', 'withdrawn'))
);
CREATE INDEX review_tasks_status_created_idx ON review_tasks (status, created_at);
-- advisory_id is covered by the leading column.
CREATE INDEX review_tasks_advisory_status_idx ON review_tasks (advisory_id, status);
CREATE INDEX review_tasks_version_id_idx ON review_tasks (version_id);
CREATE INDEX review_tasks_submitted_by_id_idx ON review_tasks (submitted_by_id);
CREATE INDEX review_tasks_reviewer_id_idx ON review_tasks (reviewer_id);

-- publication_publicationtask
CREATE TABLE publication_tasks (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id      bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    version_id       bigint      NOT NULL REFERENCES advisory_versions (id) ON DELETE RESTRICT,
    status           varchar(16) NOT NULL DEFAULT 'queued',
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text        NOT NULL DEFAULT '',
    started_at       timestamptz NULL,
    finished_at      timestamptz NULL,
    queue_message_id text        NOT NULL DEFAULT '',
    enqueued_by_id   bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    commit_sha       varchar(64) NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT publication_tasks_status_check
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT publication_tasks_attempts_check CHECK (attempts >= 0)
);
-- "At most one queued/running task per advisory" backed by the index the
-- data model calls a safe addition.
CREATE UNIQUE INDEX publication_task_one_active_per_advisory ON publication_tasks (advisory_id) WHERE status IN ('queued', 'running');
CREATE INDEX publication_tasks_status_created_idx ON publication_tasks (status, created_at);
-- advisory_id is covered by the leading column.
CREATE INDEX publication_tasks_advisory_status_idx ON publication_tasks (advisory_id, status);
CREATE INDEX publication_tasks_version_id_idx ON publication_tasks (version_id);
CREATE INDEX publication_tasks_enqueued_by_id_idx ON publication_tasks (enqueued_by_id);

-- publication_publicationartifact
CREATE TABLE publication_artifacts (
    id         bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    bigint       NOT NULL REFERENCES publication_tasks (id) ON DELETE CASCADE,
    kind       varchar(8)   NOT NULL,
    path       varchar(255) NOT NULL,
    content    jsonb        NOT NULL,
    created_at timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT publication_artifacts_task_kind_unique UNIQUE (task_id, kind),
    CONSTRAINT publication_artifacts_kind_check CHECK (kind IN ('osv', 'csaf', 'cve'))
);
-- task_id is covered by publication_artifacts_task_kind_unique.

-- publication_publicationrepositoryconfig
CREATE TABLE publication_repository_configs (
    id                  bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                varchar(64)  NOT NULL,
    is_active           boolean      NOT NULL DEFAULT false,
    repo_url            varchar(512) NOT NULL,
    branch              varchar(128) NOT NULL DEFAULT 'main',
    auth_method         varchar(8)   NOT NULL DEFAULT 'ssh',
    ssh_key_path        varchar(512) NOT NULL DEFAULT '',
    token               varchar(512) NOT NULL DEFAULT '',
    commit_author_name  varchar(200) NOT NULL,
    commit_author_email varchar(254) NOT NULL,
    osv_path_template   varchar(255) NOT NULL DEFAULT 'osv/{year}/{advisory_id}.json',
    csaf_path_template  varchar(255) NOT NULL DEFAULT 'csaf/{year}/{advisory_id}.json',
    cve_path_template   varchar(255) NOT NULL DEFAULT 'cves/{year}/{bucket}/{cve_id}.json',
    CONSTRAINT publication_repository_configs_name_unique UNIQUE (name),
    CONSTRAINT publication_repository_configs_auth_method_check CHECK (auth_method IN ('ssh', 'token'))
);

-- ghsa_ghsacvepushtask
CREATE TABLE ghsa_cve_push_tasks (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id      bigint      NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    cve_id           varchar(32) NOT NULL,
    status           varchar(16) NOT NULL DEFAULT 'queued',
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text        NOT NULL DEFAULT '',
    started_at       timestamptz NULL,
    finished_at      timestamptz NULL,
    requested_by_id  bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    queue_message_id text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ghsa_cve_push_tasks_cve_id_format CHECK (cve_id ~ '^CVE-\d{4}-\d{4,19}$'),
    CONSTRAINT ghsa_cve_push_tasks_status_check
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT ghsa_cve_push_tasks_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX ghsa_cve_push_tasks_status_created_idx ON ghsa_cve_push_tasks (status, created_at);
-- advisory_id is covered by the leading column.
CREATE INDEX ghsa_cve_push_tasks_advisory_status_idx ON ghsa_cve_push_tasks (advisory_id, status);
CREATE INDEX ghsa_cve_push_tasks_requested_by_id_idx ON ghsa_cve_push_tasks (requested_by_id);

-- ghsa_ghsasyncrun
CREATE TABLE ghsa_sync_runs (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope              varchar(16) NOT NULL,
    project_id         uuid        NULL REFERENCES projects (id) ON DELETE SET NULL,
    advisory_id        bigint      NULL REFERENCES advisories (id) ON DELETE SET NULL,
    status             varchar(16) NOT NULL DEFAULT 'running',
    requested_by_id    bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz NULL,
    advisories_created integer     NOT NULL DEFAULT 0,
    advisories_updated integer     NOT NULL DEFAULT 0,
    errors_count       integer     NOT NULL DEFAULT 0,
    last_error         text        NOT NULL DEFAULT '',
    CONSTRAINT ghsa_sync_runs_scope_check
        CHECK (scope IN ('single', 'project', 'all', 'pmi_mirror')),
    CONSTRAINT ghsa_sync_runs_status_check
        CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    CONSTRAINT ghsa_sync_runs_counters_check
        CHECK (advisories_created >= 0 AND advisories_updated >= 0 AND errors_count >= 0)
);
CREATE INDEX ghsa_sync_runs_scope_started_idx ON ghsa_sync_runs (scope, started_at);
-- project_id is covered by the leading column.
CREATE INDEX ghsa_sync_runs_project_started_idx ON ghsa_sync_runs (project_id, started_at);
CREATE INDEX ghsa_sync_runs_status_idx ON ghsa_sync_runs (status);
CREATE INDEX ghsa_sync_runs_advisory_id_idx ON ghsa_sync_runs (advisory_id);
CREATE INDEX ghsa_sync_runs_requested_by_id_idx ON ghsa_sync_runs (requested_by_id);

-- ghsa_githubappinstallation
CREATE TABLE github_app_installations (
    id              bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    installation_id bigint       NOT NULL,
    account_login   varchar(100) NOT NULL,
    account_type    varchar(16)  NOT NULL DEFAULT 'Organization',
    app_slug        varchar(100) NOT NULL DEFAULT '',
    suspended_at    timestamptz  NULL,
    last_seen_at    timestamptz  NULL,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT github_app_installations_installation_id_unique UNIQUE (installation_id),
    CONSTRAINT github_app_installations_account_login_unique UNIQUE (account_login),
    -- Capitalised, as GitHub sends them.
    CONSTRAINT github_app_installations_account_type_check
        CHECK (account_type IN ('Organization', 'User'))
);
CREATE INDEX github_app_installations_suspended_at_idx ON github_app_installations (suspended_at);

-- ghsa_webhookdelivery (the request body is never stored)
CREATE TABLE webhook_deliveries (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     varchar(64) NOT NULL,
    event           varchar(64) NOT NULL,
    action          varchar(64) NOT NULL DEFAULT '',
    -- No FK (as in the original).
    installation_id bigint      NULL,
    status          varchar(16) NOT NULL DEFAULT 'received',
    last_error      text        NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz NULL,
    CONSTRAINT webhook_deliveries_delivery_id_unique UNIQUE (delivery_id),
    CONSTRAINT webhook_deliveries_status_check
        CHECK (status IN ('received', 'processed', 'skipped', 'failed'))
);
CREATE INDEX webhook_deliveries_event_action_idx ON webhook_deliveries (event, action);
CREATE INDEX webhook_deliveries_status_received_idx ON webhook_deliveries (status, received_at);

-- intake_honeypotsubmission
CREATE TABLE honeypot_submissions (
    id                   uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    submitted_ip         inet         NULL,
    submitted_user_agent varchar(512) NOT NULL DEFAULT '',
    honeypot_field_value varchar(512) NOT NULL DEFAULT '',
    submitted_at         timestamptz  NOT NULL DEFAULT now(),
    pii_cleared_at       timestamptz  NULL
);
CREATE INDEX honeypot_submissions_submitted_at_idx ON honeypot_submissions (submitted_at);

-- similarity_similaritycheck
CREATE TABLE similarity_checks (
    id                  bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id         bigint       NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    version_id          bigint       NOT NULL REFERENCES advisory_versions (id) ON DELETE RESTRICT,
    status              varchar(16)  NOT NULL DEFAULT 'queued',
    attempts            integer      NOT NULL DEFAULT 0,
    last_error          text         NOT NULL DEFAULT '',
    note                varchar(200) NOT NULL DEFAULT '',
    candidate_pool_size integer      NOT NULL DEFAULT 0,
    provider            varchar(32)  NOT NULL DEFAULT '',
    model               varchar(100) NOT NULL DEFAULT '',
    started_at          timestamptz  NULL,
    finished_at         timestamptz  NULL,
    queue_message_id    text         NOT NULL DEFAULT '',
    enqueued_by_id      bigint       NULL REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT similarity_checks_status_check
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT similarity_checks_counters_check
        CHECK (attempts >= 0 AND candidate_pool_size >= 0)
);
-- "One queued/running check per advisory" backed by a partial unique index.
CREATE UNIQUE INDEX similarity_check_one_active_per_advisory ON similarity_checks (advisory_id) WHERE status IN ('queued', 'running');
CREATE INDEX similarity_checks_status_created_idx ON similarity_checks (status, created_at);
-- advisory_id is covered by the leading column.
CREATE INDEX similarity_checks_advisory_status_idx ON similarity_checks (advisory_id, status);
CREATE INDEX similarity_checks_version_id_idx ON similarity_checks (version_id);
CREATE INDEX similarity_checks_enqueued_by_id_idx ON similarity_checks (enqueued_by_id);

-- similarity_similaritycandidate
CREATE TABLE similarity_candidates (
    id                  bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_run_id        bigint       NOT NULL REFERENCES similarity_checks (id) ON DELETE CASCADE,
    matched_advisory_id bigint       NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    confidence          smallint     NOT NULL,
    rationale           varchar(500) NOT NULL DEFAULT '',
    rank                smallint     NOT NULL,
    CONSTRAINT simcand_unique_match UNIQUE (check_run_id, matched_advisory_id),
    CONSTRAINT simcand_unique_rank UNIQUE (check_run_id, rank),
    -- Clamped to 0-100 by the application before storage.
    CONSTRAINT similarity_candidates_confidence_check CHECK (confidence >= 0 AND confidence <= 100),
    CONSTRAINT similarity_candidates_rank_check CHECK (rank >= 0)
);
-- check_run_id is covered by the unique constraints.
CREATE INDEX similarity_candidates_matched_advisory_id_idx ON similarity_candidates (matched_advisory_id);

-- similarity_advisoryfingerprint (mutable cache)
CREATE TABLE advisory_fingerprints (
    id           bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    advisory_id  bigint       NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    content_hash varchar(64)  NOT NULL,
    text         text         NOT NULL,
    provider     varchar(32)  NOT NULL,
    model        varchar(100) NOT NULL,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    updated_at   timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT advisory_fingerprints_advisory_unique UNIQUE (advisory_id),
    CONSTRAINT advisory_fingerprints_content_hash_format CHECK (content_hash ~ '^[0-9a-f]{64}$')
);

-- admin_console_maintenancemode (singleton; absent row = off)
CREATE TABLE maintenance_mode (
    id            bigint      PRIMARY KEY DEFAULT 1,
    is_enabled    boolean     NOT NULL DEFAULT false,
    message       text        NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by_id bigint      NULL REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT maintenance_mode_singleton CHECK (id = 1)
);
CREATE INDEX maintenance_mode_updated_by_id_idx ON maintenance_mode (updated_by_id);

-- +goose Down

DROP TABLE IF EXISTS maintenance_mode;
DROP TABLE IF EXISTS advisory_fingerprints;
DROP TABLE IF EXISTS similarity_candidates;
DROP TABLE IF EXISTS similarity_checks;
DROP TABLE IF EXISTS honeypot_submissions;
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS github_app_installations;
DROP TABLE IF EXISTS ghsa_sync_runs;
DROP TABLE IF EXISTS ghsa_cve_push_tasks;
DROP TABLE IF EXISTS publication_repository_configs;
DROP TABLE IF EXISTS publication_artifacts;
DROP TABLE IF EXISTS publication_tasks;
DROP TABLE IF EXISTS review_tasks;
DROP TABLE IF EXISTS orphan_cve_reassignments;
DROP TABLE IF EXISTS orphan_cves;
DROP TABLE IF EXISTS cve_requests;
