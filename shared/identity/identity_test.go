package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/eclipse-csi/advisoryhub/shared/identity"
)

// INV-OIDC-4: only SPN-form values are mirrored, as bare names.
func TestGroupNamesFromClaim(t *testing.T) {
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"spn kept as bare name", []string{"lantern-security@idm.example.org"}, []string{"lantern-security"}},
		{"uuid and bare aliases dropped", []string{
			"0d7bfa47-0e9b-4c0e-8a8a-3f1b2c3d4e5f", "lantern-security", "lantern-security@idm.example.org",
		}, []string{"lantern-security"}},
		{"split at the first @", []string{"a@b@c"}, []string{"a"}},
		{"idm_ internals dropped", []string{"idm_all_persons@idm.example.org", "idm_admins@x", "idmx@x"}, []string{"idmx"}},
		{"empty local part dropped", []string{"@idm.example.org", " @x", ""}, nil},
		{"trimmed, sorted, deduplicated", []string{" b@x ", "a@x", "b@y"}, []string{"a", "b"}},
		{"too long dropped", []string{strings.Repeat("g", 151) + "@x", strings.Repeat("g", 150) + "@x"}, []string{strings.Repeat("g", 150)}},
		{"NUL dropped", []string{"a\x00b@x"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, identity.GroupNamesFromClaim(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUser(t *testing.T) {
	now := time.Now()
	cases := []struct {
		u      identity.User
		label  string
		banned bool
	}{
		{identity.User{Email: "a@example.org", DisplayName: "  Alice  "}, "Alice", false},
		{identity.User{Email: "a@example.org", DisplayName: " \t"}, "a@example.org", false},
		{identity.User{Email: "b@example.org", BannedAt: &now}, "b@example.org", true},
	}
	for _, tc := range cases {
		if got := tc.u.Label(); got != tc.label {
			t.Errorf("Label() = %q, want %q", got, tc.label)
		}
		if got := tc.u.IsBanned(); got != tc.banned {
			t.Errorf("IsBanned() = %v, want %v", got, tc.banned)
		}
	}
	if !identity.EqualEmail("Alice@Example.org", "alice@example.ORG") || identity.EqualEmail("a@x", "b@x") {
		t.Error("EqualEmail is not case-insensitive equality")
	}
}

func TestIsAdmin(t *testing.T) {
	groups := []string{"advisoryhub-security", "lantern-security"}
	if !identity.IsAdmin(groups, "advisoryhub-security") {
		t.Error("member of the admin group is not admin")
	}
	if identity.IsAdmin(groups, "other") || identity.IsAdmin(groups, "") || identity.IsAdmin(nil, "advisoryhub-security") {
		t.Error("non-member (or empty admin group) is admin")
	}
}
