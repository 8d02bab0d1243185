// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests: plain, STARTTLS or implicit TLS with a fresh
// self-signed certificate, optionally requiring AUTH PLAIN. It records
// every accepted message.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/eclipse-csi/advisoryhub/shared/mail"
)

// Options choose the server's behaviour.
type Options struct {
	StartTLS    bool // offer STARTTLS (AUTH only after it)
	ImplicitTLS bool // TLS from the first byte
	// User and Password, when set, are required (AUTH PLAIN) before MAIL.
	User, Password string
	// RejectRcpt refuses every recipient with 550.
	RejectRcpt bool
}

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte
	TLS  bool // the session ran over TLS
	Auth string
}

// Server is a running test SMTP server.
type Server struct {
	Host    string
	Port    int
	RootCAs *x509.CertPool // trusts the server's certificate
	opts    Options

	mu   sync.Mutex
	msgs []Received
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{Host: "127.0.0.1", opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS}, nil
	}))
	srv.Domain = "mailtest.local"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = !opts.StartTLS && !opts.ImplicitTLS
	var ln net.Listener
	var err error
	if opts.StartTLS || opts.ImplicitTLS {
		cert, pool := selfSigned(t)
		s.RootCAs = pool
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if opts.StartTLS {
			srv.TLSConfig = cfg
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		} else {
			ln, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
		}
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Config is an SMTP configuration that reaches this server (without
// credentials: the test adds them).
func (s *Server) Config() mail.SMTPConfig {
	cfg := mail.SMTPConfig{Host: s.Host, Port: s.Port, UseTLS: s.opts.StartTLS, UseSSL: s.opts.ImplicitTLS,
		Timeout: 5 * time.Second, From: "AdvisoryHub <noreply@example.org>"}
	if s.RootCAs != nil {
		cfg.TLS = &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return cfg
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Messages returns the accepted messages so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

type session struct {
	s    *Server
	tls  bool
	auth string
	cur  Received
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if se.s.opts.User == "" || user != se.s.opts.User || pass != se.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		se.auth = user
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.User != "" && se.auth == "" {
		return smtp.ErrAuthRequired
	}
	se.cur = Received{From: from, TLS: se.tls, Auth: se.auth}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if se.s.opts.RejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	se.cur.To = append(se.cur.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(se.cur.To) == 0 {
		return errors.New("no recipients")
	}
	se.cur.Data = b
	se.s.mu.Lock()
	se.s.msgs = append(se.s.msgs, se.cur)
	se.s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.cur = Received{} }
func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
