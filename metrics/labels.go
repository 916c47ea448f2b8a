package metrics

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// splitPattern turns a ServeMux pattern into the method and route labels:
// "POST /api/v1/report" is POST and /api/v1/report. A pattern without a
// method takes the request's, when it is a standard one (anything else is
// OTHER: a client may send any word as a method, and a label must stay
// bounded); no pattern at all is route "unmatched".
func splitPattern(pattern, requestMethod string) (method, route string) {
	if m, r, ok := strings.Cut(pattern, " "); ok {
		return m, r
	}
	switch requestMethod {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		method = requestMethod
	default:
		method = "OTHER"
	}
	if pattern == "" {
		return method, "unmatched"
	}
	return method, pattern
}

// SetBuildInfo exports hub_build_info{version,commit,go} 1, the usual way
// to put a binary's version beside its other series.
func (m *Metrics) SetBuildInfo(version, commit, goVersion string) {
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "hub_build_info",
		Help:        "The hub binary's version, commit and Go version; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "go": goVersion},
	})
	info.Set(1)
	m.Registry.MustRegister(info)
}
