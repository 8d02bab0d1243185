// Command scheduled runs the named scheduled jobs — {"job": NAME} from an
// EventBridge schedule — and operator commands — {"command": NAME, "args":
// [...]}. Outside Lambda it runs every scheduled job on its own ticker, or,
// given arguments, one operator command ("scheduled migrate").
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/eclipse-csi/advisoryhub/functions/internal/lambdaserve"
	"github.com/eclipse-csi/advisoryhub/shared/boot"
)

func main() {
	app := lambdaserve.Boot()
	if lambdaserve.InLambda() {
		lambda.Start(app.Registry.Invoke)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 {
		err = app.Registry.RunCommand(ctx, os.Args[1], os.Args[2:], os.Stdout)
	} else {
		app.Registry.RunTickers(ctx)
	}
	_ = app.Close(context.Background())
	if err != nil {
		app.Logger.Error("command failed", "error", boot.Redact(err.Error()))
		os.Exit(1)
	}
}
