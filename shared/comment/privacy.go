package comment

import (
	"cmp"
	"slices"
	"strings"
)

// Person is a user as comments, mentions and grants show them.
type Person struct {
	ID          int64
	Email       string
	DisplayName string
}

// MaskEmail masks an address for readers who may not see it
// (INV-PRIVACY-4): the first character of the local part, "•••@", then the
// domain ("alice@example.org" → "a•••@example.org"). A string without "@"
// passes unchanged.
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return email
	}
	first := ""
	for _, r := range local {
		first = string(r)
		break
	}
	return first + "•••@" + domain
}

// Viewer is who reads: their user id, and whether they may see other
// users' emails (can_see_user_emails: owner rank on the advisory, or a
// global admin on admin pages). The zero Viewer sees no one's email.
type Viewer struct {
	UserID     int64
	ShowEmails bool
}

// Email is p's address as v may see it: in full to owners and to p
// themself, masked otherwise (fail closed).
func (v Viewer) Email(p Person) string {
	if v.ShowEmails || (p.ID != 0 && p.ID == v.UserID) {
		return p.Email
	}
	return MaskEmail(p.Email)
}

// EmailString is Email for a bare address of the user with id userID (0
// when no user is known, e.g. an invitation).
func (v Viewer) EmailString(userID int64, email string) string {
	return v.Email(Person{ID: userID, Email: email})
}

// Label is how p is named to v: the display name, else the email as v may
// see it.
func (v Viewer) Label(p Person) string {
	if name := strings.TrimSpace(p.DisplayName); name != "" {
		return name
	}
	return v.Email(p)
}

// Resolve maps mention tokens (as Mentions returns them) to users
// (requirements §6.8): a token holding "@" matches a user's email
// case-insensitively; a bare token matches the local part of exactly one
// candidate's email (an ambiguous local part resolves to nobody). Tokens
// that match nobody are absent from the result.
func Resolve(tokens []string, candidates []Person) map[string]Person {
	out := map[string]Person{}
	for _, t := range tokens {
		t = strings.ToLower(t)
		var match []Person
		for _, p := range candidates {
			email := strings.ToLower(p.Email)
			if strings.Contains(t, "@") {
				if email == t {
					match = append(match, p)
				}
				continue
			}
			if local, _, ok := strings.Cut(email, "@"); ok && local == t {
				match = append(match, p)
			}
		}
		slices.SortFunc(match, func(a, b Person) int { return cmp.Compare(a.ID, b.ID) })
		match = slices.CompactFunc(match, func(a, b Person) bool { return a.ID == b.ID })
		if len(match) == 1 {
			out[t] = match[0]
		}
	}
	return out
}

// LocalParts returns the bare (no "@") tokens, and Emails the full-address
// tokens, for the store's candidate lookup.
func LocalParts(tokens []string) []string {
	return slices.DeleteFunc(slices.Clone(tokens), func(t string) bool { return strings.Contains(t, "@") })
}

// Emails returns the tokens that are full addresses.
func Emails(tokens []string) []string {
	return slices.DeleteFunc(slices.Clone(tokens), func(t string) bool { return !strings.Contains(t, "@") })
}

// Labels is the mention map Render takes, for viewer v: each resolved
// token named as v may see the user.
func Labels(resolved map[string]Person, v Viewer) map[string]string {
	out := make(map[string]string, len(resolved))
	for t, p := range resolved {
		out[t] = v.Label(p)
	}
	return out
}
