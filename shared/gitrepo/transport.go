package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/file"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// remote is one call's connection parameters: endpoint, transport and
// credentials. It lives for one Publish and is never stored.
type remote struct {
	ep   *transport.Endpoint
	tr   transport.Transport
	auth transport.AuthMethod
}

// dial prepares the transport of one call. In SSH mode it loads the pinned
// host key through the store with ctx.
func (p *Publisher) dial(ctx context.Context) (*remote, error) {
	ep, err := transport.NewEndpoint(p.cfg.URL)
	if err != nil {
		return nil, &Error{Op: "config", Kind: ErrConfig, Detail: p.secrets.redact(err.Error())}
	}
	r := &remote{ep: ep}
	switch ep.Protocol {
	case "file":
		r.tr = file.DefaultClient
	case "https":
		r.tr = githttp.NewClient(p.cfg.HTTPClient)
		r.auth = &githttp.BasicAuth{Username: TokenUser, Password: p.cfg.Token}
	case "ssh":
		host := net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
		if ep.Port == 0 {
			host = net.JoinHostPort(ep.Host, "22")
		}
		cb, algos, err := pinnedHostKey(ctx, p.cfg.HostKeys, host)
		if err != nil {
			return nil, &Error{Op: "config", Kind: ErrConfig, Detail: p.secrets.redact(err.Error())}
		}
		user := ep.User
		if user == "" {
			user = gitssh.DefaultUsername
		}
		r.tr = gitssh.DefaultClient
		r.auth = &sshAuth{user: user, signer: p.signer, hostKey: cb, algos: algos}
	default:
		return nil, &Error{Op: "config", Kind: ErrConfig, Detail: fmt.Sprintf("unsupported protocol %q", ep.Protocol)}
	}
	return r, nil
}

// sshAuth is public-key authentication with a per-call host key callback.
type sshAuth struct {
	user    string
	signer  ssh.Signer
	hostKey ssh.HostKeyCallback
	algos   []string
}

func (a *sshAuth) Name() string   { return gitssh.PublicKeysName }
func (a *sshAuth) String() string { return "user: " + a.user + ", name: " + a.Name() }

func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.hostKey,
		HostKeyAlgorithms: a.algos,
		Timeout:           sshDialTimeout,
	}, nil
}

// fetchSpec says what to fetch of the branch tip.
type fetchSpec struct {
	depth int
	// filter is asked for (partial clone) when the server supports it. With
	// lazy, only if the server also lets the client fetch the omitted
	// objects by id later (allow-reachable-sha1-in-want).
	filter packp.Filter
	lazy   bool
}

// fetch downloads the branch tip as spec says into s. It returns the zero
// hash when the repository is empty or has no such branch, and whether the
// filter was applied (objects are missing from s).
func (r *remote) fetch(ctx context.Context, s storer.Storer, branch plumbing.ReferenceName, spec fetchSpec) (head plumbing.Hash, partial bool, err error) {
	sess, err := r.tr.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, false, nil
	}
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	head, ok := ar.References[branch.String()]
	if !ok {
		return plumbing.ZeroHash, false, nil
	}
	partial = spec.filter != "" && ar.Capabilities.Supports(capability.Filter) &&
		(!spec.lazy || ar.Capabilities.Supports(capability.AllowReachableSHA1InWant))
	filter := packp.Filter("")
	if partial {
		filter = spec.filter
	}
	return head, partial, uploadPack(ctx, sess, ar, s, []plumbing.Hash{head}, spec.depth, filter)
}

// fetchObjects downloads the objects wants (by id, with depth when > 0)
// into s in a session of its own.
func (r *remote) fetchObjects(ctx context.Context, s storer.Storer, wants []plumbing.Hash, depth int) error {
	sess, err := r.tr.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return err
	}
	return uploadPack(ctx, sess, ar, s, wants, depth, "")
}

func uploadPack(ctx context.Context, sess transport.UploadPackSession, ar *packp.AdvRefs, s storer.Storer, wants []plumbing.Hash, depth int, filter packp.Filter) error {
	req := packp.NewUploadPackRequestFromCapabilities(ar.Capabilities)
	req.Wants = wants
	if depth > 0 {
		req.Depth = packp.DepthCommits(depth)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return err
		}
	}
	if filter != "" {
		req.Filter = filter
		if err := req.Capabilities.Set(capability.Filter); err != nil {
			return err
		}
	}
	if ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return err
		}
	}
	resp, err := sess.UploadPack(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Close()
	return packfile.UpdateObjectStorage(s, demux(req.Capabilities, resp, nil))
}

func demux(caps *capability.List, r io.Reader, progress sideband.Progress) io.Reader {
	var t sideband.Type
	switch {
	case caps.Supports(capability.Sideband64k):
		t = sideband.Sideband64k
	case caps.Supports(capability.Sideband):
		t = sideband.Sideband
	default:
		return r
	}
	d := sideband.NewDemuxer(t, r)
	d.Progress = progress
	return d
}

// push sends objs and moves branch from old to new, refusing to proceed
// when the remote branch is no longer at old (compare-and-swap). The pack
// holds exactly the objects the edit created, so it stays small whatever
// the size of the repository.
func (r *remote) push(ctx context.Context, s storer.EncodedObjectStorer, branch plumbing.ReferenceName, old, new plumbing.Hash, objs []plumbing.Hash, beforeSend func()) error {
	sess, err := r.tr.NewReceivePackSession(r.ep, r.auth)
	if err != nil {
		return err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return err
	}
	current := plumbing.ZeroHash
	if ar != nil {
		if h, ok := ar.References[branch.String()]; ok {
			current = h
		}
	}
	if current != old {
		return &Error{Op: "push", Kind: ErrNonFastForward,
			Detail: fmt.Sprintf("%s is at %s on the remote, expected %s", branch.Short(), short(current), short(old))}
	}
	var caps *capability.List
	if ar != nil {
		caps = ar.Capabilities
	} else {
		caps = capability.NewList()
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(caps)
	var remoteMsg bytes.Buffer
	if caps.Supports(capability.Sideband64k) {
		_ = req.Capabilities.Set(capability.Sideband64k)
		req.Progress = &limitedWriter{w: &remoteMsg, n: 4096}
	} else if caps.Supports(capability.Sideband) {
		_ = req.Capabilities.Set(capability.Sideband)
		req.Progress = &limitedWriter{w: &remoteMsg, n: 4096}
	}
	req.Commands = []*packp.Command{{Name: branch, Old: old, New: new}}
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, s, false).Encode(objs, 0); err != nil {
		return fmt.Errorf("encode pack: %w", err)
	}
	req.Packfile = io.NopCloser(&pack)
	if beforeSend != nil {
		beforeSend()
	}
	rs, err := sess.ReceivePack(ctx, req)
	if rs != nil {
		if rs.UnpackStatus != "ok" {
			return &Error{Op: "push", Kind: ErrRejected, Detail: "unpack failed: " + rs.UnpackStatus + remoteText(&remoteMsg)}
		}
		for _, cs := range rs.CommandStatuses {
			if cs.Status != "ok" {
				return &Error{Op: "push", Kind: rejection(cs.Status), Detail: cs.Status + remoteText(&remoteMsg)}
			}
		}
	}
	if err != nil {
		if msg := remoteText(&remoteMsg); msg != "" {
			return fmt.Errorf("%w%s", err, msg)
		}
		return err
	}
	return nil
}

func remoteText(b *bytes.Buffer) string {
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return " (remote: " + strings.Join(lines, "; ") + ")"
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "(none)"
	}
	return h.String()[:12]
}
