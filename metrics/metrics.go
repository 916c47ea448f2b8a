// Package metrics exposes the hub's Prometheus metrics: counters and
// latencies recorded as requests pass, and fleet gauges read at scrape time.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/httpx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the hub's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	requests       *prometheus.CounterVec
	ingest         *prometheus.CounterVec
	ingestDuration *prometheus.HistogramVec

	// CheckerRuns counts passes of each checker ("node", "host").
	CheckerRuns *prometheus.CounterVec
	// Transitions counts hub events the checkers generated, by type.
	Transitions *prometheus.CounterVec
	// Notifications counts notification outcomes by channel and outcome.
	Notifications *prometheus.CounterVec

	fieldProblems *prometheus.CounterVec
}

// ingestEndpoints are the routes whose traffic is ingest, by short name.
var ingestEndpoints = map[string]string{
	"POST /api/v1/report":       "report",
	"POST /api/v1/event":        "event",
	"POST /api/v1/host-report":  "host_report",
	"POST /api/v1/infra-backup": "infra_backup",
	"POST /api/v1/preferences":  "preferences",
	"POST /api/v1/notify":       "notify",
}

// New returns the hub's metrics, with Go runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_http_requests_total", Help: "HTTP requests by method, route pattern (without its method) and status code.",
		}, []string{"method", "route", "code"}),
		ingest: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_ingest_requests_total", Help: "Ingest requests by endpoint and result (ok, rejected, error).",
		}, []string{"endpoint", "result"}),
		ingestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hub_ingest_duration_seconds", Help: "Server time of ingest requests.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
		CheckerRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_checker_runs_total", Help: "Staleness checker passes.",
		}, []string{"checker"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_checker_transitions_total", Help: "Dead man's switch transitions by event type.",
		}, []string{"event_type"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_notifications_total", Help: "Notification decisions and deliveries by channel and outcome.",
		}, []string{"channel", "outcome"}),
		fieldProblems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_ingest_field_problems_total",
			Help: "Fields of stored bodies the tolerant reader could not read, by stream and field (list indices as []).",
		}, []string{"stream", "field"}),
	}
	m.Registry.MustRegister(m.requests, m.ingest, m.ingestDuration, m.CheckerRuns, m.Transitions, m.Notifications, m.fieldProblems,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CountFieldProblems counts the field problems of one stored body. The
// field label is the problem's path with list indices written as [], so
// that its values are bounded by the fields the hub reads.
func (m *Metrics) CountFieldProblems(stream string, problems hub.FieldProblems) {
	for _, p := range problems {
		field := indexPattern.ReplaceAllString(p.Path, "[]")
		if field == "" {
			field = "(more)"
		}
		m.fieldProblems.WithLabelValues(stream, field).Inc()
	}
}

// indexPattern matches a list index in a field path.
var indexPattern = regexp.MustCompile(`\[\d+\]`)

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Middleware counts requests by the route pattern the mux matched (never
// the raw path, so ids do not explode the label space) and times ingest.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &httpx.Recorder{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.Status
		if status == 0 {
			status = http.StatusOK
		}
		pattern := r.Pattern // set by the ServeMux on this request
		method, route := splitPattern(pattern, r.Method)
		m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		if endpoint, ok := ingestEndpoints[pattern]; ok {
			m.ingest.WithLabelValues(endpoint, result(status)).Inc()
			m.ingestDuration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		}
	})
}

func result(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status < 500:
		return "rejected"
	}
	return "error"
}

// GaugeFunc is read at every scrape: it returns values by label value (a
// gauge without a label uses the key "").
type GaugeFunc func(ctx context.Context) (map[string]float64, error)

// funcCollector turns a GaugeFunc into a collector.
type funcCollector struct {
	desc    *prometheus.Desc
	labeled bool
	fn      GaugeFunc
}

func (c *funcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *funcCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	values, err := c.fn(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	if !c.labeled {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, values[""])
		return
	}
	for label, v := range values {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, label)
	}
}

// AddLeases registers hub_lease_held by lease name: 1 while this replica
// holds the lease (and runs its job), 0 otherwise, read at scrape time.
func (m *Metrics) AddLeases(held map[string]func() bool) {
	m.AddGauge("hub_lease_held", "1 for each lease this replica holds (it runs that job), 0 for the others.", "lease",
		func(context.Context) (map[string]float64, error) {
			out := map[string]float64{}
			for name, isHeld := range held {
				out[name] = 0
				if isHeld() {
					out[name] = 1
				}
			}
			return out, nil
		})
}

// AddGauge registers a gauge with one label (none when label is "") whose
// values fn reads at scrape time.
func (m *Metrics) AddGauge(name, help, label string, fn GaugeFunc) {
	c := &funcCollector{fn: fn, labeled: label != ""}
	if c.labeled {
		c.desc = prometheus.NewDesc(name, help, []string{label}, nil)
	} else {
		c.desc = prometheus.NewDesc(name, help, nil, nil)
	}
	m.Registry.MustRegister(c)
}
