package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/grant"
	"github.com/eclipse-csi/advisoryhub/shared/jobs"
	"github.com/eclipse-csi/advisoryhub/shared/mail"
	"github.com/eclipse-csi/advisoryhub/shared/mail/mailtest"
	"github.com/eclipse-csi/advisoryhub/shared/postgres"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

const (
	smtpUser     = "advisoryhub"
	smtpPassword = "smtp-Pa55word-never-logged" // INV-SECRET-1: in no error, log or row
	baseURL      = "https://advisories.example.org"
)

var linkRE = regexp.MustCompile(`https://advisories\.example\.org/invitations/([A-Za-z0-9_-]{43})/`)

// mailWorld is a grant world plus a real SMTP server (STARTTLS with a
// self-signed certificate, AUTH PLAIN) and the notify worker's handler
// behind a job runner, as functions/notify wires it.
type mailWorld struct {
	*advFixture
	gs     *app.Grants
	clk    *fakeClock
	smtp   *mailtest.Server
	runner *jobs.Runner
	logs   *bytes.Buffer
}

func newMailWorld(t *testing.T) *mailWorld {
	t.Helper()
	f, gs, clk := newGrantWorld(t)
	srv := mailtest.Start(t, mailtest.Options{StartTLS: true, User: smtpUser, Password: smtpPassword})
	cfg := srv.Config()
	cfg.User, cfg.Password = smtpUser, smtpPassword
	m, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &mailWorld{advFixture: f, gs: gs, clk: clk, smtp: srv, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(w.logs, nil))
	h, err := app.NewInvitationMail(app.InvitationMailConfig{DB: f.db, Mailer: m, BaseURL: baseURL + "/", Logger: logger, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if w.runner, err = jobs.NewRunner(jobs.RunnerConfig{DB: f.db, Logger: logger, Redact: func(s string) string { return s }}); err != nil {
		t.Fatal(err)
	}
	w.runner.Handle(app.KindSendInvitationEmail, h.Send)
	return w
}

// outboxJobs returns the queued invitation-email messages, oldest first,
// as the transport would deliver them.
func (w *mailWorld) outboxJobs(t *testing.T) []queue.Message {
	t.Helper()
	var out []queue.Message
	w.exec(t, func(tx *postgres.DB) error {
		rows, err := tx.Query(w.sys, `SELECT id, queue, kind, payload FROM outbox WHERE kind = $1 ORDER BY id`, string(app.KindSendInvitationEmail))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id          int64
				q, k        string
				payload     []byte
				jsonPayload json.RawMessage
			)
			if err := rows.Scan(&id, &q, &k, &payload); err != nil {
				return err
			}
			jsonPayload = payload
			out = append(out, queue.Message{ID: "outbox-" + strconv.FormatInt(id, 10), Queue: queue.Name(q), Kind: queue.Kind(k), Payload: jsonPayload, Attempt: 1})
		}
		return rows.Err()
	})
	return out
}

// run delivers the newest queued invitation email to the runner.
func (w *mailWorld) runLatest(t *testing.T) {
	t.Helper()
	msgs := w.outboxJobs(t)
	if len(msgs) == 0 {
		t.Fatal("no invitation email queued")
	}
	if err := w.runner.Run(context.Background(), msgs[len(msgs)-1]); err != nil {
		t.Fatalf("job: %v", err)
	}
}

type delivered struct {
	header netmail.Header
	body   string
	token  string
	to     []string
}

// delivered returns the n-th accepted message, decoded, and its link token.
func (w *mailWorld) delivered(t *testing.T, n int) delivered {
	t.Helper()
	msgs := w.smtp.Messages()
	if len(msgs) <= n {
		t.Fatalf("%d messages delivered, want more than %d", len(msgs), n)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msgs[n].Data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	d := delivered{header: m.Header, body: string(b), to: msgs[n].To}
	if !msgs[n].TLS || msgs[n].Auth != smtpUser {
		t.Errorf("delivered without STARTTLS/AUTH: tls=%v auth=%q", msgs[n].TLS, msgs[n].Auth)
	}
	sm := linkRE.FindStringSubmatch(d.body)
	if sm == nil {
		t.Fatalf("no invitation link in:\n%s", d.body)
	}
	d.token = sm[1]
	return d
}

// dbText is every stored text a token could leak into: outbox payloads,
// audit and access-log rows, failed jobs, invitations.
func (w *mailWorld) dbText(t *testing.T) string {
	t.Helper()
	var sb strings.Builder
	w.exec(t, func(tx *postgres.DB) error {
		for _, q := range []string{
			`SELECT COALESCE(string_agg(payload::text, ' '), '') FROM outbox`,
			`SELECT COALESCE(string_agg(metadata::text || COALESCE(new_value::text, '') || COALESCE(previous_value::text, ''), ' '), '') FROM audit_log`,
			`SELECT COALESCE(string_agg(metadata::text, ' '), '') FROM access_log`,
			`SELECT COALESCE(string_agg(last_error || payload::text, ' '), '') FROM failed_jobs`,
			`SELECT COALESCE(string_agg(email || encode(token_hash, 'escape'), ' '), '') FROM invitations`,
		} {
			var s string
			if err := tx.QueryRow(w.sys, q).Scan(&s); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
			sb.WriteString(s + "\n")
		}
		return nil
	})
	return sb.String()
}

func (w *mailWorld) storedHash(t *testing.T, id int64) []byte {
	t.Helper()
	var h []byte
	w.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `SELECT token_hash FROM invitations WHERE id = $1`, id).Scan(&h)
	})
	return h
}

