// Command web is the web function: the HTML UI, /api/, /report/ and the
// health probes, behind a Lambda function URL or on $PORT.
package main

import (
	"os"

	"github.com/eclipse-csi/advisoryhub/functions/internal/lambdaserve"
	"github.com/eclipse-csi/advisoryhub/shared/boot"
)

func main() {
	app := lambdaserve.Boot()
	h, err := app.WebHandler()
	if err != nil {
		app.Logger.Error("web handler failed", "error", boot.Redact(err.Error()))
		os.Exit(1)
	}
	lambdaserve.HTTP(app, h)
}
