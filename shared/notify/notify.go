// Package notify holds the text of the emails AdvisoryHub sends
// (requirements §4.7). Bodies are deliberately sparse: what happened and a
// link back into the authenticated app, never private advisory content —
// no title, summary, description or affected products (INV-SECRET-3,
// INV-PRIVACY-2).
package notify

import (
	"fmt"
	"strings"
	"time"
)

// Invitation is what the invitation email may say.
type Invitation struct {
	Email      string    // the invited address (the recipient)
	AdvisoryID string    // public ECL-… id
	Inviter    string    // who invited (display name, or a masked email)
	Permission string    // viewer or collaborator
	ExpiresAt  time.Time // INV-ACCESS-3
	Link       string    // {ADVISORYHUB_BASE_URL}/invitations/{token}/
	SignInURL  string    // {ADVISORYHUB_BASE_URL}/
}

// InvitationEmail renders the invitation email's subject and body.
func InvitationEmail(inv Invitation) (subject, body string) {
	subject = fmt.Sprintf("You are invited to security advisory %s on AdvisoryHub", inv.AdvisoryID)
	inviter := inv.Inviter
	if inviter == "" {
		inviter = "An owner of the advisory"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\n")
	fmt.Fprintf(&b, "%s invited you to security advisory %s on AdvisoryHub as a %s.\n\n", inviter, inv.AdvisoryID, inv.Permission)
	fmt.Fprintf(&b, "To accept, sign in with this email address (%s) and open:\n\n    %s\n\n", inv.Email, inv.Link)
	fmt.Fprintf(&b, "Signing in at %s with this address also accepts the invitation.\n", inv.SignInURL)
	fmt.Fprintf(&b, "The invitation can be used once and expires on %s.\n\n",
		inv.ExpiresAt.UTC().Format("2 January 2006 at 15:04 UTC"))
	fmt.Fprintf(&b, "If you did not expect this invitation, you can ignore this email.\n\n-- \nAdvisoryHub\n")
	return subject, b.String()
}
