package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

func TestSplitPattern(t *testing.T) {
	for _, tt := range []struct {
		pattern, reqMethod, method, route string
	}{
		{"POST /api/v1/report", "POST", "POST", "/api/v1/report"},
		{"GET /api/v1/customers/{id}", "GET", "GET", "/api/v1/customers/{id}"},
		{"/", "GET", "GET", "/"},
		{"/", "DELETE", "DELETE", "/"},
		{"/", "BREW", "OTHER", "/"},
		{"", "GET", "GET", "unmatched"},
		{"", strings.Repeat("X", 100), "OTHER", "unmatched"},
	} {
		method, route := splitPattern(tt.pattern, tt.reqMethod)
		if method != tt.method || route != tt.route {
			t.Errorf("splitPattern(%q, %q) = %q %q, want %q %q", tt.pattern, tt.reqMethod, method, route, tt.method, tt.route)
		}
	}
}

// Requests are counted by method and route apart; ingest still by its
// endpoint; build info is one series.
func TestRequestLabelsAndBuildInfo(t *testing.T) {
	m := New()
	m.SetBuildInfo("1.2.3", "abc123", "go1.26")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/report", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	h := m.Middleware(mux)
	for _, r := range []*http.Request{
		httptest.NewRequest("POST", "/api/v1/report", nil),
		httptest.NewRequest("POST", "/api/v1/report", nil),
		httptest.NewRequest("PROPFIND", "/x", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	for _, f := range families {
		for _, s := range f.Metric {
			series[f.GetName()+labelString(s)] = s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	for name, want := range map[string]float64{
		`hub_http_requests_total{code="200",method="POST",route="/api/v1/report"}`: 2,
		`hub_http_requests_total{code="404",method="OTHER",route="/"}`:             1,
		`hub_ingest_requests_total{endpoint="report",result="ok"}`:                 2,
		`hub_build_info{commit="abc123",go="go1.26",version="1.2.3"}`:              1,
	} {
		if got, ok := series[name]; !ok || got != want {
			t.Errorf("%s = %v (exported: %v), want %v", name, got, ok, want)
		}
	}
}

// labelString writes a series' labels as Prometheus does, sorted by name.
func labelString(m *dto.Metric) string {
	var parts []string
	for _, l := range m.Label { // sorted by name already
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}
