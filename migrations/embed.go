// Package migrations holds the versioned SQL schema, applied by shared/postgres.
package migrations

import "embed"

// FS holds the goose migration files.
//
//go:embed *.sql
var FS embed.FS
