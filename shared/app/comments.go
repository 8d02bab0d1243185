package app

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/audit"
	"github.com/eclipse-csi/advisoryhub/shared/comment"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// Comments are the comment use cases (requirements §4.4, §6.8). Every
// read and write loads the advisory as the caller and refuses an invisible
// one as not found (INV-PRIVACY-1); internal comments are filtered by the
// caller's rank at every read (INV-COMMENT-2); the Markdown body is stored
// raw and rendered for each reader, with mentions labelled as that reader
// may see the user (INV-PRIVACY-4).
type Comments struct {
	db  *postgres.DB
	now func() time.Time
}

// CommentsConfig wires Comments.
type CommentsConfig struct {
	DB  *postgres.DB
	Now func() time.Time // nil: time.Now
}

// NewComments builds the comment use cases.
func NewComments(cfg CommentsConfig) (*Comments, error) {
	if cfg.DB == nil {
		return nil, errors.New("comments: DB is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Comments{db: cfg.DB, now: cfg.Now}, nil
}

// CommentView is a comment as one reader sees it.
type CommentView struct {
	comment.Comment
	// HTML is the sanitised rendering of the body ("" once redacted).
	HTML template.HTML
	// AuthorLabel names the author as the reader may see them; "" for a
	// system comment. AuthorEmail is the author's address, masked unless
	// the reader may see it.
	AuthorLabel string
	AuthorEmail string
	CanEdit     bool
	CanRedact   bool
}

// Thread is an advisory's comments as one reader sees them, oldest first,
// with what the reader may do.
type Thread struct {
	Comments           []CommentView
	Locked             bool
	CanComment         bool
	CanCommentInternal bool
	CanLock            bool
	ShowEmails         bool // can_see_user_emails
}

// List returns the comment thread of advisory id for c. Internal comments
// are included only for collaborators and owners, decided now
// (INV-COMMENT-2).
func (s *Comments) List(ctx context.Context, c Caller, id advisory.ID) (Thread, error) {
	var th Thread
	err := readVisible(ctx, s.db, c, id, func(tx *postgres.DB, a *advisory.Advisory, t access.Target) error {
		subj := c.Subject()
		internal := access.Allowed(subj, access.CapViewInternalComments, t)
		list, err := tx.ListComments(ctx, a.ID, internal)
		if err != nil {
			return err
		}
		th = Thread{
			Locked:             a.CommentsLocked,
			CanComment:         access.Allowed(subj, access.CapComment, t),
			CanCommentInternal: access.Allowed(subj, access.CapCommentInternal, t),
			CanLock:            access.Allowed(subj, access.CapLockComments, t),
			ShowEmails:         access.Allowed(subj, access.CapSeeUserEmails, t),
		}
		th.Comments, err = views(ctx, tx, c, t, list)
		return err
	})
	if err != nil {
		return Thread{}, err
	}
	return th, nil
}

// Post adds a comment by c (POST comments/new/, POST /api/…/comments/): a
// public one needs can_comment, an internal one can_post_internal_comment;
// while comments are locked only owners post. is_internal is fixed here for
// good (INV-COMMENT-1). The body is trimmed and required. Audited as
// comment.created, with the number of users it mentions.
func (s *Comments) Post(ctx context.Context, c Caller, id advisory.ID, body string, internal bool) (CommentView, error) {
	var out CommentView
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, err := tx.AdvisoryByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		t, err := visible(ctx, tx, c, a)
		if err != nil {
			return err
		}
		cap := access.CapComment
		if internal {
			cap = access.CapCommentInternal
		}
		if err := access.Check(c.Subject(), cap, t); err != nil {
			return err
		}
		body, err := comment.NormalizeBody(body)
		if err != nil {
			return err
		}
		cm, err := tx.InsertComment(ctx, postgres.NewComment{AdvisoryID: a.ID, AuthorID: c.UserID, Body: body, Internal: internal})
		if err != nil {
			return err
		}
		mentioned, err := mentionedUsers(ctx, tx, body)
		if err != nil {
			return err
		}
		e := advisoryAudit(c, a, audit.CommentCreated, map[string]any{"is_internal": internal, "mentions": len(mentioned)})
		e.CommentID = cm.ID
		if err := tx.InsertAudit(ctx, e); err != nil {
			return err
		}
		vs, err := views(ctx, tx, c, t, []comment.Comment{cm})
		if err != nil {
			return err
		}
		out = vs[0]
		return nil
	})
	if err != nil {
		return CommentView{}, fmt.Errorf("post comment: %w", err)
	}
	return out, nil
}