// The invitation email end to end (issue 4): Invite queues
// invitation.send_email on the notify queue with the invitation id only,
// in the same transaction; the worker mints a fresh token, stores only its
// hash (INV-SECRET-2), and mails the link over STARTTLS + AUTH PLAIN; the
// link redeems for the invited address only (INV-ACCESS-2); a re-send's
// link supersedes the earlier one; notification.sent lands in the access
// log; the email carries no advisory content (requirements §4.7).
func TestInvitationEmailEndToEnd(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)
	w.exec(t, func(tx *postgres.DB) error {
		_, err := tx.Exec(w.sys, `UPDATE users SET display_name = 'Olivia Owner' WHERE id = $1`, w.owner.UserID)
		return err
	})
	inv, createToken, err := w.gs.Invite(ctx, w.owner, a.AdvisoryID, "Invitee@Example.org", "collaborator")
	if err != nil {
		t.Fatal(err)
	}

	// Queued in the same transaction, on the notify queue, id only.
	msgs := w.outboxJobs(t)
	if len(msgs) != 1 || msgs[0].Queue != queue.Notify {
		t.Fatalf("queued %+v", msgs)
	}
	var payload map[string]any
	if err := json.Unmarshal(msgs[0].Payload, &payload); err != nil || len(payload) != 1 || payload["invitation_id"] != float64(inv.ID) {
		t.Fatalf("payload %s: %v", msgs[0].Payload, err)
	}

	w.runLatest(t)
	d := w.delivered(t, 0)
	if len(d.to) != 1 || d.to[0] != "Invitee@Example.org" {
		t.Errorf("envelope recipient %v", d.to)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(d.header.Get("Subject")); !strings.Contains(subj, string(a.AdvisoryID)) {
		t.Errorf("subject %q", subj)
	}
	if d.header.Get("Date") == "" || d.header.Get("Message-ID") == "" || !strings.HasPrefix(d.header.Get("Content-Type"), "text/plain") {
		t.Errorf("headers %v", d.header)
	}
	for _, want := range []string{string(a.AdvisoryID), "Olivia Owner", "collaborator", "sign in with this email address",
		"Invitee@Example.org", inv.ExpiresAt.UTC().Format("2 January 2006"), baseURL + "/"} {
		if !strings.Contains(d.body, want) {
			t.Errorf("body lacks %q:\n%s", want, d.body)
		}
	}
	// Requirements §4.7: no private advisory content in the email.
	for _, private := range []string{goodContent().Summary, goodContent().Details, "lantern-core", "CVSS"} {
		if strings.Contains(d.body, private) {
			t.Errorf("the email leaks advisory content %q", private)
		}
	}

	// INV-SECRET-2: only the hash of the mailed token is stored; the raw
	// token is in no row or message. The creation token is superseded.
	if !grant.SameHash(w.storedHash(t, inv.ID), grant.HashToken(d.token)) {
		t.Error("the stored hash is not the mailed token's")
	}
	if text := w.dbText(t); strings.Contains(text, d.token) || strings.Contains(text, createToken) {
		t.Error("a raw token reached the database")
	}
	if strings.Contains(w.logs.String(), d.token) || strings.Contains(w.logs.String(), smtpPassword) {
		t.Errorf("the token or the SMTP password reached the logs:\n%s", w.logs)
	}
	if _, err := w.gs.RedeemToken(ctx, w.newUser(t, "someone@example.org"), d.token); !errors.Is(err, grant.ErrEmailMismatch) {
		t.Errorf("another address redeems (INV-ACCESS-2): %v", err)
	}

	// notification.sent, in the access log (ephemeral), no actor.
	var n int
	var meta string
	w.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `SELECT count(*), COALESCE(max(metadata::text), '') FROM access_log
			WHERE action = 'notification.sent' AND advisory_id = $1 AND actor_id IS NULL`, a.ID).Scan(&n, &meta)
	})
	if n != 1 || !strings.Contains(meta, `"kind": "invitation"`) && !strings.Contains(meta, `"kind":"invitation"`) || !strings.Contains(meta, "Invitee@Example.org") {
		t.Errorf("notification.sent rows %d, metadata %s", n, meta)
	}
	if got := w.actions(t, a, "notification."); len(got) != 0 {
		t.Errorf("notification.sent in the ledger: %v", got)
	}

	// Re-send (INV-ACCESS-3, invitation.resent): queued again; the new
	// email's link works, the earlier one no longer does.
	if _, _, err := w.gs.ResendInvitation(ctx, w.owner, a.AdvisoryID, inv.ID); err != nil {
		t.Fatal(err)
	}
	if got := len(w.outboxJobs(t)); got != 2 {
		t.Fatalf("%d invitation emails queued after re-send, want 2", got)
	}
	w.runLatest(t)
	d2 := w.delivered(t, 1)
	if d2.token == d.token {
		t.Fatal("the re-sent email reuses the token")
	}
	invitee := w.newUser(t, "invitee@example.org") // another case (INV-ACCESS-2)
	if _, err := w.gs.RedeemToken(ctx, invitee, d.token); !errors.Is(err, grant.ErrInvalidToken) {
		t.Errorf("the earlier email's link still redeems: %v", err)
	}
	if id, err := w.gs.RedeemToken(ctx, invitee, d2.token); err != nil || id != a.AdvisoryID {
		t.Fatalf("redeem the mailed link: %v %v", id, err)
	}
	want := []string{"invitation.created", "invitation.resent", "invitation.redeemed"}
	if got := w.actions(t, a, "invitation."); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit %v, want %v", got, want)
	}

	// Redeemed: a late (re)delivery sends nothing and succeeds.
	before := len(w.smtp.Messages())
	msgs = w.outboxJobs(t)
	late := msgs[0]
	late.ID = "outbox-redelivered-late"
	if err := w.runner.Run(ctx, late); err != nil {
		t.Fatal(err)
	}
	if len(w.smtp.Messages()) != before {
		t.Error("a redeemed invitation was mailed")
	}
}

