// Package gitrepo publishes files to the publication repository with
// go-git, entirely in memory.
//
// Each Publish fetches the branch tip with depth 1 into a fresh in-memory
// object store (INV-PUB-1, INV-PUB-3: no working copy, nothing on disk, no
// history beyond the tip). When the server supports partial clones and
// fetching objects by id (GitHub, GitLab), only the commit and its trees
// are fetched; blobs come later, a directory at a time, if Request.Derive
// reads them. The changed blobs, and new trees along their paths only, are
// written straight onto the fetched tree (no worktree, so the cost does not
// grow with the number of files); the commit is made by the configured
// author and exactly the new objects are pushed, with a compare-and-swap on
// the branch: if another publisher moved it in between, the push fails
// with ErrNonFastForward and nothing changes. Identical content makes no
// commit, and a task trailer lets a worker recognise its own commit after
// a crash (Result.Recognized, FindCommit).
//
// Authentication is exactly one of an HTTPS token (basic auth as
// "x-access-token") or an SSH key (INV-PUB-2). SSH host keys are trusted on
// first use and then pinned through a HostKeyStore. Errors are classified
// (ErrNonFastForward, ErrAuth, ErrUnreachable, ...) and redacted: they never
// carry the token, the key or URL credentials (INV-SECRET-1).
package gitrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
	"golang.org/x/crypto/ssh"
)

// TokenUser is the basic-auth user name sent with the HTTPS token.
const TokenUser = "x-access-token"

// TaskTrailer is the commit trailer that names the publication task, so a
// worker can recognise a commit it pushed before crashing.
const TaskTrailer = "AdvisoryHub-Task"

const (
	defaultBranch  = "main"
	sshDialTimeout = 30 * time.Second
	httpTimeout    = 5 * time.Minute
	// maxLazyBlobs bounds a by-id blob fetch in a partial clone; beyond
	// it, fetching the whole tip is cheaper.
	maxLazyBlobs = 512
)

// Config configures a Publisher. Exactly one of Token (HTTPS URL) and
// SSHKey (SSH URL) must be set; a file:// URL (tests, local runs) takes
// neither.
type Config struct {
	URL    string // https://host/org/repo.git, ssh://git@host/org/repo.git, git@host:org/repo.git or file:///path
	Branch string // default "main"

	Token    string       // HTTPS token mode
	SSHKey   []byte       // SSH mode: PEM private key (unencrypted)
	HostKeys HostKeyStore // SSH mode: where the host key is pinned (required)

	AuthorName  string // commit author and committer
	AuthorEmail string

	Templates Templates // path templates; zero fields take the defaults

	// HTTPClient carries HTTPS traffic (timeouts, proxies, test CAs).
	// Default: a client with a 5-minute timeout.
	HTTPClient *http.Client
	// Now stamps commits. Default: time.Now.
	Now func() time.Time
}

// File is one file to write, at a slash-separated path relative to the
// repository root.
type File struct {
	Path    string
	Content []byte
}

// Request is one publication.
type Request struct {
	Files   []File
	Message string // commit message, e.g. "Publish advisory ECL-…"
	// TaskID, when set, is recorded as an "AdvisoryHub-Task: <id>"
	// trailer, for FindCommit and Result.Recognized.
	TaskID string
	// Derive, when set, runs after Files are written, on the resulting
	// tree, and returns more files to write (the CSAF provider files, say).
	// changed lists the paths of Files whose content differed from the tip
	// (sorted; empty on an identical retry). The fs.FS is read-only, valid
	// only during the call and not safe for concurrent use; in a partial
	// clone, reading a file fetches the blobs of its directory.
	// The derived files must not overlap Files.
	Derive func(ctx context.Context, tree fs.FS, changed []string) ([]File, error)
}

