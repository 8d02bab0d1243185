package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/mail"
	"github.com/eclipse-csi/advisoryhub/shared/mail/mailtest"
)

const password = "s3cr3t-SMTP-pa55word" // must never appear in an error (INV-SECRET-1)

// parse reads a delivered message and decodes its quoted-printable body.
func parse(t *testing.T, raw []byte) (*netmail.Message, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("delivered message does not parse: %v\n%s", err, raw)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("transfer encoding %q", m.Header.Get("Content-Transfer-Encoding"))
	}
	body, err := io.ReadAll(newQP(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m, string(body)
}

func TestSMTPDelivery(t *testing.T) {
	t.Parallel()
	long := "https://advisories.example.org/invitations/" + strings.Repeat("A", 43) + "/"
	msg := mail.Message{To: "Invitee@Example.org", Subject: "Invitation to ECL-cf23-gh45-jm67 — Zugang",
		Body: "Grüße,\nline two\n" + long + "\n.\nend"}
	cases := []struct {
		name string
		opts mailtest.Options
		auth bool
		tls  bool
	}{
		{"plain, no auth", mailtest.Options{}, false, false},
		{"plain, AUTH PLAIN on localhost", mailtest.Options{User: "mailer", Password: password}, true, false},
		{"STARTTLS + AUTH PLAIN, self-signed", mailtest.Options{StartTLS: true, User: "mailer", Password: password}, true, true},
		{"implicit TLS + AUTH PLAIN", mailtest.Options{ImplicitTLS: true, User: "mailer", Password: password}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, c.opts)
			cfg := srv.Config()
			if c.auth {
				cfg.User, cfg.Password = "mailer", password
			}
			s, err := mail.NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), msg); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages delivered", len(got))
			}
			r := got[0]
			if r.From != "noreply@example.org" || len(r.To) != 1 || r.To[0] != "Invitee@Example.org" {
				t.Errorf("envelope %q → %q", r.From, r.To)
			}
			if r.TLS != c.tls {
				t.Errorf("TLS %v, want %v", r.TLS, c.tls)
			}
			if c.auth && r.Auth != "mailer" {
				t.Errorf("authenticated as %q", r.Auth)
			}
			m, body := parse(t, r.Data)
			subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if err != nil || subj != msg.Subject {
				t.Errorf("subject %q (%v)", subj, err)
			}
			if m.Header.Get("From") != "\"AdvisoryHub\" <noreply@example.org>" || m.Header.Get("To") != "<Invitee@Example.org>" {
				t.Errorf("From %q To %q", m.Header.Get("From"), m.Header.Get("To"))
			}
			if d, err := m.Header.Date(); err != nil || time.Since(d) > time.Minute {
				t.Errorf("Date %q: %v", m.Header.Get("Date"), err)
			}
			if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
				t.Errorf("Message-ID %q", id)
			}
			if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(ct, "utf-8") || m.Header.Get("MIME-Version") != "1.0" {
				t.Errorf("Content-Type %q", ct)
			}
			want := strings.ReplaceAll(msg.Body, "\n", "\r\n") + "\r\n"
			if body != want {
				t.Errorf("body %q, want %q", body, want)
			}
		})
	}
}