// Revoked (the row is gone), redeemed at sign-in and expired invitations
// (INV-ACCESS-3) send nothing; the job succeeds so nothing is retried.
func TestInvitationEmailSkipsDeadInvitations(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t)
	ctx := context.Background()
	a := w.lanternDraft(t)

	revoked, _, err := w.gs.Invite(ctx, w.owner, a.AdvisoryID, "revoked@example.org", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.gs.RevokeInvitation(ctx, w.owner, a.AdvisoryID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	w.runLatest(t)

	if _, _, err := w.gs.Invite(ctx, w.owner, a.AdvisoryID, "early@example.org", "viewer"); err != nil {
		t.Fatal(err)
	}
	u := w.newUser(t, "early@example.org")
	if n, err := w.gs.RedeemForUser(ctx, u, "early@example.org", true); err != nil || n != 1 {
		t.Fatalf("redeem at sign-in: %d %v", n, err)
	}
	w.runLatest(t)

	if _, _, err := w.gs.Invite(ctx, w.owner, a.AdvisoryID, "late@example.org", "viewer"); err != nil {
		t.Fatal(err)
	}
	w.clk.Add(grant.DefaultLifetime + time.Minute)
	w.runLatest(t)

	if n := len(w.smtp.Messages()); n != 0 {
		t.Errorf("%d emails sent for dead invitations", n)
	}
	var sent int
	w.exec(t, func(tx *postgres.DB) error {
		return tx.QueryRow(w.sys, `SELECT count(*) FROM access_log WHERE action = 'notification.sent'`).Scan(&sent)
	})
	if sent != 0 {
		t.Errorf("%d notification.sent rows", sent)
	}
}

// INV-SECRET-1: a failed delivery (wrong SMTP password) is an error for
// the transport to retry, naming no password; a permanently refused
// recipient is dead-lettered (failed_jobs) without it either.
func TestInvitationEmailFailuresNeverCarryThePassword(t *testing.T) {
	t.Parallel()
	f, gs, clk := newGrantWorld(t)
	ctx := context.Background()
	a := f.lanternDraft(t)
	if _, _, err := gs.Invite(ctx, f.owner, a.AdvisoryID, "x@example.org", "viewer"); err != nil {
		t.Fatal(err)
	}
	w := &mailWorld{advFixture: f, gs: gs, clk: clk}
	msg := w.outboxJobs(t)[0]
	for _, c := range []struct {
		name      string
		opts      mailtest.Options
		permanent bool
	}{
		{"wrong password", mailtest.Options{StartTLS: true, User: smtpUser, Password: "the-server-wants-another"}, false},
		{"recipient refused", mailtest.Options{StartTLS: true, User: smtpUser, Password: smtpPassword, RejectRcpt: true}, true},
	} {
		srv := mailtest.Start(t, c.opts)
		cfg := srv.Config()
		cfg.User, cfg.Password = smtpUser, smtpPassword
		m, err := mail.NewSMTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		h, err := app.NewInvitationMail(app.InvitationMailConfig{DB: f.db, Mailer: m, BaseURL: baseURL, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		err = h.Send(ctx, msg)
		if err == nil {
			t.Fatalf("%s: sent", c.name)
		}
		if strings.Contains(err.Error(), smtpPassword) || strings.Contains(logs.String(), smtpPassword) {
			t.Errorf("%s: the password leaked: %v", c.name, err)
		}
		if queue.IsPermanent(err) != c.permanent {
			t.Errorf("%s: permanent %v, want %v (%v)", c.name, queue.IsPermanent(err), c.permanent, err)
		}
	}
	if _, err := app.NewInvitationMail(app.InvitationMailConfig{DB: f.db, Mailer: nil, Logger: slog.Default()}); err == nil {
		t.Error("no mailer and no base URL accepted")
	}
}
