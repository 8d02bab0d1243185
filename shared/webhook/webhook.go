// Package webhook is the webhook function's HTTP surface: GitHub App
// deliveries at POST /ghsa/webhook/, and the health probes. It is exempt
// from sessions and CSRF: the HMAC signature is the authentication.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/eclipse-csi/advisoryhub/shared/app"
	"github.com/eclipse-csi/advisoryhub/shared/health"
	"github.com/eclipse-csi/advisoryhub/shared/middleware"
	"github.com/eclipse-csi/advisoryhub/shared/obs"
)

// MaxBody is GitHub's cap on a delivery's payload.
const MaxBody = 25 << 20

// Config wires the receiver.
type Config struct {
	Logger   *slog.Logger
	Health   *health.Handler
	Webhooks *app.Webhooks
	// Secret is GITHUB_APP_WEBHOOK_SECRET; empty rejects every delivery.
	Secret string
}

type server struct{ cfg Config }

// New returns the webhook function's handler.
func New(cfg Config) http.Handler {
	s := &server{cfg: cfg}
	mux := http.NewServeMux()
	cfg.Health.Register(mux)
	mux.HandleFunc("POST /ghsa/webhook/", s.serveDelivery)
	return middleware.Chain(mux,
		middleware.RequestID(cfg.Logger),
		middleware.Log(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		})),
	)
}

// serveDelivery follows the original receiver step by step: the signature
// is verified before anything is parsed; a repeated delivery id is a no-op.
func (s *server) serveDelivery(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "payload too large"})
		return
	}
	event := truncate(r.Header.Get("X-GitHub-Event"), 64)
	delivery := truncate(r.Header.Get("X-GitHub-Delivery"), 64)
	ip, ua := clientIP(r), r.UserAgent()

	if !validSignature(s.cfg.Secret, body, r.Header.Get("X-Hub-Signature-256")) {
		s.reject(ctx, "bad_signature", delivery, event, ip, ua)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if event == "" || delivery == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "missing event or delivery headers"})
		return
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		s.reject(ctx, "malformed_json", delivery, event, ip, ua)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed JSON"})
		return
	}
	d := app.Delivery{
		DeliveryID: delivery, Event: event, Action: truncate(p.Action, 64), InstallationID: p.Installation.ID,
		IP: ip, UserAgent: ua,
		Digest: app.WebhookDigest{
			Event: event, Action: truncate(p.Action, 64), InstallationID: p.Installation.ID,
			AccountLogin: p.Installation.Account.Login, AccountType: p.Installation.Account.Type,
			RepoOwner: p.Repository.Owner.Login, RepoName: p.Repository.Name, GHSAID: p.Advisory.GHSAID,
		},
	}
	fresh, err := s.cfg.Webhooks.Receive(ctx, d)
	if err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "webhook delivery not recorded", "delivery_id", delivery, "event", event, "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	if !fresh {
		writeJSON(w, http.StatusOK, map[string]string{"status": "already_processed"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted", "delivery_id": delivery})
}

func (s *server) reject(ctx context.Context, reason, delivery, event, ip, ua string) {
	if err := s.cfg.Webhooks.Reject(ctx, reason, delivery, event, ip, ua); err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "webhook rejection not audited", "reason", reason, "error", err.Error())
	}
}

// payload is the part of a delivery body processing needs.
type payload struct {
	Action       string `json:"action"`
	Installation struct {
		ID      int64 `json:"id"`
		Account struct {
			Login string `json:"login"`
			Type  string `json:"type"`
		} `json:"account"`
	} `json:"installation"`
	Repository struct {
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
	Advisory struct {
		GHSAID string `json:"ghsa_id"`
	} `json:"repository_advisory"`
}

// validSignature checks X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256)
// in constant time. An empty secret never validates.
func validSignature(secret string, body []byte, header string) bool {
	if secret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value GitHub would send.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if net.ParseIP(host) == nil {
		return ""
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
