// Package pgembed runs a private PostgreSQL cluster from the server binaries
// installed on the machine (initdb, pg_ctl, postgres), for the tests and the
// local shim when DATABASE_URL is unset. No Docker.
//
// The server listens only on a Unix socket inside its own directory, so any
// number of clusters can run side by side. As root, the server runs as the
// unprivileged user "nobody" (PostgreSQL refuses to run as root).
package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned when no PostgreSQL server binaries are found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin: " +
	"install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or set DATABASE_URL to an existing server")

// Superuser is the bootstrap superuser of every cluster.
const Superuser = "postgres"

// Options configures Start.
type Options struct {
	// Dir holds the data directory ("data") and the socket. It is created if
	// missing. A cluster already initialised there is reused.
	Dir string
	// Ephemeral trades durability for speed (fsync off): for tests only.
	Ephemeral bool
}

// Cluster is a running private server.
type Cluster struct {
	dir     string
	dataDir string
	bin     string
	cred    *syscall.Credential
	started bool // false when we found it already running (and so won't stop it)
}

// FindBinaries returns the directory that holds initdb, pg_ctl and postgres.
func FindBinaries() (string, error) {
	return findBinaries(exec.LookPath, "/usr/lib/postgresql/*/bin")
}

func findBinaries(lookPath func(string) (string, error), glob string) (string, error) {
	if p, err := lookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(real)
			if hasAll(dir) {
				return dir, nil
			}
		}
	}
	matches, _ := filepath.Glob(glob)
	// Newest major version first.
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, dir := range matches {
		if hasAll(dir) {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func hasAll(dir string) bool {
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// Start initialises (if needed) and starts the cluster in opts.Dir. If a
// server from an earlier run is still up there, it is reused.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgembed: Dir is required")
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	// The socket path must fit in sun_path (107 bytes).
	if len(dir)+len("/.s.PGSQL.5432") > 100 {
		return nil, fmt.Errorf("pgembed: directory path %q is too long for a Unix socket; choose a shorter one", dir)
	}
	c := &Cluster{dir: dir, dataDir: filepath.Join(dir, "data"), bin: bin}
	if os.Geteuid() == 0 {
		cred, err := nobody()
		if err != nil {
			return nil, err
		}
		c.cred = cred
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	if c.cred != nil {
		if err := c.prepareForNobody(); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if c.running(ctx) {
		return c, nil
	}
	if err := c.start(ctx, opts.Ephemeral); err != nil {
		return nil, err
	}
	c.started = true
	return c, nil
}

// nobody returns the credentials of the unprivileged user the server runs as.
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("pgembed: running as root, but no user \"nobody\" to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareForNobody hands the cluster directory to nobody and checks that
// nobody can reach it.
func (c *Cluster) prepareForNobody() error {
	err := filepath.Walk(c.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(c.cred.Uid), int(c.cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("pgembed: hand %s to nobody: %w", c.dir, err)
	}
	for d := filepath.Dir(c.dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgembed: the server runs as \"nobody\", which cannot enter %s (mode %v): choose a directory whose parents are world-searchable", d, fi.Mode().Perm())
		}
		if d == "/" {
			return nil
		}
	}
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + c.bin + ":/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := c.command(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgembed: %s: %w\n%s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	return c.run(ctx, "initdb", "-D", c.dataDir, "-U", Superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
}

func (c *Cluster) running(ctx context.Context) bool {
	return c.command(ctx, "pg_ctl", "-D", c.dataDir, "status").Run() == nil
}

func (c *Cluster) start(ctx context.Context, ephemeral bool) error {
	opts := []string{
		"-k", c.dir, // socket directory
		"-c", "listen_addresses=",
		"-c", "max_connections=200",
		"-c", "shared_buffers=128MB",
		"-c", "timezone=UTC",
	}
	if ephemeral {
		opts = append(opts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return c.run(ctx, "pg_ctl", "-D", c.dataDir, "-l", filepath.Join(c.dir, "server.log"),
		"-o", strings.Join(opts, " "), "-w", "-t", "60", "start")
}

// Stop shuts the server down (fast mode). A server this process did not
// start (reused from an earlier run) is stopped too: the caller owns Dir.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !c.running(ctx) {
		return nil
	}
	return c.run(ctx, "pg_ctl", "-D", c.dataDir, "-m", "fast", "-w", "stop")
}

// Dir returns the cluster directory (which is also the socket directory).
func (c *Cluster) Dir() string { return c.dir }

// URL returns a connection URL for user and database over the socket.
func (c *Cluster) URL(user, database string) string {
	q := url.Values{}
	q.Set("host", c.dir)
	q.Set("sslmode", "disable")
	return (&url.URL{Scheme: "postgres", User: url.User(user), Path: "/" + database, RawQuery: q.Encode()}).String()
}

// EnsureDatabase creates (if missing) a login role that is neither superuser
// nor BYPASSRLS, and a database it owns, and returns the URL to connect as
// that role — so row-level security and the append-only triggers apply
// locally exactly as in production.
func (c *Cluster) EnsureDatabase(ctx context.Context, role, database string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL(Superuser, "postgres"))
	if err != nil {
		return "", fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
		return "", fmt.Errorf("pgembed: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`); err != nil {
			return "", fmt.Errorf("pgembed: create role: %w", err)
		}
	}
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, database).Scan(&exists); err != nil {
		return "", fmt.Errorf("pgembed: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{database}.Sanitize()+` OWNER `+pgx.Identifier{role}.Sanitize()); err != nil {
			return "", fmt.Errorf("pgembed: create database: %w", err)
		}
	}
	return c.URL(role, database), nil
}
