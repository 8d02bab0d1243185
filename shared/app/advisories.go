package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Advisories are the advisory use cases: create, edit, read and list, and
// the lifecycle actions (lifecycle.go). Each change is one transaction
// acting as the caller's principal: the advisory row is locked, the
// caller's permission is decided by shared/access on the locked row, the
// change is applied, and its audit entries are written with the caller's
// IP and user agent (lifecycle §0, INV-CONCURRENCY-2, INV-AUDIT-3/4).
//
// Errors: a caller who may not see the advisory gets advisory.ErrNotFound
// (apperr.NotFound, the same answer as for a missing one, INV-PRIVACY-1);
// a state that does not allow the change advisory.ErrIllegalTransition or
// another apperr.Conflict; a refused capability an *access.DenialError
// (apperr.Forbidden); bad input an *advisory.ValidationError
// (apperr.Invalid), after which nothing has been written.
type Advisories struct {
	db    *postgres.DB
	now   func() time.Time
	rand  io.Reader
	lists *listCache
}

// AdvisoriesConfig wires Advisories.
type AdvisoriesConfig struct {
	DB *postgres.DB
	// Now stamps the routing flag and the access review; time.Now when
	// nil.
	Now func() time.Time
	// Rand is the randomness of new advisory ids; crypto/rand when nil.
	Rand io.Reader
	// ListCacheEntries bounds the cache of list pages (see List): 0 means
	// DefaultListCacheEntries, a negative value turns the cache off.
	ListCacheEntries int
}

// NewAdvisories builds the advisory use cases.
func NewAdvisories(cfg AdvisoriesConfig) (*Advisories, error) {
	if cfg.DB == nil {
		return nil, errors.New("advisories: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ListCacheEntries == 0 {
		cfg.ListCacheEntries = DefaultListCacheEntries
	}
	return &Advisories{db: cfg.DB, now: cfg.Now, rand: cfg.Rand, lists: newListCache(cfg.ListCacheEntries)}, nil
}

// NewDraft is the input of CreateDraft.
type NewDraft struct {
	ProjectSlug string
	Content     advisory.Content
}

// CreateDraft creates a native draft on the chosen project (L2): the caller
// must be an admin or on the project's security team
// (can_create_advisory_for_project). The content is validated as a whole.
// v1 is appended in the same transaction (INV-VERSION-1) and the creation
// is audited as advisory.created.
func (s *Advisories) CreateDraft(ctx context.Context, c Caller, in NewDraft) (*advisory.Advisory, error) {
	var a *advisory.Advisory
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		dest, err := projectRef(ctx, tx, in.ProjectSlug)
		if err != nil {
			return err
		}
		t := access.Target{ProjectTeamGroupID: dest.TeamGroupID, ProjectSlug: dest.Slug}
		if err := access.Check(c.Subject(), access.CapCreateAdvisory, t); err != nil {
			return err
		}
		if err := in.Content.Validate(); err != nil {
			return err
		}
		a, err = tx.InsertAdvisory(ctx, postgres.NewAdvisory{
			ProjectID:   dest.ID,
			State:       advisory.StateDraft,
			Kind:        advisory.KindNative,
			Content:     in.Content,
			CreatedByID: c.UserID,
		}, s.rand)
		if err != nil {
			return err
		}
		v, _, err := tx.AppendVersion(ctx, a.ID, c.UserID, postgres.AppendAlways)
		if err != nil {
			return err
		}
		return tx.InsertAudit(ctx, advisoryAudit(c, a, audit.AdvisoryCreated,
			map[string]any{"advisory_id": a.AdvisoryID, "project_slug": dest.Slug, "version": v.Number}))
	})
	if err != nil {
		return nil, fmt.Errorf("create advisory: %w", err)
	}
	return a, nil
}

// Edit replaces the content of an advisory (lifecycle §8). It needs
// can_edit: never on a GHSA-linked or dismissed advisory, owner-only in
// triage, admin-only while flagged for routing or submitted for review. The
// whole content is validated; a rejected change writes nothing. Editing a
// published advisory sets republish_required; a non-admin edit of an
// approved advisory voids the approval (INV-REVIEW-4, audited as
// advisory.review_approval_invalidated). v(n+1) is appended only when the
// payload changed; advisory.edited is written either way, with the payload
// keys that moved.
func (s *Advisories) Edit(ctx context.Context, c Caller, id advisory.ID, content advisory.Content) (*advisory.Advisory, error) {
	return s.Patch(ctx, c, id, func(cur *advisory.Content) error {
		*cur = content
		return nil
	})
}

