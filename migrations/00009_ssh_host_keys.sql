-- Pinned SSH host keys of publication remotes (new; no original
-- counterpart). The publish function is stateless, so the key trusted on
-- first use must outlive the process that saw it: a later publish refuses a
-- host whose key changed (INV-PUB-2, issue 7). Keys are public, in
-- authorized_keys form; nothing secret is stored here.

-- +goose Up
CREATE TABLE publication_ssh_host_keys (
    host       varchar(255) PRIMARY KEY,
    public_key text         NOT NULL,
    pinned_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT publication_ssh_host_keys_host_not_empty CHECK (host <> ''),
    CONSTRAINT publication_ssh_host_keys_key_not_empty CHECK (public_key <> '')
);

-- +goose Down
DROP TABLE publication_ssh_host_keys;