// Edit replaces the body of c's own comment (note ᵈ: author only, not
// redacted, and the author must still see it). A new frozen version is
// appended (INV-COMMENT-3) and comment.edited audited. An unchanged body
// changes nothing.
func (s *Comments) Edit(ctx context.Context, c Caller, id advisory.ID, commentID int64, body string) (CommentView, error) {
	var out CommentView
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, t, cm, err := s.loadComment(ctx, tx, c, id, commentID, true)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), access.CapEditComment, withComment(t, cm)); err != nil {
			return err
		}
		body, err := comment.NormalizeBody(body)
		if err != nil {
			return err
		}
		if body != cm.Body {
			v, err := tx.AppendCommentVersion(ctx, cm.ID, body, c.UserID, s.now())
			if err != nil {
				return err
			}
			e := advisoryAudit(c, a, audit.CommentEdited, map[string]any{"version": v, "is_internal": cm.Internal})
			e.CommentID = cm.ID
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
			if cm, err = tx.CommentByID(ctx, a.ID, cm.ID); err != nil {
				return err
			}
		}
		vs, err := views(ctx, tx, c, t, []comment.Comment{cm})
		if err != nil {
			return err
		}
		out = vs[0]
		return nil
	})
	if err != nil {
		return CommentView{}, fmt.Errorf("edit comment: %w", err)
	}
	return out, nil
}

// Redact irreversibly clears a comment's visible body (INV-COMMENT-4):
// the author or a global admin, who must still see the comment. The row
// keeps its place in the thread; comment.redacted is audited.
func (s *Comments) Redact(ctx context.Context, c Caller, id advisory.ID, commentID int64) error {
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, t, cm, err := s.loadComment(ctx, tx, c, id, commentID, true)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), access.CapRedactComment, withComment(t, cm)); err != nil {
			return err
		}
		if err := tx.RedactComment(ctx, cm.ID, c.UserID, s.now()); err != nil {
			return err
		}
		e := advisoryAudit(c, a, audit.CommentRedacted, map[string]any{"is_internal": cm.Internal, "own": cm.AuthorID == c.UserID})
		e.CommentID = cm.ID
		return tx.InsertAudit(ctx, e)
	})
	if err != nil {
		return fmt.Errorf("redact comment: %w", err)
	}
	return nil
}

// History returns a comment's versions, oldest first, to a reader who may
// see the comment. A redacted comment's bodies are withheld: redaction
// clears what readers see, history included.
func (s *Comments) History(ctx context.Context, c Caller, id advisory.ID, commentID int64) ([]comment.Version, error) {
	var out []comment.Version
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx *postgres.DB) error {
		_, _, cm, err := s.loadComment(ctx, tx, c, id, commentID, false)
		if err != nil {
			return err
		}
		if out, err = tx.CommentVersions(ctx, cm.ID); err != nil {
			return err
		}
		if cm.Redacted() {
			for i := range out {
				out[i].Body = ""
			}
		}
		return nil
	})
	return out, err
}

// SetLock locks (K1, with an optional reason) or unlocks (K2) comments on
// an advisory (can_lock_comments: owner, any lifecycle state). While
// locked only owners post (note ᶜ). Locking comments that are already
// locked, or unlocking unlocked ones, is refused as an illegal transition
// (Conflict) after the capability check. The reason is posted as a public
// action note, after secret redaction (permissions §13), and recorded,
// redacted, in advisory.comments_locked (metadata reason); the unlock
// records the reason it clears (metadata previous_reason).
func (s *Comments) SetLock(ctx context.Context, c Caller, id advisory.ID, locked bool, reason string) error {
	err := s.db.InTx(c.principal(ctx), pgx.TxOptions{}, func(tx *postgres.DB) error {
		a, err := tx.AdvisoryByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		t, err := visible(ctx, tx, c, a)
		if err != nil {
			return err
		}
		if err := access.Check(c.Subject(), access.CapLockComments, t); err != nil {
			return err
		}
		if a.CommentsLocked == locked {
			if locked {
				return fmt.Errorf("%w: comments are already locked", advisory.ErrIllegalTransition)
			}
			return fmt.Errorf("%w: comments are not locked", advisory.ErrIllegalTransition)
		}
		if !locked {
			prev, err := tx.CommentsLockReason(ctx, a.ID)
			if err != nil {
				return err
			}
			if err := tx.SetCommentsLock(ctx, a.ID, false, c.UserID, "", s.now()); err != nil {
				return err
			}
			return tx.InsertAudit(ctx, advisoryAudit(c, a, audit.AdvisoryCommentsUnlocked,
				map[string]any{"previous_reason": redact.String(prev)}))
		}
		reason = redact.String(strings.TrimSpace(reason))
		if err := tx.SetCommentsLock(ctx, a.ID, true, c.UserID, reason, s.now()); err != nil {
			return err
		}
		return auditWithNote(ctx, tx, c, a, []audit.Entry{advisoryAudit(c, a, audit.AdvisoryCommentsLocked, map[string]any{"reason": reason})},
			comment.NoteLockComments, reason)
	})
	if err != nil {
		return fmt.Errorf("comment lock: %w", err)
	}
	return nil
}