// Patch is Edit of a change relative to the current content: apply
// receives a copy of the content as it stands under the advisory's row
// lock and modifies it, so two concurrent partial edits (PATCH) each
// apply to the other's result instead of the later one silently undoing
// the earlier (v2 then v3, never a lost update). apply must be a pure
// function of its argument: a transaction retried after a serialization
// failure runs it again.
func (s *Advisories) Patch(ctx context.Context, c Caller, id advisory.ID, apply func(*advisory.Content) error) (*advisory.Advisory, error) {
	return s.change(ctx, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		if err := access.Check(c.Subject(), access.CapEdit, t); err != nil {
			return err
		}
		before, review := a.Payload(), a.ReviewStatus
		content, err := cloneContent(a.Content)
		if err != nil {
			return err
		}
		if err := apply(&content); err != nil {
			return err
		}
		republish := a.RepublishRequired
		save, err := a.Edit(content, c.Subject().Admin())
		if err != nil {
			return err
		}
		if err := tx.UpdateContent(ctx, a); err != nil {
			return err
		}
		if a.ReviewStatus != review || a.RepublishRequired != republish {
			if err := tx.UpdateWorkflow(ctx, a); err != nil {
				return err
			}
		}
		meta, err := appendVersion(ctx, tx, c, a, before)
		if err != nil {
			return err
		}
		entries := []audit.Entry{advisoryAudit(c, a, audit.AdvisoryEdited, meta)}
		if save.ApprovalInvalidated {
			entries = append(entries, approvalInvalidated(c, a))
		}
		return insertAudits(ctx, tx, entries)
	})
}

// cloneContent returns a deep copy of c, so a patch cannot reach into the
// loaded advisory through a shared slice.
func cloneContent(c advisory.Content) (advisory.Content, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return advisory.Content{}, fmt.Errorf("copy content: %w", err)
	}
	var out advisory.Content
	if err := json.Unmarshal(b, &out); err != nil {
		return advisory.Content{}, fmt.Errorf("copy content: %w", err)
	}
	return out, nil
}

// appendVersion appends a version if a's payload moved since before and
// returns the audit metadata naming what moved.
func appendVersion(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, before advisory.Payload) (map[string]any, error) {
	changed, err := advisory.ChangedFields(before, a.Payload())
	if err != nil {
		return nil, err
	}
	v, appended, err := tx.AppendVersion(ctx, a.ID, c.UserID, postgres.AppendIfChanged)
	if err != nil {
		return nil, err
	}
	if changed == nil {
		changed = []string{}
	}
	meta := map[string]any{"changed_fields": changed}
	if appended {
		meta["version"] = v.Number
	}
	return meta, nil
}

