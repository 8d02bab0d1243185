// Command notify is the notify worker: it consumes the notify SQS queue and runs each
// job through the job runner, reporting per-message failures so that only
// those are redelivered (and, past the redrive limit, dead-lettered).
//
// Jobs: invitation.send_email (the invitation email, over SMTP per EMAIL_*).
package main

import (
	"os"

	"github.com/eclipse-csi/advisoryhub/functions/internal/lambdaserve"
	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/boot"
	"github.com/eclipse-csi/advisoryhub/shared/mail"
	"github.com/eclipse-csi/advisoryhub/shared/queue"
)

func main() {
	a := lambdaserve.Boot()
	if err := register(a); err != nil {
		a.Logger.Error("notify boot failed", "error", boot.Redact(err.Error()))
		os.Exit(1)
	}
	lambdaserve.Worker(a, queue.Notify)
}

// register adds the notify queue's job handlers to the runner. The log
// mail backend reveals invitation links only outside production.
func register(a *boot.App) error {
	m, err := mail.New(a.Config.Email, a.Logger, !a.Config.Production())
	if err != nil {
		return err
	}
	inv, err := app.NewInvitationMail(app.InvitationMailConfig{DB: a.DB, Mailer: m, BaseURL: a.Config.Web.BaseURL, Logger: a.Logger})
	if err != nil {
		return err
	}
	a.Runner.Handle(app.KindSendInvitationEmail, inv.Send)
	return nil
}
