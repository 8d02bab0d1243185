-- Background-job infrastructure (new; no Django counterpart): the
-- transactional outbox (INV-PUB-5), idempotency receipts, dead-lettered jobs
-- and scheduler bookkeeping.

-- +goose Up

-- new: transactional outbox, dispatched to the queue after commit
CREATE TABLE outbox (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue         text        NOT NULL,
    kind          text        NOT NULL,
    payload       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz NULL,
    send_attempts integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    CONSTRAINT outbox_queue_check CHECK (queue IN ('publish', 'notify', 'similarity')),
    CONSTRAINT outbox_kind_not_empty CHECK (kind <> ''),
    CONSTRAINT outbox_send_attempts_check CHECK (send_attempts >= 0)
);
CREATE INDEX outbox_unsent_idx ON outbox (created_at) WHERE sent_at IS NULL;

-- new: one row per processed message id (handler idempotency)
CREATE TABLE job_receipts (
    message_id   text        PRIMARY KEY,
    kind         text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_receipts_processed_at_idx ON job_receipts (processed_at);

-- new: messages that exhausted their retries
CREATE TABLE failed_jobs (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id text        NOT NULL,
    queue      text        NOT NULL,
    kind       text        NOT NULL,
    payload    jsonb       NOT NULL,
    attempts   integer     NOT NULL,
    last_error text        NOT NULL DEFAULT '',
    failed_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT failed_jobs_message_id_unique UNIQUE (message_id),
    CONSTRAINT failed_jobs_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX failed_jobs_failed_at_idx ON failed_jobs (failed_at);

-- new: last run of each scheduled job
CREATE TABLE schedule_runs (
    name             text        PRIMARY KEY,
    last_started_at  timestamptz NULL,
    last_finished_at timestamptz NULL,
    last_status      text        NOT NULL DEFAULT '',
    last_error       text        NOT NULL DEFAULT '',
    last_result      jsonb       NULL
);

-- +goose Down

DROP TABLE IF EXISTS schedule_runs;
DROP TABLE IF EXISTS failed_jobs;
DROP TABLE IF EXISTS job_receipts;
DROP TABLE IF EXISTS outbox;