// RecordActionNote posts the free-text reason of a workflow action as an
// author-attributed comment (requirements §4.4, record_action_note), in
// the action's own transaction tx, and returns the comment id (0 when
// nothing was posted). Its visibility is the fixed per-action policy of
// kind (public or internal). It is silent (no notification), never blocked
// by a comment lock or the author's rank, and a no-op for a blank note or
// a system action without a human author. The body is secret-redacted
// before it is stored. comment.created is audited with the note kind; the
// action's own audit row stays a terse marker.
func RecordActionNote(ctx context.Context, tx *postgres.DB, c Caller, advisoryPK int64, kind comment.NoteKind, note string) (int64, error) {
	note = strings.TrimSpace(note)
	if note == "" || c.UserID == 0 {
		return 0, nil
	}
	if !kind.Valid() {
		return 0, fmt.Errorf("action note: unknown kind %q", kind)
	}
	body := redact.String(note)
	if len([]rune(body)) > comment.MaxBody {
		body = string([]rune(body)[:comment.MaxBody])
	}
	cm, err := tx.InsertComment(ctx, postgres.NewComment{AdvisoryID: advisoryPK, AuthorID: c.UserID, Body: body, Internal: kind.Internal()})
	if err != nil {
		return 0, fmt.Errorf("action note: %w", err)
	}
	err = tx.InsertAudit(ctx, audit.Entry{ActorID: c.UserID, Action: audit.CommentCreated, AdvisoryID: advisoryPK,
		CommentID: cm.ID, Metadata: map[string]any{"is_internal": cm.Internal, "action_note": string(kind)},
		IP: c.IP, UserAgent: c.UserAgent})
	if err != nil {
		return 0, err
	}
	return cm.ID, nil
}

// loadComment loads advisory id and one of its comments (locked when
// forUpdate), refusing both as not found unless c may see them: an internal
// comment is invisible below collaborator (INV-COMMENT-2).
func (s *Comments) loadComment(ctx context.Context, tx *postgres.DB, c Caller, id advisory.ID, commentID int64, forUpdate bool) (*advisory.Advisory, access.Target, comment.Comment, error) {
	a, err := tx.AdvisoryByID(ctx, id)
	if err != nil {
		return nil, access.Target{}, comment.Comment{}, err
	}
	t, err := visible(ctx, tx, c, a)
	if err != nil {
		return nil, access.Target{}, comment.Comment{}, err
	}
	load := tx.CommentByID
	if forUpdate {
		load = tx.CommentByIDForUpdate
	}
	cm, err := load(ctx, a.ID, commentID)
	if err != nil {
		return nil, access.Target{}, comment.Comment{}, err
	}
	if cm.Internal && !access.Allowed(c.Subject(), access.CapViewInternalComments, t) {
		return nil, access.Target{}, comment.Comment{}, fmt.Errorf("comment %d: %w", commentID, comment.ErrNotFound)
	}
	return a, t, cm, nil
}

func withComment(t access.Target, cm comment.Comment) access.Target {
	t.Comment = &access.Comment{AuthorID: cm.AuthorID, Internal: cm.Internal, Redacted: cm.Redacted()}
	return t
}

// mentionedUsers resolves the mentions of body to user ids.
func mentionedUsers(ctx context.Context, tx *postgres.DB, body string) ([]int64, error) {
	resolved, err := resolveMentions(ctx, tx, comment.Mentions(body))
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	for _, p := range resolved {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func resolveMentions(ctx context.Context, tx *postgres.DB, tokens []string) (map[string]comment.Person, error) {
	if len(tokens) == 0 {
		return map[string]comment.Person{}, nil
	}
	cands, err := tx.MentionCandidates(ctx, comment.Emails(tokens), comment.LocalParts(tokens))
	if err != nil {
		return nil, err
	}
	return comment.Resolve(tokens, cands), nil
}

// views renders comments for reader c on an advisory with facts t:
// mentions resolved once for all of them, emails masked unless c may see
// them (INV-PRIVACY-4).
func views(ctx context.Context, tx *postgres.DB, c Caller, t access.Target, list []comment.Comment) ([]CommentView, error) {
	subj := c.Subject()
	v := comment.Viewer{UserID: c.UserID, ShowEmails: access.Allowed(subj, access.CapSeeUserEmails, t)}
	var tokens []string
	for _, cm := range list {
		tokens = append(tokens, comment.Mentions(cm.VisibleBody())...)
	}
	slices.Sort(tokens)
	resolved, err := resolveMentions(ctx, tx, slices.Compact(tokens))
	if err != nil {
		return nil, err
	}
	labels := comment.Labels(resolved, v)
	out := make([]CommentView, 0, len(list))
	for _, cm := range list {
		cv := CommentView{Comment: cm}
		if !cm.Redacted() {
			cv.HTML = comment.Render(cm.Body, labels)
		} else {
			cv.Body = ""
		}
		if cm.AuthorID != 0 {
			cv.AuthorLabel = v.Label(cm.Author)
			cv.AuthorEmail = v.Email(cm.Author)
		}
		ct := withComment(t, cm)
		cv.CanEdit = access.Allowed(subj, access.CapEditComment, ct)
		cv.CanRedact = access.Allowed(subj, access.CapRedactComment, ct)
		out = append(out, cv)
	}
	return out, nil
}
