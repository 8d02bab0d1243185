package mail

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// SMTPConfig configures the SMTP backend.
type SMTPConfig struct {
	Host     string
	Port     int
	User     string // empty: no AUTH
	Password string
	UseTLS   bool // STARTTLS, required once asked for
	UseSSL   bool // implicit TLS
	Timeout  time.Duration
	From     string
	// TLS overrides the TLS settings (tests: a self-signed root). Nil:
	// the system roots, ServerName Host.
	TLS *tls.Config
	// Now is the clock of the Date header (nil: time.Now).
	Now func() time.Time
}

// SMTP sends through one SMTP server, one connection per message.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP checks cfg and builds the backend.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	var errs []error
	if cfg.Host == "" {
		errs = append(errs, errors.New("mail: SMTP host is required"))
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		errs = append(errs, errors.New("mail: SMTP port out of range"))
	}
	if cfg.UseTLS && cfg.UseSSL {
		errs = append(errs, errors.New("mail: STARTTLS and implicit TLS are mutually exclusive"))
	}
	if cfg.User == "" && cfg.Password != "" {
		errs = append(errs, errors.New("mail: a password without a user"))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if _, _, _, err := compose(cfg.From, Message{To: "check@example.org"}, cfg.Now()); err != nil {
		errs = append(errs, fmt.Errorf("mail: sender %q: %w", cfg.From, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &SMTP{cfg: cfg}, nil
}

// Send delivers m. Every network operation has cfg.Timeout; ctx ends the
// exchange early. Errors never carry the password.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	raw, from, to, err := compose(s.cfg.From, m, s.cfg.Now())
	if err != nil {
		return err
	}
	if err := s.send(ctx, raw, from, to); err != nil {
		return s.scrub(err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, raw []byte, from, to string) error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	d := net.Dialer{Timeout: s.cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp connect %s: %w", addr, err)
	}
	var conn net.Conn = &deadlineConn{Conn: nc, timeout: s.cfg.Timeout}
	defer context.AfterFunc(ctx, func() { nc.Close() })()
	defer nc.Close()

	if s.cfg.UseSSL {
		tc := tls.Client(conn, s.tlsConfig())
		hctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fmt.Errorf("smtp tls handshake: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if s.cfg.UseTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp starttls: the server does not offer STARTTLS (EMAIL_USE_TLS)")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if s.cfg.User != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp auth: the server offers no AUTH (EMAIL_HOST_USER is set)")
		}
		// PlainAuth itself refuses to send credentials over an unencrypted
		// connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.User, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return reply("mail from", err)
	}
	if err := c.Rcpt(to); err != nil {
		return reply("rcpt to", err)
	}
	w, err := c.Data()
	if err != nil {
		return reply("data", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return reply("data", err)
	}
	// The message is accepted; a failed QUIT does not undo that.
	_ = c.Quit()
	return nil
}

// reply wraps a server reply; a permanent (5xx) one is ErrRejected.
func reply(op string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return fmt.Errorf("%w: smtp %s: %d %s", ErrRejected, op, te.Code, te.Msg)
	}
	return fmt.Errorf("smtp %s: %w", op, err)
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.cfg.TLS != nil {
		c := s.cfg.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = s.cfg.Host
		}
		return c
	}
	return &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
}

// scrub removes the password — as typed, and as AUTH PLAIN carries it —
// from an error, keeping ErrRejected and ErrHeader matchable.
func (s *SMTP) scrub(err error) error {
	pw := s.cfg.Password
	if pw == "" {
		return err
	}
	msg := redact.Literals(err.Error(), pw,
		base64.StdEncoding.EncodeToString([]byte("\x00"+s.cfg.User+"\x00"+pw)))
	if msg == err.Error() {
		return err
	}
	for _, sentinel := range []error{ErrRejected, ErrHeader} {
		if errors.Is(err, sentinel) {
			return &scrubbed{msg: msg, sentinel: sentinel}
		}
	}
	return errors.New(msg)
}

type scrubbed struct {
	msg      string
	sentinel error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.sentinel }

// deadlineConn gives every read and write its own deadline: the timeout
// bounds each SMTP operation, not the whole exchange.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
