// Command notify is the notify worker: it consumes the notify SQS queue and runs each
// job through the job runner, reporting per-message failures so that only
// those are redelivered (and, past the redrive limit, dead-lettered).
package main

import (
	"github.com/eclipse-csi/advisoryhub/functions/internal/lambdaserve"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

func main() {
	app := lambdaserve.Boot()
	lambdaserve.Worker(app, queue.Notify)
}
