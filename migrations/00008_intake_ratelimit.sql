-- Rate-limit counters and ALTCHA replay markers (new; the original kept
-- both in its cache). Function instances share no memory, so both live in
-- PostgreSQL (operations.md preamble, INV-RATELIMIT-1). Neither table holds
-- advisory data: no row-level security.

-- +goose Up

-- new: one fixed-window counter per (route, subject). subject is
-- 'u:<user id>' for a signed-in caller or 'ip:<client address>' otherwise.
-- A hit in a later window restarts the count at 1 (upsert-and-compare in
-- one statement, so concurrent instances never lose a hit).
CREATE TABLE rate_limit_counters (
    route        text        NOT NULL,
    subject      text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    expires_at   timestamptz NOT NULL,
    CONSTRAINT rate_limit_counters_pkey PRIMARY KEY (route, subject),
    CONSTRAINT rate_limit_counters_hits_check CHECK (hits >= 0),
    CONSTRAINT rate_limit_counters_route_not_empty CHECK (route <> ''),
    CONSTRAINT rate_limit_counters_subject_not_empty CHECK (subject <> ''),
    CONSTRAINT rate_limit_counters_window_check CHECK (expires_at > window_start)
);
CREATE INDEX rate_limit_counters_expires_at_idx ON rate_limit_counters (expires_at);

-- new: ALTCHA proof-of-work replay guard. One row per accepted challenge
-- (SHA-256 of the challenge string) until the challenge expires; a second
-- submission of the same solution finds the row and is refused.
CREATE TABLE altcha_replay_markers (
    challenge_hash bytea       NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT altcha_replay_markers_pkey PRIMARY KEY (challenge_hash),
    CONSTRAINT altcha_replay_markers_hash_sha256 CHECK (octet_length(challenge_hash) = 32)
);
CREATE INDEX altcha_replay_markers_expires_at_idx ON altcha_replay_markers (expires_at);

-- +goose Down
DROP TABLE IF EXISTS altcha_replay_markers;
DROP TABLE IF EXISTS rate_limit_counters;