// INV-SECRET-1: a wrong password, a refused recipient and an unreachable
// server all fail without the password in the error.
func TestSMTPErrorsNeverCarryThePassword(t *testing.T) {
	t.Parallel()
	msg := mail.Message{To: "x@example.org", Subject: "s", Body: "b"}
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("send succeeded")
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), password) {
			t.Fatalf("the password leaked: %v", err)
		}
	}
	t.Run("wrong password over STARTTLS", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{StartTLS: true, User: "mailer", Password: "the-right-one"})
		cfg := srv.Config()
		cfg.User, cfg.Password = "mailer", password
		s, _ := mail.NewSMTP(cfg)
		err := s.Send(context.Background(), msg)
		check(t, err)
		if len(srv.Messages()) != 0 {
			t.Error("delivered without authenticating")
		}
	})
	t.Run("recipient refused: permanent", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{RejectRcpt: true, User: "mailer", Password: password})
		cfg := srv.Config()
		cfg.User, cfg.Password = "mailer", password
		s, _ := mail.NewSMTP(cfg)
		err := s.Send(context.Background(), msg)
		check(t, err)
		if !errors.Is(err, mail.ErrRejected) {
			t.Errorf("550 is not ErrRejected: %v", err)
		}
	})
	t.Run("STARTTLS required but untrusted certificate", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{StartTLS: true, User: "mailer", Password: password})
		cfg := srv.Config()
		cfg.TLS = nil // system roots: the self-signed certificate is refused
		cfg.User, cfg.Password = "mailer", password
		s, _ := mail.NewSMTP(cfg)
		check(t, s.Send(context.Background(), msg))
		if len(srv.Messages()) != 0 {
			t.Error("delivered over an unverified TLS connection")
		}
	})
	t.Run("STARTTLS asked for, not offered", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		cfg := srv.Config()
		cfg.UseTLS = true
		cfg.User, cfg.Password = "mailer", password
		s, _ := mail.NewSMTP(cfg)
		check(t, s.Send(context.Background(), msg))
		if len(srv.Messages()) != 0 {
			t.Error("delivered in clear text although STARTTLS was required")
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		s, _ := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: port, User: "mailer", Password: password,
			Timeout: time.Second, From: "noreply@example.org"})
		check(t, s.Send(context.Background(), msg))
	})
}

// EMAIL_TIMEOUT bounds every operation: a server that accepts the
// connection and never greets fails the send within the timeout.
func TestSMTPTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent
		}
	}()
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		Timeout: 300 * time.Millisecond, From: "noreply@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.Send(context.Background(), mail.Message{To: "x@example.org", Subject: "s", Body: "b"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("silent server: %v after %v", err, time.Since(start))
	}
}

// Header injection is impossible: CR or LF in any header value is refused
// before anything is sent.
func TestHeaderInjectionRefused(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	s, err := mail.NewSMTP(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []mail.Message{
		{To: "x@example.org", Subject: "hi\r\nBcc: victim@example.org", Body: "b"},
		{To: "x@example.org", Subject: "hi\nBcc: victim@example.org", Body: "b"},
		{To: "x@example.org\r\nBcc: victim@example.org", Subject: "s", Body: "b"},
		{To: "not an address", Subject: "s", Body: "b"},
	} {
		if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrHeader) {
			t.Errorf("%q: %v", m.Subject, err)
		}
	}
	if _, err := mail.NewSMTP(mail.SMTPConfig{Host: "h", Port: 25, From: "a@example.org\r\nBcc: v@example.org"}); err == nil {
		t.Error("a From with CR/LF accepted")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

// The log backend prints the message; sensitive parts (a token link) only
// when revealing (development).
func TestLogBackend(t *testing.T) {
	t.Parallel()
	const token = "tok-0123456789"
	for _, reveal := range []bool{true, false} {
		var buf bytes.Buffer
		s, err := mail.New(config.Email{Backend: "log", From: "AdvisoryHub <noreply@example.org>", Password: config.NewSecret(password)},
			slog.New(slog.NewTextHandler(&buf, nil)), reveal)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), mail.Message{To: "x@example.org", Subject: "Invitation",
			Body: "https://h/invitations/" + token + "/", Sensitive: []string{token}})
		if err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "Invitation") || strings.Contains(out, token) != reveal || strings.Contains(out, password) {
			t.Errorf("reveal=%v: %s", reveal, out)
		}
	}
	if _, err := mail.New(config.Email{Backend: "smtp", Host: "localhost", Port: 25, UseTLS: true, UseSSL: true,
		From: "noreply@example.org", Password: config.NewSecret(password)}, slog.Default(), false); err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("exclusive TLS modes: %v", err)
	}
}

func newQP(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }
