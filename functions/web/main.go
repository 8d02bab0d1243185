// Command web is the web function: the HTML UI, /api/, /report/ and the
// health probes, behind a Lambda function URL or on $PORT.
package main

import "github.com/eclipse-csi/advisoryhub/functions/internal/lambdaserve"

func main() {
	app := lambdaserve.Boot()
	lambdaserve.HTTP(app, app.WebHandler())
}