// Result describes a successful publication.
type Result struct {
	Commit  string   // the commit now at the branch tip holding the files
	Parent  string   // the tip before, "" for an initial commit
	Changed []string // paths written with new content, sorted; empty for a no-op
	// Pushed is false when the files were already identical at the tip: no
	// commit was made and Commit is the existing tip (idempotent retry).
	Pushed bool
	// Recognized reports that the tip commit already carries this
	// request's task trailer (a retry after a crash between push and
	// finalisation).
	Recognized bool
}

// Publisher publishes to one repository branch. It holds configuration
// only; every call starts from a fresh in-memory clone, so a Publisher is
// safe for concurrent use.
type Publisher struct {
	cfg     Config
	branch  plumbing.ReferenceName
	signer  ssh.Signer
	secrets secrets

	lazyLimit int // maxLazyBlobs; tests lower it

	// test hooks: before the push session opens, before the pack is sent
	// (after the remote's refs were checked), and on each fetch.
	beforePush func()
	beforeSend func()
	onFetch    func(what string)
}

// New validates cfg (every problem at once) and returns a Publisher.
func New(cfg Config) (*Publisher, error) {
	if cfg.Branch == "" {
		cfg.Branch = defaultBranch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: httpTimeout}
	}
	p := &Publisher{cfg: cfg, branch: plumbing.NewBranchReferenceName(cfg.Branch), lazyLimit: maxLazyBlobs}
	p.secrets = secrets{cfg.Token, string(cfg.SSHKey)}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	protocol := ""
	if strings.TrimSpace(cfg.URL) == "" {
		bad("publication repository URL is not configured")
	} else if ep, err := transport.NewEndpoint(cfg.URL); err != nil {
		bad("repository URL does not parse")
	} else {
		protocol = ep.Protocol
		if ep.Password != "" || (protocol == "https" && ep.User != "") {
			bad("repository URL must not carry credentials; set the token instead")
		}
	}
	hasToken, hasKey := cfg.Token != "", len(cfg.SSHKey) > 0
	switch protocol {
	case "https":
		if !hasToken || hasKey {
			bad("an https repository needs exactly one auth method: the token (and no SSH key)")
		}
	case "ssh":
		if !hasKey || hasToken {
			bad("an ssh repository needs exactly one auth method: the SSH key (and no token)")
		}
		if cfg.HostKeys == nil {
			bad("an ssh repository needs a host key store to pin the host key")
		}
		if hasKey {
			signer, err := ssh.ParsePrivateKey(cfg.SSHKey)
			if err != nil {
				bad("SSH private key does not parse (it must be an unencrypted PEM key)")
			}
			p.signer = signer
		}
	case "file":
		if hasToken || hasKey {
			bad("a file repository takes no credentials")
		}
	case "":
	default:
		bad("unsupported repository protocol %q (use https or ssh)", protocol)
	}
	if !plumbing.NewBranchReferenceName(cfg.Branch).IsBranch() || strings.ContainsAny(cfg.Branch, " ~^:?*[\\") || strings.Contains(cfg.Branch, "..") {
		bad("invalid branch name %q", cfg.Branch)
	}
	if strings.TrimSpace(cfg.AuthorName) == "" || strings.TrimSpace(cfg.AuthorEmail) == "" {
		bad("commit author name and email are required")
	}
	if strings.ContainsAny(cfg.AuthorName+cfg.AuthorEmail, "<>\n") {
		bad("commit author name and email must not contain <, > or newlines")
	}
	if err := cfg.Templates.validate(); err != nil {
		var ge *Error
		if errors.As(err, &ge) {
			bad("%s", ge.Detail)
		} else {
			bad("%v", err)
		}
	}
	if len(problems) > 0 {
		return nil, &Error{Op: "config", Kind: ErrConfig, Detail: p.secrets.redact(strings.Join(problems, "; "))}
	}
	return p, nil
}

// Templates returns the configured path templates (with defaults filled).
func (p *Publisher) Templates() Templates { return p.cfg.Templates.withDefaults() }

