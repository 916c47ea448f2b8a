package main

import (
	"bytes"
	"net/http"
	"os"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value returns the value of the family's series with the given labels.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		match := true
		for _, l := range m.Label {
			if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func TestMetricsMove(t *testing.T) {
	m := MustRunMain(t, nil)
	base := "http://" + m.Addr()
	before := scrape(t, base)
	okReports := map[string]string{"endpoint": "report", "result": "ok"}
	if v := value(before, "hub_ingest_requests_total", okReports); v > 0 {
		t.Fatalf("ingest counter starts at %v", v)
	}
	for _, name := range []string{"hub_customers", "hub_hosts", "hub_db_size_bytes", "hub_checker_runs_total", "go_goroutines"} {
		if before[name] == nil {
			t.Errorf("%s is missing", name)
		}
	}

	report, _ := os.ReadFile("../../testdata/controller-report.json")
	post := func(body []byte) {
		req, _ := http.NewRequest("POST", base+"/api/v1/report", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.GlobalKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(report)
	post(report)
	post([]byte(`{"customer_id":`))

	after := scrape(t, base)
	if v := value(after, "hub_ingest_requests_total", okReports); v != 2 {
		t.Errorf("ok reports = %v, want 2", v)
	}
	if v := value(after, "hub_ingest_requests_total", map[string]string{"endpoint": "report", "result": "rejected"}); v != 1 {
		t.Errorf("rejected reports = %v, want 1", v)
	}
	if v := value(after, "hub_ingest_duration_seconds", map[string]string{"endpoint": "report"}); v != 3 {
		t.Errorf("latency samples = %v, want 3", v)
	}
	if v := value(after, "hub_customers", map[string]string{"status": "WARN"}); v != 1 {
		t.Errorf("WARN customers = %v, want 1 (the example report says health warn)", v)
	}
	if v := value(after, "hub_db_size_bytes", nil); v <= 0 {
		t.Errorf("db size = %v", v)
	}
	if v := value(after, "hub_http_requests_total", map[string]string{"method": "POST", "route": "/api/v1/report", "code": "200"}); v != 2 {
		t.Errorf("requests by route = %v, want 2", v)
	}
}
