// Command webhook receives GitHub App webhook deliveries on its own function
// URL (or on $PORT outside Lambda).
package main

import "github.com/eclipse-csi/advisoryhub/functions/internal/lambdaserve"

func main() {
	app := lambdaserve.Boot()
	lambdaserve.HTTP(app, app.WebhookHandler())
}
