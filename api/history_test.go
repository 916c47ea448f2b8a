package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestHistoryAcrossTiers posts 40 days of reports (every 6 hours, cpu =
// the day number) for a customer and its host, rolls them up, and reads
// the history back over periods on each side of the tier boundaries.
func TestHistoryAcrossTiers(t *testing.T) {
	e := newEnv(t)
	key, _ := e.createCustomer("kovacs-csalad")
	e.createCustomer("szabo-kft")
	r := e.do("POST", "/api/v1/admin/hosts", testAdminKey, map[string]string{"customer_id": "kovacs-csalad"}).mustStatus(t, http.StatusCreated)
	hostID := r.json["host_id"].(string)
	r = e.do("POST", "/api/v1/admin/hosts", testAdminKey, map[string]string{"customer_id": "szabo-kft"}).mustStatus(t, http.StatusCreated)
	otherHost := r.json["host_id"].(string)

	// From midnight UTC 40 days ago: day d is one daily bucket.
	e.clock.Add(-40*24*time.Hour - 9*time.Hour - 45*time.Minute)
	for day := range 40 {
		for range 4 {
			e.do("POST", "/api/v1/report", key, fmt.Sprintf(`{"customer_id":"kovacs-csalad","system":{"cpu_percent":%d}}`, day)).
				mustStatus(t, http.StatusOK)
			e.do("POST", "/api/v1/host-report", globalKey, fmt.Sprintf(`{"host_id":%q,"host":{"cpu_percent":%d}}`, hostID, day)).
				mustStatus(t, http.StatusOK)
			e.clock.Add(6 * time.Hour)
		}
	}
	for {
		n, err := e.db.RollUpHistory(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}

	keysOf := func(p any) string {
		var keys []string
		for k := range p.(map[string]any) {
			if k != "report_id" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		return strings.Join(keys, ",")
	}
	var shape string
	for _, tc := range []struct {
		path       string
		resolution string
		points     int
		samples    float64 // of the first point
	}{
		{"/api/v1/customers/kovacs-csalad/history", "raw", 4, 1},
		{"/api/v1/customers/kovacs-csalad/history?period=7d", "raw", 28, 1},
		{"/api/v1/customers/kovacs-csalad/history?period=8d", "hourly", 32, 1},
		{"/api/v1/customers/kovacs-csalad/history?period=30d", "hourly", 120, 1},
		{"/api/v1/customers/kovacs-csalad/history?period=31d", "daily", 31, 4},
		{"/api/v1/customers/kovacs-csalad/history?period=90d", "daily", 40, 4},
		{"/api/v1/customers/kovacs-csalad/hosts/" + hostID + "/history?period=7d", "raw", 28, 1},
		{"/api/v1/customers/kovacs-csalad/hosts/" + hostID + "/history?period=90d", "daily", 40, 4},
	} {
		h := e.do("GET", tc.path, key, nil).mustStatus(t, http.StatusOK)
		points, _ := h.json["points"].([]any)
		if h.json["resolution"] != tc.resolution || len(points) != tc.points {
			t.Errorf("%s: %v with %d points, want %s with %d", tc.path, h.json["resolution"], len(points), tc.resolution, tc.points)
			continue
		}
		first := points[0].(map[string]any)
		if first["samples"] != tc.samples {
			t.Errorf("%s: first point %v, want %v samples", tc.path, first, tc.samples)
		}
		if shape == "" {
			shape = keysOf(first)
		} else if got := keysOf(first); got != shape {
			t.Errorf("%s: point fields %s, want %s as at every resolution", tc.path, got, shape)
		}
	}
	// The 90-day daily points of the customer: day d averages d.
	h := e.do("GET", "/api/v1/customers/kovacs-csalad/history?period=90d", key, nil).mustStatus(t, http.StatusOK)
	last := h.json["points"].([]any)[39].(map[string]any)
	if last["cpu_avg"] != 39.0 || last["cpu_max"] != 39.0 {
		t.Errorf("last daily point %v", last)
	}

	for _, tc := range []struct {
		path   string
		key    string
		status int
		error  string
	}{
		{"/api/v1/customers/kovacs-csalad/hosts/" + otherHost + "/history", key, http.StatusNotFound, "has no host"},
		{"/api/v1/customers/kovacs-csalad/hosts/" + otherHost + "/history", globalKey, http.StatusNotFound, "has no host"},
		{"/api/v1/customers/kovacs-csalad/hosts/NOT_A_HOST/history", key, http.StatusBadRequest, "host_id"},
		{"/api/v1/customers/kovacs-csalad/hosts/" + hostID + "/history?period=2w", key, http.StatusBadRequest, "period"},
		{"/api/v1/customers/szabo-kft/hosts/" + otherHost + "/history", key, http.StatusForbidden, ""},
	} {
		r := e.do("GET", tc.path, tc.key, nil).mustStatus(t, tc.status)
		if tc.error != "" {
			r.errorContains(t, tc.error)
		}
	}
}

func TestArchivedReportGet(t *testing.T) {
	e := newEnv(t)
	key, _ := e.createCustomer("kovacs-csalad")
	otherKey, _ := e.createCustomer("szabo-kft")
	body := string(exampleReport(t))
	e.do("POST", "/api/v1/report", key, body).mustStatus(t, http.StatusOK)
	latest := e.do("GET", "/api/v1/customers/kovacs-csalad/history", key, nil).mustStatus(t, http.StatusOK)
	id := int64(latest.json["points"].([]any)[0].(map[string]any)["report_id"].(float64))
	e.clock.Add(2 * time.Hour)
	e.do("POST", "/api/v1/report", key, body).mustStatus(t, http.StatusOK)
	// Compacted into a delta, the report still reads back as received.
	if _, err := e.db.CompactHistory(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", fmt.Sprintf("/api/v1/customers/kovacs-csalad/reports/%d", id), key, nil).mustStatus(t, http.StatusOK)
	if r.json["report_id"] != float64(id) || r.json["customer_id"] != "kovacs-csalad" || r.json["received_at"] != epoch.Format(time.RFC3339) {
		t.Errorf("archived report meta %v", r.json)
	}
	report := r.json["report"].(map[string]any)
	if report["apps_extra"] == nil || report["controller_version"] != "v1.4.2" {
		t.Errorf("archived report body %v", report)
	}
	e.do("GET", fmt.Sprintf("/api/v1/customers/szabo-kft/reports/%d", id), otherKey, nil).mustStatus(t, http.StatusNotFound)
	e.do("GET", fmt.Sprintf("/api/v1/customers/kovacs-csalad/reports/%d", id), otherKey, nil).mustStatus(t, http.StatusForbidden)
	for _, bad := range []string{"abc", "0", "-4", "99999999999999999999"} {
		e.do("GET", "/api/v1/customers/kovacs-csalad/reports/"+bad, key, nil).mustStatus(t, http.StatusBadRequest).errorContains(t, "report id")
	}
}
