// Package metrics records the application's measurements under the series
// names of operations.md §10, plus HTTP request metrics. Two recorders
// exist: Prometheus (a registry scraped at /metrics, outside Lambda) and EMF
// (CloudWatch embedded-metric-format log lines, inside Lambda, where nothing
// can be scraped). Both carry the same series, names and labels.
package metrics

import (
	"time"
)

// Series names (operations.md §10). Renaming one also requires updating
// the alert rules that use it.
const (
	PublicationTotal      = "advisoryhub_publication_total"
	PublicationStageTotal = "advisoryhub_publication_stage_total"
	PublicationDuration   = "advisoryhub_publication_duration_seconds"
	SimilarityCheckTotal  = "advisoryhub_similarity_check_total"
	JobTotal              = "advisoryhub_celery_task_total"
	JobDuration           = "advisoryhub_celery_task_duration_seconds"
	Backlog               = "advisoryhub_backlog"
	HTTPRequestsTotal     = "advisoryhub_http_requests_total"
	HTTPRequestDuration   = "advisoryhub_http_request_duration_seconds"
)

const (
	emfNamespace   = "AdvisoryHub"
	unmatchedRoute = "unmatched"
)

// The status label values of JobTotal (operations.md §10).
const (
	// JobSuccess: the job is done.
	JobSuccess = "success"
	// JobFailure: the job failed for good (it will not run again).
	JobFailure = "failure"
	// JobRetry: the job failed and will be delivered again.
	JobRetry = "retry"
)

// Histogram buckets (operations.md §10 for the first two).
var (
	publicationBuckets = []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	jobBuckets         = []float64{0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600}
	httpBuckets        = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
)

// Recorder receives measurements. Prometheus and EMF implement it.
type Recorder interface {
	// HTTPRequest records one served request. route is the matched
	// pattern (bounded cardinality), never the raw path.
	HTTPRequest(method, route string, status int, d time.Duration)
	// Job records one job execution: status JobSuccess, JobFailure or
	// JobRetry; task is the job's stable name (jobs.TaskName).
	Job(task, status string, d time.Duration)
	// Publication counts a publication run status: started, succeeded or
	// failed.
	Publication(status string)
	// PublicationStage counts a publication stage event.
	PublicationStage(stage string)
	// PublicationDuration observes a finished run (started_at → finished_at).
	PublicationDuration(d time.Duration)
	// SimilarityCheck counts a duplicate-check run status.
	SimilarityCheck(status string)
	// Backlog sets the size of a work queue (pub_failed, cve_open, …).
	Backlog(queue string, n float64)
}

// JobStatus is the status label of a job run that returned err and will
// not run again.
func JobStatus(err error) string {
	if err != nil {
		return JobFailure
	}
	return JobSuccess
}

func routeLabel(route string) string {
	if route == "" {
		return unmatchedRoute
	}
	return route
}
