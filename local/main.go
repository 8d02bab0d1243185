// Command local runs the whole system in one process for development:
// an embedded PostgreSQL cluster (kept under -data between runs), the
// migrations, the web and webhook handlers on one port, the in-memory queue
// feeding the job handlers, and the schedule tickers.
//
//	go run ./local                 # serve on 127.0.0.1:8000
//	go run ./local -addr 127.0.0.1:8001 -data .local2
//	go run ./local migrate         # an operator command, then exit
//
// With QUEUE_BACKEND=sqs and AWS_ENDPOINT_URL (LocalStack, moto) the jobs
// travel through real SQS queues, created on first use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	ahapp "github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/devidp"
	"github.com/eclipse-csi/advisoryhub/shared/mail"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "local:", boot.Redact(err.Error()))
		os.Exit(1)
	}
}

// run is main without the process: the end-to-end tests call it.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8000", "address to listen on")
	data := fs.String("data", ".local", "directory for the embedded PostgreSQL cluster (kept between runs)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: local [-addr host:port] [-data dir] [command [args]]")
		fmt.Fprintln(stderr, "with no command, serves the whole system; commands run once and exit.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The server listens before the configuration is read: the development
	// identity provider's issuer URL and the redirect URI name the port.
	var ln net.Listener
	if len(fs.Args()) == 0 {
		var err error
		if ln, err = net.Listen("tcp", *addr); err != nil {
			return err
		}
		defer ln.Close()
	}
	cfg, err := config.Load(localDefaults(lookup, baseURL(ln)))
	if err != nil {
		return err
	}
	logger := obs.NewLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	app, err := boot.New(ctx, cfg, boot.Options{Logger: logger, EmbeddedDir: *data, Migrate: true, CreateQueues: true})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := app.Close(context.WithoutCancel(ctx)); cerr != nil {
			logger.Warn("shutdown incomplete", "error", boot.Redact(cerr.Error()))
		}
	}()

	// The invitation link needs the public origin: known when serving (or
	// when ADVISORYHUB_BASE_URL is set for a command).
	if app.Config.Web.BaseURL != "" {
		if err := registerNotify(app, logger); err != nil {
			return err
		}
	}

	if rest := fs.Args(); len(rest) > 0 {
		return app.Registry.RunCommand(ctx, rest[0], rest[1:], stdout)
	}

	h, err := handler(app, logger)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	wg.Add(1)
	go func() { defer wg.Done(); app.Registry.RunTickers(bg) }()
	if app.UsesSQS() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := app.Poll(bg); err != nil {
				logger.Error("sqs polling stopped", "error", boot.Redact(err.Error()))
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "AdvisoryHub is running at %s/ (Ctrl-C to stop)\n", baseURL(ln))

	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	cancelBG()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// handler mounts both HTTP functions on one port, as their function URLs
// would be in the cloud, and the development identity provider when
// DEV_IDP_ENABLED (the default here).
func handler(app *boot.App, logger *slog.Logger) (http.Handler, error) {
	web, err := app.WebHandler()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ghsa/webhook/", app.WebhookHandler())
	mux.Handle("/", web)
	if app.Config.Web.DevIdP {
		idp, err := devidp.New(devidp.Config{
			Issuer: app.Config.Web.BaseURL + "/dev/idp", ClientID: app.Config.OIDC.ClientID,
			ClientSecret: app.Config.OIDC.ClientSecret.Value(), Logger: logger,
			DemoUsers: demoUsers(app.Config.OIDC.AdminGroup),
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/dev/idp/", idp.Handler())
	}
	return mux, nil
}

// registerNotify adds the notify worker's job handlers (as
// functions/notify does) to the one runner the in-memory queue feeds.
func registerNotify(app *boot.App, logger *slog.Logger) error {
	m, err := mail.New(app.Config.Email, logger, !app.Config.Production())
	if err != nil {
		return err
	}
	inv, err := ahapp.NewInvitationMail(ahapp.InvitationMailConfig{DB: app.DB, Mailer: m, BaseURL: app.Config.Web.BaseURL, Logger: logger})
	if err != nil {
		return err
	}
	app.Runner.Handle(ahapp.KindSendInvitationEmail, inv.Send)
	return nil
}

// demoUsers are the development provider's one-click users (the personas
// of the demo data: an admin, two project security teams, an outsider).
func demoUsers(adminGroup string) []devidp.DemoUser {
	return []devidp.DemoUser{
		{Email: "admin@example.org", Name: "Ada Admin", Groups: []string{adminGroup}},
		{Email: "alice@example.org", Name: "Alice (lantern team)", Groups: []string{"demo-lantern-security"}},
		{Email: "bob@example.org", Name: "Bob (marigold team)", Groups: []string{"demo-marigold-security"}},
		{Email: "carol@example.org", Name: "Carol (outsider)"},
	}
}

// baseURL is the shim's own origin (http://127.0.0.1:8000), from the
// listener; empty when not serving.
func baseURL(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return "http://" + ln.Addr().String()
	}
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// localDefaults makes development the default environment, plain-text logs
// the default format, and signs in through the development identity
// provider on this very server, without overriding anything set
// explicitly.
func localDefaults(lookup func(string) (string, bool), base string) func(string) (string, bool) {
	// EMAIL_BACKEND=log: invitation emails (with their links) are printed,
	// not sent, unless EMAIL_* point at a real server.
	defaults := map[string]string{"ADVISORYHUB_ENV": "development", "LOG_FORMAT": "plain", "EMAIL_BACKEND": "log"}
	if base != "" {
		defaults["ADVISORYHUB_BASE_URL"] = base
		defaults["DEV_IDP_ENABLED"] = "true"
		defaults["OIDC_ISSUER_URL"] = base + "/dev/idp"
		defaults["OIDC_RP_CLIENT_ID"] = "advisoryhub-local"
		defaults["OIDC_RP_CLIENT_SECRET"] = "advisoryhub-local-secret"
	}
	return func(k string) (string, bool) {
		if v, ok := lookup(k); ok {
			return v, true
		}
		v, ok := defaults[k]
		return v, ok
	}
}