// Get returns the advisory with public id id if the caller may see it.
func (s *Advisories) Get(ctx context.Context, c Caller, id advisory.ID) (*advisory.Advisory, error) {
	var out *advisory.Advisory
	err := readVisible(ctx, s.db, c, id, func(_ *postgres.DB, a *advisory.Advisory, _ access.Target) error {
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Versions returns the version history of an advisory the caller may see,
// oldest first.
func (s *Advisories) Versions(ctx context.Context, c Caller, id advisory.ID) ([]advisory.Version, error) {
	var vs []advisory.Version
	err := readVisible(ctx, s.db, c, id, func(tx *postgres.DB, a *advisory.Advisory, _ access.Target) error {
		var err error
		vs, err = tx.Versions(ctx, a.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return vs, nil
}

// List returns one page of the advisories the caller may see that match f,
// newest first, with the total count (INV-PRIVACY-1). Any signed-in caller
// may list; admins see every advisory. Pages are reused while the list
// generation stands (listCache): repeated reads with no change in between
// cost one indexed row read instead of a visibility scan.
func (s *Advisories) List(ctx context.Context, c Caller, f postgres.AdvisoryFilter) (postgres.AdvisoryPage, error) {
	subject := c.Subject()
	if err := access.Check(subject, access.CapListAdvisories, access.Target{}); err != nil {
		return postgres.AdvisoryPage{}, err
	}
	// One snapshot for the generation and the page (REPEATABLE READ; a
	// read-only transaction never fails to serialize): a page cached under
	// generation n is what this snapshot would list if it reads n too.
	f = f.Normalized()
	var page postgres.AdvisoryPage
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		if s.lists == nil {
			var err error
			page, err = tx.ListAdvisories(ctx, subject, f)
			return err
		}
		gen, err := tx.ListGeneration(ctx)
		if err != nil {
			return err
		}
		key := listKey(gen, subject, f)
		var ok bool
		if page, ok = s.lists.get(key); ok {
			return nil
		}
		if page, err = tx.ListAdvisories(ctx, subject, f); err != nil {
			return err
		}
		s.lists.put(key, page)
		return nil
	})
	return page, err
}

// change runs fn on advisory id, locked, in one transaction acting as c,
// after checking that c may see it; fn authorizes the change itself.
func (s *Advisories) change(ctx context.Context, c Caller, id advisory.ID, fn func(*postgres.DB, *advisory.Advisory, access.Target) error) (*advisory.Advisory, error) {
	return s.lockedChange(c.principal(ctx), c, id, access.Visible, fn)
}

// lockedChange runs fn on advisory id, locked, in one transaction acting as
// the principal in ctx, after reach says c may reach the advisory at all; a
// caller it refuses gets the same error as for a missing advisory
// (INV-PRIVACY-1).
func (s *Advisories) lockedChange(ctx context.Context, c Caller, id advisory.ID, reach func(access.Subject, access.Target) bool,
	fn func(*postgres.DB, *advisory.Advisory, access.Target) error) (*advisory.Advisory, error) {
	var out *advisory.Advisory
	err := s.db.InTx(ctx, pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, t, err := lockReachable(ctx, tx, c, id, reach)
		if err != nil {
			return err
		}
		if err := fn(tx, a, t); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readVisible runs fn on advisory id and its access facts in a read-only
// transaction acting as c; an advisory c may not see is not found, like a
// missing one (INV-PRIVACY-1). The checks adapters make before a step-up
// and the read use cases go through it.
func readVisible(ctx context.Context, db *postgres.DB, c Caller, id advisory.ID, fn func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error) error {
	return db.InTx(c.principal(ctx), pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		a, err := tx.AdvisoryByID(ctx, id)
		if err != nil {
			return err
		}
		t, err := visible(ctx, tx, c, a)
		if err != nil {
			return err
		}
		return fn(tx, a, t)
	})
}

// visible loads a's access facts and refuses a caller who may not see it
// with the same error as for a missing advisory (INV-PRIVACY-1). Row-level
// security normally hides such an advisory already; this is the
// application layer of INV-CONF-2.
func visible(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory) (access.Target, error) {
	return reachable(ctx, tx, c, a, access.Visible)
}

// reachable is visible with the rule of who may reach the advisory given.
func reachable(ctx context.Context, tx *postgres.DB, c Caller, a *advisory.Advisory, reach func(access.Subject, access.Target) bool) (access.Target, error) {
	t, err := tx.AccessTarget(ctx, a)
	if err != nil {
		return access.Target{}, err
	}
	if !reach(c.Subject(), t) {
		return access.Target{}, fmt.Errorf("advisory %v: %w", a.AdvisoryID, advisory.ErrNotFound)
	}
	return t, nil
}

// lockVisible locks advisory id and loads its access facts for a caller
// who may see it.
func lockVisible(ctx context.Context, tx *postgres.DB, c Caller, id advisory.ID) (*advisory.Advisory, access.Target, error) {
	return lockReachable(ctx, tx, c, id, access.Visible)
}

// lockReachable locks advisory id and loads its access facts, refusing a
// caller reach excludes as visible does.
func lockReachable(ctx context.Context, tx *postgres.DB, c Caller, id advisory.ID, reach func(access.Subject, access.Target) bool) (*advisory.Advisory, access.Target, error) {
	a, err := tx.AdvisoryByIDForUpdate(ctx, id)
	if err != nil {
		return nil, access.Target{}, err
	}
	t, err := reachable(ctx, tx, c, a, reach)
	if err != nil {
		return nil, access.Target{}, err
	}
	return a, t, nil
}

// projectRef looks up the project a change names by slug; an unknown slug
// is invalid input.
func projectRef(ctx context.Context, tx *postgres.DB, slug string) (advisory.ProjectRef, error) {
	p, err := tx.ProjectBySlug(ctx, slug)
	if errors.Is(err, project.ErrNotFound) {
		return advisory.ProjectRef{}, &advisory.ValidationError{Problems: []advisory.Problem{{Path: "project", Message: "unknown project"}}}
	}
	if err != nil {
		return advisory.ProjectRef{}, err
	}
	return advisory.RefOf(p), nil
}

// advisoryAudit is an audit entry by c on advisory a, carrying c's request
// facts (INV-AUDIT-4).
func advisoryAudit(c Caller, a *advisory.Advisory, action audit.Action, meta map[string]any) audit.Entry {
	return audit.Entry{
		ActorID:    c.UserID,
		Action:     action,
		AdvisoryID: a.ID,
		Metadata:   meta,
		IP:         c.IP,
		UserAgent:  c.UserAgent,
	}
}
