-- The admin inbox's queues (GET /api/dashboard/) read small subsets of
-- large tables: partial indexes keep each queue proportional to its own
-- size, not to the number of advisories or publication tasks.

-- +goose Up
CREATE INDEX advisories_cve_requests_banned_idx ON advisories (modified_at) WHERE cve_requests_banned;
CREATE INDEX advisories_awaiting_republish_idx ON advisories (modified_at) WHERE state = 'published' AND republish_required;
-- "the newest task of an advisory" (failed exports, in-flight checks).
CREATE INDEX publication_tasks_advisory_id_id_idx ON publication_tasks (advisory_id, id);

-- +goose Down
DROP INDEX publication_tasks_advisory_id_id_idx;
DROP INDEX advisories_awaiting_republish_idx;
DROP INDEX advisories_cve_requests_banned_idx;
