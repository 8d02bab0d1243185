package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/eclipse-csi/advisoryhub/migrations"
)

// MigrationResult is one applied migration.
type MigrationResult struct {
	Version int64
	Source  string
}

// Migrate applies every pending migration in migrations.FS with goose. A
// PostgreSQL session lock serialises concurrent migrators (several function
// instances, or the shim and a test).
func (db *DB) Migrate(ctx context.Context) ([]MigrationResult, error) {
	return migrate(ctx, db, migrations.FS)
}

func migrate(ctx context.Context, db *DB, fsys fs.FS) ([]MigrationResult, error) {
	if db.tx != nil {
		return nil, ErrNestedTx
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	p, err := newProvider(sqlDB, fsys)
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	out := make([]MigrationResult, 0, len(res))
	for _, r := range res {
		out = append(out, MigrationResult{Version: r.Source.Version, Source: r.Source.Path})
	}
	return out, nil
}

// SchemaVersion returns the applied and the newest known migration versions.
func (db *DB) SchemaVersion(ctx context.Context) (current, target int64, err error) {
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	p, err := newProvider(sqlDB, migrations.FS)
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

func newProvider(sqlDB *sql.DB, fsys fs.FS) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return p, nil
}
