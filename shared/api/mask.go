package api

import "strings"

// MaskEmail masks an address a caller may not see (INV-PRIVACY-4): the
// first character of the local part, "•••@", the domain
// (alice@example.org → a•••@example.org). A string without "@" passes
// unchanged.
func MaskEmail(email string) string {
	at := strings.IndexByte(email, '@')
	if at < 0 {
		return email
	}
	first := ""
	for _, r := range email[:at] {
		first = string(r)
		break
	}
	return first + "•••@" + email[at+1:]
}

// EmailFor is how an email of user ownerID appears to caller callerID:
// whole to the user themself and when showEmails (the endpoint's
// fail-closed can_see_user_emails decision, or a global admin); masked
// otherwise.
func EmailFor(callerID, ownerID int64, email string, showEmails bool) string {
	if showEmails || (callerID != 0 && callerID == ownerID) {
		return email
	}
	return MaskEmail(email)
}
