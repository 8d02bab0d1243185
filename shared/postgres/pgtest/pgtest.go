// Package pgtest gives each test its own freshly migrated PostgreSQL
// database, so tests may run in parallel.
//
// With DATABASE_URL unset, one private cluster per test binary is started
// from the installed PostgreSQL binaries (see pgembed); with it set, that
// server is used (its role needs CREATEDB and CREATEROLE). The schema is
// migrated once into a template database, and each test gets a copy
// (CREATE DATABASE … TEMPLATE), owned by and connected as a role that is
// neither superuser nor BYPASSRLS — as in production, so row-level security
// and the append-only triggers apply to the tests too.
//
// A package that uses pgtest calls pgtest.Main from its TestMain.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/pgembed"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
)

// AppRole is the unprivileged role tests connect as.
const AppRole = "advisoryhub_test"

var (
	mainActive atomic.Bool
	once       sync.Once
	setupErr   error
	state      struct {
		cluster   *pgembed.Cluster
		dir       string
		adminURL  string // superuser (or DATABASE_URL) on its default database
		appPass   string
		template  string
		seq       atomic.Int64
		instances string
	}
)

// Main runs the tests and then stops the private cluster. Use it as
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	mainActive.Store(true)
	code := m.Run()
	teardown()
	os.Exit(code)
}

// Database is one test's database.
type Database struct {
	*postgres.DB
	Name string
	// SuperuserURL connects to the same database as the cluster superuser
	// (or the DATABASE_URL role): for tests that must act outside the
	// application's privileges, e.g. tampering with the ledger.
	SuperuserURL string
	// AppURL connects as the unprivileged application role.
	AppURL string
}

// New returns a migrated database of the test's own, dropped at cleanup.
func New(t testing.TB) *postgres.DB { return Open(t).DB }

// Open is New with the connection details.
func Open(t testing.TB) *Database {
	t.Helper()
	if !mainActive.Load() {
		t.Fatal("pgtest: call pgtest.Main(m) from TestMain in this package, so the cluster is stopped after the tests")
	}
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	name := fmt.Sprintf("%s_t%d", state.instances, state.seq.Add(1))
	if err := adminExec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s OWNER %s`,
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{state.template}.Sanitize(), AppRole)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	appURL := withUser(state.adminURL, AppRole, state.appPass, name)
	db, err := postgres.Open(ctx, appURL, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := adminExec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, pgx.Identifier{name}.Sanitize())); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return &Database{DB: db, Name: name, AppURL: appURL, SuperuserURL: withDatabase(state.adminURL, name)}
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	state.instances = "ahtest_" + randHex(4)
	if u := os.Getenv("DATABASE_URL"); u != "" {
		state.adminURL = u
	} else {
		dir, err := os.MkdirTemp("", "ahpg")
		if err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		state.dir = dir
		c, err := pgembed.Start(ctx, pgembed.Options{Dir: dir, Ephemeral: true})
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		state.cluster = c
		state.adminURL = c.URL(pgembed.Superuser, "postgres")
	}
	state.appPass = randHex(16)
	// The role is shared by every test binary on a server; (re)setting its
	// password each time is harmless: trust auth ignores it, and on a real
	// server each binary connects right after setting it.
	err := adminExec(ctx, fmt.Sprintf(`DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN
			CREATE ROLE %[1]s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
		END IF;
	END $$`, AppRole))
	if err != nil {
		return fmt.Errorf("create role: %w", err)
	}
	if err := adminExec(ctx, fmt.Sprintf(`ALTER ROLE %s PASSWORD '%s'`, AppRole, state.appPass)); err != nil {
		return fmt.Errorf("set role password: %w", err)
	}
	state.template = state.instances + "_tmpl"
	if err := adminExec(ctx, fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, state.template, AppRole)); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	db, err := postgres.Open(ctx, withUser(state.adminURL, AppRole, state.appPass, state.template), postgres.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	return nil
}

func teardown() {
	if state.adminURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if state.template != "" {
		_ = adminExec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, state.template))
	}
	if state.cluster != nil {
		if err := state.cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop cluster:", err)
		}
		os.RemoveAll(state.dir)
	}
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, state.adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withUser(raw, user, pass, database string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = url.UserPassword(user, pass)
	u.Path = "/" + database
	return u.String()
}

func withDatabase(raw, database string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + database
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
