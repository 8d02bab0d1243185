// Package mail sends plain-text email (operations §6.1, EMAIL_*): over
// SMTP — plain, STARTTLS (EMAIL_USE_TLS) or implicit TLS (EMAIL_USE_SSL),
// with optional AUTH PLAIN, every operation bounded by EMAIL_TIMEOUT — or,
// for local development, to the log (EMAIL_BACKEND=log).
//
// Messages are composed here and nowhere else: one text/plain UTF-8 part,
// quoted-printable, with Date and Message-ID. A header value holding CR or
// LF is refused, so no caller can inject a header. The SMTP password never
// reaches an error string or a log line (INV-SECRET-1).
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/config"
)

// Message is one email to one recipient.
type Message struct {
	To      string // one address (addr-spec, or "Name <addr>")
	Subject string
	Body    string // plain text; any line endings
	// Sensitive are substrings of Body (a link's single-use token) that the
	// log backend masks unless told to reveal them (development).
	Sensitive []string
}

// Sender delivers a Message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Errors.
var (
	// ErrHeader: a header value holds CR or LF, or an address does not
	// parse. Nothing was sent.
	ErrHeader = errors.New("mail: invalid header value")
	// ErrRejected: the server refused the sender, the recipient or the
	// message with a permanent (5xx) reply; resending will not help.
	ErrRejected = errors.New("mail: rejected by the server")
)

// New builds the Sender EMAIL_BACKEND selects. reveal lets the log
// backend print sensitive parts (links with tokens): set it only in
// development, where printing the link is what a developer needs.
func New(cfg config.Email, logger *slog.Logger, reveal bool) (Sender, error) {
	switch cfg.Backend {
	case "log", "console":
		return NewLog(logger, cfg.From, reveal)
	case "smtp", "":
		return NewSMTP(SMTPConfig{Host: cfg.Host, Port: cfg.Port, User: cfg.User, Password: cfg.Password.Value(),
			UseTLS: cfg.UseTLS, UseSSL: cfg.UseSSL, Timeout: cfg.Timeout, From: cfg.From})
	}
	return nil, fmt.Errorf("mail: unknown EMAIL_BACKEND %q", cfg.Backend)
}

// compose renders m as an RFC 5322 message from from at now. It returns
// the envelope addresses as well.
func compose(from string, m Message, now time.Time) (raw []byte, envFrom, envTo string, err error) {
	for _, v := range []string{from, m.To, m.Subject} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, "", "", ErrHeader
		}
	}
	fa, err := mail.ParseAddress(from)
	if err != nil {
		return nil, "", "", fmt.Errorf("%w: sender address", ErrHeader)
	}
	ta, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, "", "", fmt.Errorf("%w: recipient address", ErrHeader)
	}
	id, err := messageID(fa.Address)
	if err != nil {
		return nil, "", "", err
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", fa.String())
	header("To", ta.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", id)
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\r", "\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, "", "", err
	}
	if err := qp.Close(); err != nil {
		return nil, "", "", err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), fa.Address, ta.Address, nil
}

// messageID is a fresh <random@domain> for the sender's domain.
func messageID(from string) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("mail: message id: %w", err)
	}
	domain := "advisoryhub.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}

// Log is the development backend: each message goes to the log.
type Log struct {
	logger *slog.Logger
	from   string
	reveal bool
}

// NewLog builds the log backend.
func NewLog(logger *slog.Logger, from string, reveal bool) (*Log, error) {
	if logger == nil {
		return nil, errors.New("mail: Logger is required")
	}
	return &Log{logger: logger, from: from, reveal: reveal}, nil
}

// Send logs m (validated exactly as SMTP would send it). Sensitive parts
// are masked unless the backend reveals them.
func (l *Log) Send(ctx context.Context, m Message) error {
	if _, _, _, err := compose(l.from, m, time.Now()); err != nil {
		return err
	}
	body := m.Body
	if !l.reveal {
		for _, s := range m.Sensitive {
			if s != "" {
				body = strings.ReplaceAll(body, s, "[redacted]")
			}
		}
	}
	l.logger.InfoContext(ctx, "email (EMAIL_BACKEND=log, not sent)", "from", l.from, "to", m.To,
		"subject", m.Subject, "body", body)
	return nil
}
