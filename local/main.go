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
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/config"
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
	cfg, err := config.Load(localDefaults(lookup))
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

	if rest := fs.Args(); len(rest) > 0 {
		return app.Registry.RunCommand(ctx, rest[0], rest[1:], stdout)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(app), ReadHeaderTimeout: 10 * time.Second}
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
	fmt.Fprintf(stdout, "AdvisoryHub is running at http://%s/ (Ctrl-C to stop)\n", ln.Addr())

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
// would be in the cloud.
func handler(app *boot.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ghsa/webhook/", app.WebhookHandler())
	mux.Handle("/", app.WebHandler())
	return mux
}

// localDefaults makes development the default environment and plain-text
// logs the default format, without overriding anything set explicitly.
func localDefaults(lookup func(string) (string, bool)) func(string) (string, bool) {
	defaults := map[string]string{"ADVISORYHUB_ENV": "development", "LOG_FORMAT": "plain"}
	return func(k string) (string, bool) {
		if v, ok := lookup(k); ok {
			return v, true
		}
		v, ok := defaults[k]
		return v, ok
	}
}
