package csafprovider

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// TestCSAFChecker runs BSI's csaf_checker (gocsaf) against the provider
// files served over HTTPS at /.well-known/csaf/. It needs the checker
// binary, which is not a dependency of this module:
//
//	GOBIN=/tmp go install github.com/gocsaf/csaf/v3/cmd/csaf_checker@v3.7.0
//	CSAF_CHECKER=/tmp/csaf_checker go test ./shared/csafprovider -run CSAFChecker
//
// Requirements 8 (security.txt) and 10 (DNS path) concern the domain, not
// the files, and are not asserted.
func TestCSAFChecker(t *testing.T) {
	checker := os.Getenv("CSAF_CHECKER")
	if checker == "" {
		t.Skip("CSAF_CHECKER is not set: csaf_checker not run (see the test's doc comment)")
	}
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	defer srv.Close()
	host := srv.Listener.Addr().String()

	key := newKey(t, packet.PubKeyAlgoEdDSA, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newProvider(t, key, func(c *Config) {
		c.BaseURL = "https://" + host + "/.well-known/csaf/"
		c.AnnounceDirectory = true
	})
	tr := tree{}
	res, err := p.Build(fstest.MapFS(tr), tr.add(d1, d2, d3)...)
	if err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	if res, err = p.Build(fstest.MapFS(tr), tr.add(d4)...); err != nil {
		t.Fatal(err)
	}
	tr.apply(res)
	site := fstest.MapFS{}
	for p, f := range tr {
		site[".well-known/"+p] = f
	}
	mux.Handle("/", http.FileServerFS(site)) // with directory listings (requirement 14)

	report := filepath.Join(t.TempDir(), "report.json")
	out, err := exec.Command(checker, "--insecure", "-f", "json", "-o", report, host).CombinedOutput()
	if err != nil {
		t.Fatalf("csaf_checker: %v\n%s", err, out)
	}
	var r struct {
		Domains []struct {
			Role         string `json:"role"`
			Passed       bool   `json:"passed"`
			Requirements []struct {
				Num         int    `json:"num"`
				Description string `json:"description"`
				Messages    []struct {
					Type int    `json:"type"` // 0 info, 1 warning, 2 error
					Text string `json:"text"`
				} `json:"messages"`
			} `json:"requirements"`
		} `json:"domains"`
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.Domains) != 1 {
		t.Fatalf("report: %v\n%s", err, b)
	}
	d := r.Domains[0]
	if d.Role != "csaf_trusted_provider" || !d.Passed {
		t.Errorf("role %s, passed %v", d.Role, d.Passed)
	}
	for _, req := range d.Requirements {
		for _, m := range req.Messages {
			switch {
			case m.Type == 2 && !slices.Contains([]int{8, 10}, req.Num):
				t.Errorf("requirement %d (%s): %s", req.Num, req.Description, m.Text)
			case m.Type >= 1:
				t.Logf("requirement %d (%s): %s", req.Num, req.Description, m.Text)
			}
		}
	}
}
