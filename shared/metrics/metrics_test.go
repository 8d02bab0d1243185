package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The series carry the names and labels of operations.md §10.
func TestPrometheusSeries(t *testing.T) {
	p := NewPrometheus()
	p.HTTPRequest("GET", "GET /healthz", 200, 3*time.Millisecond)
	p.Job("publication.run_publication", JobStatus(nil), time.Second)
	p.Job("publication.run_publication", JobRetry, time.Second)
	p.Job("publication.run_publication", JobStatus(errors.New("x")), time.Second)
	p.Publication("started")
	p.PublicationStage("git_push")
	p.PublicationDuration(42 * time.Second)
	p.SimilarityCheck("failed")
	p.Backlog("pub_failed", 3)
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{
		`advisoryhub_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`,
		`advisoryhub_http_request_duration_seconds_count{method="GET",route="GET /healthz"} 1`,
		`advisoryhub_celery_task_total{status="success",task="publication.run_publication"} 1`,
		`advisoryhub_celery_task_total{status="retry",task="publication.run_publication"} 1`,
		`advisoryhub_celery_task_total{status="failure",task="publication.run_publication"} 1`,
		`advisoryhub_celery_task_duration_seconds_bucket{task="publication.run_publication",le="2.5"} 3`,
		`advisoryhub_publication_total{status="started"} 1`,
		`advisoryhub_publication_stage_total{stage="git_push"} 1`,
		`advisoryhub_publication_duration_seconds_bucket{le="60"} 1`,
		`advisoryhub_similarity_check_total{status="failed"} 1`,
		`advisoryhub_backlog{queue="pub_failed"} 3`,
	} {
		if !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("no line %s", line)
		}
	}
}

// Inside Lambda the same series are CloudWatch EMF lines.
func TestEMFLine(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, func() time.Time { return time.UnixMilli(1700000000123) })
	e.HTTPRequest("POST", "", 503, 1500*time.Millisecond)
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		t.Fatalf("not one JSON line: %q %v", buf.String(), err)
	}
	if doc["method"] != "POST" || doc["route"] != "unmatched" || doc["status"] != "503" ||
		doc[HTTPRequestsTotal] != 1.0 || doc[HTTPRequestDuration] != 1.5 {
		t.Fatalf("values: %v", doc)
	}
	meta := doc["_aws"].(map[string]any)
	dir := meta["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if meta["Timestamp"] != 1700000000123.0 || dir["Namespace"] != "AdvisoryHub" {
		t.Fatalf("metadata: %v", meta)
	}
	dims, _ := json.Marshal(dir["Dimensions"])
	if string(dims) != `[["method","route","status"]]` {
		t.Fatalf("dimensions %s", dims)
	}
	ms, _ := json.Marshal(dir["Metrics"])
	if string(ms) != `[{"Name":"advisoryhub_http_request_duration_seconds","Unit":"Seconds"},{"Name":"advisoryhub_http_requests_total","Unit":"Count"}]` {
		t.Fatalf("metrics %s", ms)
	}
}
