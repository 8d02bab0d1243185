// Package lambdaserve runs a function either inside AWS Lambda or, outside
// it (no AWS_LAMBDA_RUNTIME_API), as a plain process — so the same binary
// runs on any container platform.
package lambdaserve

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/config"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
	"github.com/eclipse-csi/advisoryhub/shared/queue/sqsqueue"
)

// InLambda reports whether the process runs under the Lambda runtime.
func InLambda() bool {
	_, ok := os.LookupEnv("AWS_LAMBDA_RUNTIME_API")
	return ok
}

// Boot loads the configuration and builds the App, or exits: the only place
// besides main where the process may stop itself.
func Boot() *boot.App {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		log.Fatalf("configuration: %v", err)
	}
	logger := obs.NewLogger(os.Stdout, cfg.Log.Format, cfg.Log.Level)
	app, err := boot.New(context.Background(), cfg, boot.Options{Logger: logger})
	if err != nil {
		logger.Error("boot failed", "error", boot.Redact(err.Error()))
		os.Exit(1)
	}
	return app
}

// HTTP serves h through a Lambda function URL (payload format 2.0) or, outside
// Lambda, on $PORT until SIGTERM or SIGINT.
func HTTP(app *boot.App, h http.Handler) {
	if InLambda() {
		lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	addr := net.JoinHostPort("", strconv.Itoa(app.Config.Port))
	if err := ServeHTTP(ctx, addr, h, app.Logger); err != nil {
		app.Logger.Error("server failed", "error", err.Error())
		os.Exit(1)
	}
	_ = app.Close(context.Background())
}

// ServeHTTP listens on addr until ctx ends, then shuts down gracefully.
func ServeHTTP(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	logger.Info("listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Worker consumes the named queue: SQS batches with per-message failure
// reports inside Lambda, or a long-poll loop outside it.
func Worker(app *boot.App, name queue.Name) {
	if InLambda() {
		lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return sqsqueue.HandleEvent(ctx, ev, app.Runner.Run), nil
		})
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Poll(ctx, name); err != nil {
		app.Logger.Error("worker failed", "queue", string(name), "error", boot.Redact(err.Error()))
		os.Exit(1)
	}
	_ = app.Close(context.Background())
}