// Publish writes req.Files (and whatever req.Derive adds) onto the branch
// tip, commits and pushes. When every file is already identical at the
// tip it pushes nothing and returns the tip (Pushed false). A push that
// loses a race fails with ErrNonFastForward: nothing was changed, and the
// caller retries from the start.
func (p *Publisher) Publish(ctx context.Context, req Request) (Result, error) {
	if err := checkRequest(req); err != nil {
		return Result{}, err
	}
	r, err := p.dial(ctx)
	if err != nil {
		return Result{}, err
	}
	// Only the trees are needed to write files; blobs are fetched when
	// Derive reads them. A server without partial-clone support sends
	// everything.
	st := memory.NewStorage()
	head, partial, err := r.fetch(ctx, st, p.branch, fetchSpec{depth: 1, filter: packp.FilterBlobNone(), lazy: true})
	if err != nil {
		return Result{}, p.secrets.classify(ctx, "clone", err)
	}

	var (
		rootTree plumbing.Hash
		headMsg  string
	)
	if !head.IsZero() {
		c, err := object.GetCommit(st, head)
		if err != nil {
			return Result{}, &Error{Op: "clone", Kind: ErrProtocol, Detail: p.secrets.redact(err.Error())}
		}
		rootTree, headMsg = c.TreeHash, c.Message
	}
	ed := newEditor(st, rootTree)
	p.fetched("tip", partial)
	if partial {
		ed.fetch = func(missing []plumbing.Hash) error {
			if len(missing) <= p.lazyLimit && r.fetchObjects(ctx, st, missing, 0) == nil {
				p.fetched("blobs", true)
				return nil
			}
			// The server refused blobs by id, or a large directory is
			// wanted: fetch the whole tip once instead.
			if err := r.fetchObjects(ctx, st, []plumbing.Hash{head}, 1); err != nil {
				return p.secrets.classify(ctx, "fetch", err)
			}
			p.fetched("tip", false)
			ed.fetch = nil
			return nil
		}
	}
	var changed []string
	write := func(files []File) error {
		for _, f := range files {
			ok, err := ed.write(f.Path, f.Content)
			if err != nil {
				return err
			}
			if ok {
				changed = append(changed, f.Path)
			}
		}
		return nil
	}
	if err := write(req.Files); err != nil {
		return Result{}, err
	}
	if req.Derive != nil {
		more, err := req.Derive(ctx, ed.FS(), sortedUnique(changed))
		if err != nil {
			return Result{}, fmt.Errorf("derive files: %w", err)
		}
		if err := checkFiles(append(slices.Clone(req.Files), more...)); err != nil {
			return Result{}, err
		}
		if err := write(more); err != nil {
			return Result{}, err
		}
	}
	res := Result{Parent: head.String(), Recognized: req.TaskID != "" && hasTrailer(headMsg, req.TaskID)}
	if head.IsZero() {
		res.Parent = ""
	}
	tree, err := ed.commitTree()
	if err != nil {
		return Result{}, &Error{Op: "commit", Kind: ErrProtocol, Detail: p.secrets.redact(err.Error())}
	}
	if !head.IsZero() && tree == rootTree {
		res.Commit = head.String()
		return res, nil
	}

	now := p.cfg.Now()
	sig := object.Signature{Name: p.cfg.AuthorName, Email: p.cfg.AuthorEmail, When: now}
	c := &object.Commit{Author: sig, Committer: sig, Message: commitMessage(req), TreeHash: tree}
	if !head.IsZero() {
		c.ParentHashes = []plumbing.Hash{head}
	}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return Result{}, &Error{Op: "commit", Kind: ErrProtocol, Detail: err.Error()}
	}
	commit, err := st.SetEncodedObject(obj)
	if err != nil {
		return Result{}, &Error{Op: "commit", Kind: ErrProtocol, Detail: err.Error()}
	}
	objs := append(ed.added, commit)

	if p.beforePush != nil {
		p.beforePush()
	}
	if err := r.push(ctx, st, p.branch, head, commit, objs, p.beforeSend); err != nil {
		return Result{}, p.secrets.classify(ctx, "push", err)
	}
	res.Commit = commit.String()
	res.Pushed = true
	res.Recognized = false
	res.Changed = sortedUnique(changed)
	return res, nil
}

