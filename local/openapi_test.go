package main

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eclipse-csi/advisoryhub/shared/api"
)

// specOperations reads openapi.yaml at the repository root as
// "METHOD /path" strings.
func specOperations(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.yaml: version %q", doc.OpenAPI)
	}
	var ops []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

// The project's openapi.yaml and the router agree in both directions: every
// API route is documented and every documented /api/ operation is routed;
// every other documented operation (probes, webhook) is served by the
// running system.
func TestOpenAPIMatchesRouter(t *testing.T) {
	spec := specOperations(t)
	var routed []string
	for _, rt := range api.Routes() {
		routed = append(routed, rt.Method+" "+rt.Pattern)
	}
	slices.Sort(routed)
	var specAPI, specOther []string
	for _, op := range spec {
		if _, path, _ := strings.Cut(op, " "); strings.HasPrefix(path, "/api/") {
			specAPI = append(specAPI, op)
		} else {
			specOther = append(specOther, op)
		}
	}
	for _, op := range routed {
		if !slices.Contains(specAPI, op) {
			t.Errorf("routed but not in openapi.yaml: %s", op)
		}
	}
	for _, op := range specAPI {
		if !slices.Contains(routed, op) {
			t.Errorf("in openapi.yaml but not routed: %s", op)
		}
	}

	base, stop := start(t, dataDir(t))
	defer stop()
	for _, op := range specOther {
		method, path, _ := strings.Cut(op, " ")
		req, err := http.NewRequest(method, strings.TrimRight(base, "/")+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: %d — documented but not served", op, resp.StatusCode)
		}
	}
}
