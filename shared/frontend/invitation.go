package frontend

import (
	"net/http"
	"net/url"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
)

// invitationPath is where an invitation email's link lands
// (/invitations/{token}/, shared/notify). The GET shows a confirmation
// form; only its POST, CSRF-checked like every unsafe request, redeems, so
// a link a crawler or mail scanner follows changes nothing. Both need a
// signed-in user: an anonymous visitor signs in first and comes back.
const invitationPath = "/invitations/{token}/"

func (s *server) serveInvitation(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "invitation", map[string]any{"Action": r.URL.Path})
	return nil
}

// serveAcceptInvitation redeems the token for the signed-in caller
// (INV-ACCESS-2: the account's email must be the invited one; INV-ACCESS-3:
// unexpired; single use). A refusal is a 4xx page that says why.
func (s *server) serveAcceptInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := s.cfg.Grants.RedeemToken(r.Context(), s.cfg.Auth.Caller(r), r.PathValue("token"))
	if err != nil {
		status, problem := invitationProblem(err)
		if status == 0 {
			return err
		}
		obs.Logger(r.Context()).WarnContext(r.Context(), "invitation refused", "reason", apperr.KindOf(err).String())
		s.render(w, r, status, "invitation", map[string]any{"Problem": problem})
		return nil
	}
	s.render(w, r, http.StatusOK, "invitation", map[string]any{
		"Accepted": true, "AdvisoryID": string(id), "AdvisoryURL": "/api/advisories/" + url.PathEscape(string(id)) + "/",
	})
	return nil
}

// invitationProblem maps a refused redemption to its status and message
// (pageError's, with the link's own wording for an unknown token or an
// account that cannot redeem); 0 for an unexpected error.
func invitationProblem(err error) (int, string) {
	switch apperr.KindOf(err) {
	case apperr.NotFound, apperr.Invalid:
		return http.StatusNotFound, "This invitation link is not valid: it may have been replaced by a newer email, revoked, or mistyped."
	case apperr.Unauthenticated:
		return http.StatusForbidden, "Your account cannot accept invitations."
	}
	status, msg, _ := pageError(err)
	return status, msg
}
