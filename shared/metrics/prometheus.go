package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Prometheus records into its own registry (never the global default one).
type Prometheus struct {
	reg          *prometheus.Registry
	httpTotal    *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	jobTotal     *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	pubTotal     *prometheus.CounterVec
	pubStage     *prometheus.CounterVec
	pubDuration  prometheus.Histogram
	simTotal     *prometheus.CounterVec
	backlog      *prometheus.GaugeVec
}

// NewPrometheus builds a registry with every series, plus the Go runtime
// and process collectors.
func NewPrometheus() *Prometheus {
	p := &Prometheus{
		reg: prometheus.NewRegistry(),
		httpTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: HTTPRequestsTotal,
			Help: "HTTP requests served, by method, matched route and status."}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: HTTPRequestDuration,
			Help: "HTTP request latency, by method and matched route.", Buckets: httpBuckets}, []string{"method", "route"}),
		jobTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: JobTotal,
			Help: "Background job executions, by job name and outcome."}, []string{"task", "status"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: JobDuration,
			Help: "Background job duration, by job name.", Buckets: jobBuckets}, []string{"task"}),
		pubTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: PublicationTotal,
			Help: "Publication runs, by status."}, []string{"status"}),
		pubStage: prometheus.NewCounterVec(prometheus.CounterOpts{Name: PublicationStageTotal,
			Help: "Publication stage events, by stage."}, []string{"stage"}),
		pubDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: PublicationDuration,
			Help: "Publication run duration (started_at to finished_at).", Buckets: publicationBuckets}),
		simTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: SimilarityCheckTotal,
			Help: "Duplicate-check runs, by status."}, []string{"status"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Backlog,
			Help: "Open work items, by queue."}, []string{"queue"}),
	}
	p.reg.MustRegister(p.httpTotal, p.httpDuration, p.jobTotal, p.jobDuration, p.pubTotal, p.pubStage,
		p.pubDuration, p.simTotal, p.backlog,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p
}

// Handler serves the exposition format (GET /metrics).
func (p *Prometheus) Handler() http.Handler {
	return promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{})
}

// Registry exposes the registry, for tests.
func (p *Prometheus) Registry() *prometheus.Registry { return p.reg }

func (p *Prometheus) HTTPRequest(method, route string, status int, d time.Duration) {
	route = routeLabel(route)
	p.httpTotal.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	p.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

func (p *Prometheus) Job(task, status string, d time.Duration) {
	p.jobTotal.WithLabelValues(task, status).Inc()
	p.jobDuration.WithLabelValues(task).Observe(d.Seconds())
}

func (p *Prometheus) Publication(status string)     { p.pubTotal.WithLabelValues(status).Inc() }
func (p *Prometheus) PublicationStage(stage string) { p.pubStage.WithLabelValues(stage).Inc() }
func (p *Prometheus) PublicationDuration(d time.Duration) {
	p.pubDuration.Observe(d.Seconds())
}
func (p *Prometheus) SimilarityCheck(status string)   { p.simTotal.WithLabelValues(status).Inc() }
func (p *Prometheus) Backlog(queue string, n float64) { p.backlog.WithLabelValues(queue).Set(n) }