// FindCommit looks for a commit carrying the task trailer among the last
// depth commits of the branch (fetched in memory) and returns its hash.
// found is false when there is none (or the branch does not exist).
func (p *Publisher) FindCommit(ctx context.Context, taskID string, depth int) (sha string, found bool, err error) {
	if err := checkTaskID(taskID); err != nil {
		return "", false, err
	}
	depth = max(depth, 1)
	r, err := p.dial(ctx)
	if err != nil {
		return "", false, err
	}
	st := memory.NewStorage()
	head, _, err := r.fetch(ctx, st, p.branch, fetchSpec{depth: depth, filter: packp.FilterTreeDepth(0)})
	if err != nil {
		return "", false, p.secrets.classify(ctx, "fetch", err)
	}
	for h, i := head, 0; !h.IsZero() && i < depth; i++ {
		c, err := object.GetCommit(st, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			break // the shallow boundary
		}
		if err != nil {
			return "", false, &Error{Op: "fetch", Kind: ErrProtocol, Detail: p.secrets.redact(err.Error())}
		}
		if hasTrailer(c.Message, taskID) {
			return h.String(), true, nil
		}
		if len(c.ParentHashes) == 0 {
			break
		}
		h = c.ParentHashes[0]
	}
	return "", false, nil
}

func (p *Publisher) fetched(what string, partial bool) {
	if p.onFetch != nil {
		if partial {
			what += " (partial)"
		}
		p.onFetch(what)
	}
}

func commitMessage(req Request) string {
	msg := strings.TrimRight(req.Message, "\n") + "\n"
	if req.TaskID != "" {
		msg += "\n" + TaskTrailer + ": " + req.TaskID + "\n"
	}
	return msg
}

// hasTrailer reports whether msg holds the task's trailer line.
func hasTrailer(msg, taskID string) bool {
	want := TaskTrailer + ": " + taskID
	sc := bufio.NewScanner(strings.NewReader(msg))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == want {
			return true
		}
	}
	return false
}

func checkRequest(req Request) error {
	if strings.TrimSpace(req.Message) == "" {
		return &Error{Op: "commit", Kind: ErrConfig, Detail: "empty commit message"}
	}
	if req.TaskID != "" {
		if err := checkTaskID(req.TaskID); err != nil {
			return err
		}
	}
	if len(req.Files) == 0 {
		return &Error{Op: "write", Kind: ErrPath, Detail: "no files to publish"}
	}
	return checkFiles(req.Files)
}

func checkTaskID(id string) error {
	if id == "" || strings.ContainsAny(id, "\r\n") || strings.TrimSpace(id) != id {
		return &Error{Op: "commit", Kind: ErrConfig, Detail: "task id must be one non-empty line"}
	}
	return nil
}

// checkFiles validates every path (INV-PUB-8) and refuses a path given
// twice or a path that is also a directory of another.
func checkFiles(files []File) error {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return err
		}
		if seen[f.Path] {
			return &Error{Op: "write", Kind: ErrPath, Detail: fmt.Sprintf("%q given twice", f.Path)}
		}
		seen[f.Path] = true
	}
	for p := range seen {
		for d, _ := splitPath(p); d != ""; d, _ = splitPath(d) {
			if seen[d] {
				return &Error{Op: "write", Kind: ErrPath, Detail: fmt.Sprintf("%q is both a file and a directory", d)}
			}
		}
	}
	return nil
}

func sortedUnique(s []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
