package metrics

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// EMF writes each measurement as one CloudWatch embedded-metric-format JSON
// line (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// Inside Lambda the log stream is the metrics pipeline: CloudWatch extracts
// the series from the lines, under the same names and labels (as
// dimensions) as the Prometheus recorder. Writes are synchronous, so nothing
// outlives an invocation.
type EMF struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewEMF writes to w (the function's stdout); now may be nil (time.Now).
func NewEMF(w io.Writer, now func() time.Time) *EMF {
	if now == nil {
		now = time.Now
	}
	return &EMF{w: w, now: now}
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emit writes one line: dims are the dimension values (also the
// dimension set), values the metric values with their units.
func (e *EMF) emit(dims map[string]string, values map[string]float64, units map[string]string) {
	doc := map[string]any{}
	names := make([]string, 0, len(dims))
	for k, v := range dims {
		doc[k] = v
		names = append(names, k)
	}
	slices.Sort(names)
	var ms []emfMetric
	mnames := make([]string, 0, len(values))
	for k := range values {
		mnames = append(mnames, k)
	}
	slices.Sort(mnames)
	for _, k := range mnames {
		doc[k] = values[k]
		ms = append(ms, emfMetric{Name: k, Unit: units[k]})
	}
	doc["_aws"] = emfMeta{
		Timestamp:         e.now().UnixMilli(),
		CloudWatchMetrics: []emfDirective{{Namespace: emfNamespace, Dimensions: [][]string{names}, Metrics: ms}},
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return
	}
	line = append(line, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(line)
}

func (e *EMF) HTTPRequest(method, route string, status int, d time.Duration) {
	e.emit(map[string]string{"method": method, "route": routeLabel(route), "status": strconv.Itoa(status)},
		map[string]float64{HTTPRequestsTotal: 1, HTTPRequestDuration: d.Seconds()},
		map[string]string{HTTPRequestsTotal: "Count", HTTPRequestDuration: "Seconds"})
}

func (e *EMF) Job(task, status string, d time.Duration) {
	e.emit(map[string]string{"task": task, "status": status},
		map[string]float64{JobTotal: 1, JobDuration: d.Seconds()},
		map[string]string{JobTotal: "Count", JobDuration: "Seconds"})
}

func (e *EMF) Publication(status string) {
	e.emit(map[string]string{"status": status}, map[string]float64{PublicationTotal: 1}, map[string]string{PublicationTotal: "Count"})
}

func (e *EMF) PublicationStage(stage string) {
	e.emit(map[string]string{"stage": stage}, map[string]float64{PublicationStageTotal: 1}, map[string]string{PublicationStageTotal: "Count"})
}

func (e *EMF) PublicationDuration(d time.Duration) {
	e.emit(map[string]string{}, map[string]float64{PublicationDuration: d.Seconds()}, map[string]string{PublicationDuration: "Seconds"})
}

func (e *EMF) SimilarityCheck(status string) {
	e.emit(map[string]string{"status": status}, map[string]float64{SimilarityCheckTotal: 1}, map[string]string{SimilarityCheckTotal: "Count"})
}

func (e *EMF) Backlog(queue string, n float64) {
	e.emit(map[string]string{"queue": queue}, map[string]float64{Backlog: n}, map[string]string{Backlog: "Count"})
}
