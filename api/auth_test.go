package api_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestAuthMatrix checks every endpoint of this package against every kind
// of credential.
func TestAuthMatrix(t *testing.T) {
	e := newEnv(t)
	ownKey, _ := e.createCustomer("kovacs-csalad")
	otherKey, _ := e.createCustomer("szabo-kft")
	e.do("POST", "/api/v1/report", globalKey, exampleReport(t)).mustStatus(t, http.StatusOK)

	const (
		none      = "none"
		malformed = "malformed"
		unknown   = "unknown"
		global    = "global"
		own       = "own"
		other     = "other"
	)
	type cell map[string]int
	report := string(exampleReport(t))
	endpoints := []struct {
		method, path string
		body         string
		want         cell
	}{
		{"POST", "/api/v1/report", report, cell{global: 200, own: 200, other: 403}},
		{"GET", "/api/v1/customers", "", cell{global: 200, own: 403, other: 403}},
		{"GET", "/api/v1/customers/kovacs-csalad", "", cell{global: 200, own: 200, other: 403}},
		{"GET", "/api/v1/customers/kovacs-csalad/history", "", cell{global: 200, own: 200, other: 403}},
		{"GET", "/api/v1/customers/kovacs-csalad/reports/1", "", cell{global: 200, own: 200, other: 403}},
		{"POST", "/api/v1/event", `{"customer_id":"kovacs-csalad","event_type":"backup_completed","severity":"info","message":"ok"}`, cell{global: 201, own: 201, other: 403}},
		{"GET", "/api/v1/customers/kovacs-csalad/events", "", cell{global: 200, own: 200, other: 403}},
		{"POST", "/api/v1/preferences", `{"customer_id":"kovacs-csalad","email":"anna@example.hu","enabled_events":["backup_failed"]}`, cell{global: 200, own: 200, other: 403}},
		{"POST", "/api/v1/notify", `{"customer_id":"kovacs-csalad","subject":"Backup failed","message":"restic exited 1","severity":"error"}`, cell{global: 200, own: 200, other: 403}},
		{"GET", "/api/v1/customers/kovacs-csalad/notifications", "", cell{global: 200, own: 403, other: 403}},
		{"GET", "/api/v1/customers/kovacs-csalad/hosts", "", cell{global: 200, own: 200, other: 403}},
		{"POST", "/api/v1/admin/hosts", `{"customer_id":"kovacs-csalad"}`, cell{global: 201, own: 403, other: 403}},
		{"POST", "/api/v1/admin/customers", `{"customer_id":"matrix-%s"}`, cell{global: 201, own: 403, other: 403}},
		{"GET", "/api/v1/admin/customers/kovacs-csalad", "", cell{global: 200, own: 403, other: 403}},
		{"POST", "/api/v1/admin/customers/kovacs-csalad/unblock", "", cell{global: 200, own: 403, other: 403}},
		{"POST", "/api/v1/admin/customers/szabo-kft/block", "", cell{global: 200, own: 403, other: 403}},
		{"DELETE", "/api/v1/admin/customers/matrix-global", "", cell{global: 200, own: 403, other: 403}},
	}
	keys := map[string]string{global: globalKey, own: ownKey, other: otherKey, unknown: "no-such-key-at-all"}
	for _, ep := range endpoints {
		for _, who := range []string{none, malformed, unknown, global, own, other} {
			t.Run(fmt.Sprintf("%s %s as %s", ep.method, ep.path, who), func(t *testing.T) {
				want, ok := ep.want[who]
				if !ok {
					want = http.StatusUnauthorized
				}
				body := ep.body
				if body != "" && ep.path == "/api/v1/admin/customers" {
					body = fmt.Sprintf(body, who)
				}
				req, err := http.NewRequest(ep.method, e.srv.URL+ep.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if body != "" {
					req, _ = http.NewRequest(ep.method, e.srv.URL+ep.path, stringsReader(body))
				}
				switch who {
				case none:
				case malformed:
					req.Header.Set("Authorization", "Basic "+globalKey)
				default:
					req.Header.Set("Authorization", "Bearer "+keys[who])
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("status %d, want %d", resp.StatusCode, want)
				}
				if want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	}
}
