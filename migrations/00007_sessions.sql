-- Server-side sign-in state (data-model §17): the functions share no memory,
-- so sessions and the OIDC authorization requests in flight live here. No
-- row-level security: the auth middleware reads these before any principal
-- is known, and no advisory data is reachable through them.

-- +goose Up

-- new: one row per signed-in browser. The cookie carries a random 256-bit
-- id; only its SHA-256 is stored, so a database read does not yield a usable
-- cookie.
CREATE TABLE sessions (
    id_hash         bytea       PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    -- absolute end, fixed at sign-in; the idle timeout is checked against
    -- last_seen_at
    expires_at      timestamptz NOT NULL,
    -- the ID token's auth_time (when the user last authenticated at the IdP)
    auth_time       timestamptz NULL,
    -- the raw ID token, kept only as id_token_hint for RP-initiated logout
    id_token        text        NOT NULL DEFAULT '',
    -- step-up (permissions §8): stamped only after a prompt=login round trip
    -- whose auth_time was fresh, while step_up_pending was set
    step_up_auth_at timestamptz NULL,
    step_up_pending boolean     NOT NULL DEFAULT false,
    step_up_next    text        NOT NULL DEFAULT '',
    CONSTRAINT sessions_id_hash_len CHECK (octet_length(id_hash) = 32),
    CONSTRAINT sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at_idx ON sessions (last_seen_at);

-- new: an authorization request between /oidc/authenticate/ (or
-- /oidc/step-up/) and /oidc/callback/. Keyed by the SHA-256 of the state
-- parameter, which the browser also holds in a short-lived cookie; consumed
-- exactly once (DELETE … RETURNING).
CREATE TABLE login_flows (
    state_hash    bytea       PRIMARY KEY,
    nonce         text        NOT NULL,
    code_verifier text        NOT NULL DEFAULT '',
    next_path     text        NOT NULL DEFAULT '/',
    -- a step-up flow (prompt=login&max_age=0) started from this session
    step_up       boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CONSTRAINT login_flows_state_hash_len CHECK (octet_length(state_hash) = 32),
    CONSTRAINT login_flows_nonce_not_empty CHECK (nonce <> ''),
    CONSTRAINT login_flows_next_local CHECK (next_path LIKE '/%' AND next_path NOT LIKE '//%')
);
CREATE INDEX login_flows_expires_at_idx ON login_flows (expires_at);

-- +goose Down

DROP TABLE IF EXISTS login_flows;
DROP TABLE IF EXISTS sessions;
