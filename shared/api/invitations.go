package api

import (
	"net/http"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/auth"
	"github.com/eclipse-csi/advisoryhub/shared/ratelimit"
)

// The invitation endpoints of issue 4 (requirements §4.6; the JSON twins
// of the admin console's resend and revoke, operations §2):
//
//	POST /api/advisories/{advisory_id}/invitations/{invitation_id}/revoke/  owner
//	POST /api/advisories/{advisory_id}/invitations/{invitation_id}/resend/  owner (20/h)
//
// Both are unsafe, so CSRF-checked by the middleware in front of the API
// like every other. Neither asks for a step-up: requirements §5 reserves
// it for publishing, withdrawing and the GitHub App configuration, and the
// grants endpoint does not ask for one either. An unknown invitation, one
// of another advisory, and an advisory the caller cannot see all answer
// the 404 page (INV-PRIVACY-1); a redeemed invitation answers 409
// conflict. Resend refreshes the 14-day window (INV-ACCESS-3, an expired
// invitation may be revived) and queues the email again; revocation
// deletes the row, so its link dies and a queued email sends nothing.

// ResendRule bounds re-sends: each one sends an email (permissions §12
// grant limit).
var ResendRule = ratelimit.Rule{Limit: 20, Period: GrantRule.Period}

func (a *Access) invitationRoutes() []route {
	return []route{
		{"POST", "/api/advisories/{advisory_id}/invitations/{invitation_id}/revoke/", a.serveRevokeInvitation},
		{"POST", "/api/advisories/{advisory_id}/invitations/{invitation_id}/resend/",
			a.limited("api.invitations.resend", ResendRule, a.serveResendInvitation)},
	}
}

// invitationID reads {invitation_id}; anything but a positive integer is
// an unknown invitation.
func invitationID(r *http.Request) (int64, error) {
	return pathID(r, "invitation_id", apperr.New(apperr.NotFound, "no such invitation"))
}

func (a *Access) serveRevokeInvitation(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, iid, err := advisoryAnd(r, invitationID)
	if err != nil {
		return err
	}
	if err := a.Grants.RevokeInvitation(r.Context(), a.Auth.Caller(r), id, iid); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": iid})
	return nil
}

func (a *Access) serveResendInvitation(w http.ResponseWriter, r *http.Request, _ *auth.User) error {
	id, iid, err := advisoryAnd(r, invitationID)
	if err != nil {
		return err
	}
	// The token returned for self-delivering callers is dropped: the
	// queued email carries its own.
	inv, _, err := a.Grants.ResendInvitation(r.Context(), a.Auth.Caller(r), id, iid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"resent": "invitation", "invitation": invitationOf(inv)})
	return nil
}
