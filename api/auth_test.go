package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/felhom/hub/api"
)

// The credentials every route is tried with.
const (
	credNone      = "no key"
	credMalformed = "malformed header"
	credUnknown   = "unknown key"
	credGlobal    = "global key"
	credOwn       = "own customer key"
	credOther     = "another customer's key"
	credHost      = "own host key"
	credOtherHost = "another customer's host key"
	credWrongPass = "wrong retrieval password"
	credRightPass = "right retrieval password"
)

var credentials = []string{credNone, credMalformed, credUnknown, credGlobal, credOwn, credOther,
	credHost, credOtherHost, credWrongPass, credRightPass}

// expectedStatus is the answer the auth class of a route gives to a
// credential: ok when it may act, 401 when it is no credential for the
// route, 403 when it is one but not for this customer or host.
func expectedStatus(class api.Auth, cred string, ok int) int {
	switch class {
	case api.AuthPublic:
		return ok
	case api.AuthCustomer:
		switch cred {
		case credGlobal, credOwn:
			return ok
		case credOther:
			return http.StatusForbidden
		}
	case api.AuthGlobal:
		switch cred {
		case credGlobal:
			return ok
		case credOwn, credOther:
			return http.StatusForbidden
		}
	case api.AuthHost:
		switch cred {
		case credGlobal, credHost:
			return ok
		case credOtherHost:
			return http.StatusForbidden
		}
	case api.AuthRetrieval:
		if cred == credRightPass {
			return ok
		}
	}
	return http.StatusUnauthorized
}

// matrixRow is how the matrix calls one route: a concrete path, a body per
// credential, and the status of a caller that may act.
type matrixRow struct {
	path string
	body func(cred string) string
	ok   int
}

func fixed(body string) func(string) string { return func(string) string { return body } }

// matrixHub is the hub the matrix runs against: two managed customers,
// each with a host, reporting through a fake controller.
type matrixHub struct {
	mux     http.Handler
	api     *api.Server
	fakeURL string
	secrets map[string]string // credential → the secret it sends
	cells   int               // cells called, for their own retrieval limits
	// otherHostID is the host of credOtherHost.
	otherHostID string
}

const (
	ownID   = "kovacs-csalad"
	otherID = "szabo-kft"
)

func newMatrixHub(t *testing.T) *matrixHub {
	t.Helper()
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/config" {
			io.WriteString(w, "customer:\n  id: "+ownID+"\n")
			return
		}
		io.WriteString(w, `{"status":"ok"}`)
	}))
	t.Cleanup(fake.Close)

	h := newConfigsHub(t)
	h.withFleet(true)
	logger := slog.New(slog.DiscardHandler)
	h.api.Fleet.Logger = logger
	ownKey, ownPass := h.createCustomer(`{"customer_id":"` + ownID + `"}`)
	otherKey, _ := h.createCustomer(`{"customer_id":"` + otherID + `"}`)
	for _, id := range []string{"matrix-delete", "matrix-rotate", "matrix-blocked"} {
		h.createCustomer(`{"customer_id":"` + id + `"}`)
	}
	must := func(res cfgResponse, want int) cfgResponse {
		t.Helper()
		if res.status != want {
			t.Fatalf("setup: %d %s", res.status, res.body)
		}
		return res
	}
	must(h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: ownKey,
		body: []byte(fmt.Sprintf(`{"customer_id":%q,"controller_url":%q,"controller_version":"v1.4.0"}`, ownID, fake.URL))}), 200)
	must(h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: cfgGlobalKey,
		body: []byte(`{"customer_id":"matrix-manual","controller_url":"https://matrix-manual.felhom.eu"}`)}), 200)
	must(h.do(cfgRequest{method: "POST", path: "/api/v1/infra-backup", key: ownKey,
		body: mustJSON(t, exampleInfraBackup(t, ownID))}), 201)
	mint := func(id string) (string, string) {
		var out struct{ HostID, APIKey string }
		res := must(h.do(cfgRequest{method: "POST", path: "/api/v1/admin/hosts", key: cfgGlobalKey,
			body: []byte(`{"customer_id":"` + id + `"}`)}), 201)
		var m map[string]string
		_ = json.Unmarshal(res.body, &m)
		out.HostID, out.APIKey = m["host_id"], m["api_key"]
		return out.HostID, out.APIKey
	}
	hostID, hostKey := mint(ownID)
	otherHostID, otherHostKey := mint(otherID)

	m := &matrixHub{
		mux: api.Middleware(logger, h.mux), api: h.api, fakeURL: fake.URL,
		secrets: map[string]string{
			credGlobal: cfgGlobalKey, credOwn: ownKey, credOther: otherKey, credUnknown: "no-such-key-0123456789abcdef",
			credHost: hostKey, credOtherHost: otherHostKey, credRightPass: ownPass, credWrongPass: "not-the-password-0123",
		},
	}
	m.secrets["host id"] = hostID
	m.otherHostID = otherHostID
	return m
}

// rows holds, for every route of the table, how the matrix calls it. A
// route without a row fails the test: a new endpoint cannot be forgotten.
func (m *matrixHub) rows() map[string]matrixRow {
	report := fmt.Sprintf(`{"customer_id":%q,"health":"ok","controller_url":%q}`, ownID, m.fakeURL)
	hostReport := fmt.Sprintf(`{"host_id":%q,"agent_version":"0.7.0","guests":[]}`, m.secrets["host id"])
	infra := `{"customer_id":"` + ownID + `","created_at":"2026-11-22T03:00:00Z","controller_yaml":"Y3VzdG9tZXI6IHt9Cg==","settings_json":"e30=","disks":[],"bind_mounts":[],"stacks":[],"restic":{"primary_password":"p","cross_drive_password":"q"}}`
	own := "/api/v1/customers/" + ownID
	admin := "/api/v1/admin/customers/"
	return map[string]matrixRow{
		"GET /healthz": {"/healthz", nil, 200},
		"GET /livez":   {"/livez", nil, 200},
		"GET /readyz":  {"/readyz", nil, 200},

		"POST /api/v1/report":                                {"/api/v1/report", fixed(report), 200},
		"GET /api/v1/customers":                              {"/api/v1/customers", nil, 200},
		"GET /api/v1/customers/{id}":                         {own, nil, 200},
		"GET /api/v1/customers/{id}/history":                 {own + "/history?period=7d", nil, 200},
		"GET /api/v1/customers/{id}/events":                  {own + "/events", nil, 200},
		"GET /api/v1/customers/{id}/reports/{report_id}":     {own + "/reports/1", nil, 200},
		"GET /api/v1/customers/{id}/hosts/{host_id}/history": {own + "/hosts/" + m.secrets["host id"] + "/history?period=24h", nil, 200},
		"GET /api/v1/customers/{id}/hosts":                   {own + "/hosts", nil, 200},
		"GET /api/v1/customers/{id}/notifications":           {own + "/notifications", nil, 200},
		"POST /api/v1/event":                                 {"/api/v1/event", fixed(`{"customer_id":"` + ownID + `","event_type":"backup_completed","severity":"info","message":"ok"}`), 201},
		"POST /api/v1/preferences":                           {"/api/v1/preferences", fixed(`{"customer_id":"` + ownID + `","email":"anna@example.hu","enabled_events":["backup_failed"]}`), 200},
		"POST /api/v1/notify":                                {"/api/v1/notify", fixed(`{"customer_id":"` + ownID + `","subject":"Backup failed","message":"restic exited 1","severity":"error"}`), 200},
		"POST /api/v1/host-report":                           {"/api/v1/host-report", fixed(hostReport), 200},
		"POST /api/v1/admin/customers":                       {"/api/v1/admin/customers", func(cred string) string { return `{"customer_id":"matrix-` + slug(cred) + `"}` }, 201},
		"GET /api/v1/admin/customers/{id}":                   {admin + ownID, nil, 200},
		"PATCH /api/v1/admin/customers/{id}":                 {admin + ownID, fixed(`{"display_name":"Kovács család"}`), 200},
		"DELETE /api/v1/admin/customers/{id}":                {admin + "matrix-delete", nil, 200},
		"POST /api/v1/admin/customers/{id}/block":            {admin + "matrix-blocked/block", nil, 200},
		"POST /api/v1/admin/customers/{id}/unblock":          {admin + "matrix-blocked/unblock", nil, 200},
		"POST /api/v1/admin/customers/{id}/rotate-key":       {admin + "matrix-rotate/rotate-key", nil, 200},
		"POST /api/v1/admin/customers/{id}/create-config":    {admin + "matrix-manual/create-config", nil, 201},
		"POST /api/v1/admin/customers/{id}/push":             {admin + ownID + "/push", nil, 200},
		"POST /api/v1/admin/customers/{id}/pull":             {admin + ownID + "/pull", nil, 200},
		"GET /api/v1/admin/customers/{id}/diff":              {admin + ownID + "/diff", nil, 200},
		"POST /api/v1/admin/customers/{id}/update":           {admin + ownID + "/update", fixed(`{"version":"v1.5.0"}`), 200},
		"GET /api/v1/admin/audit":                            {"/api/v1/admin/audit", nil, 200},
		"POST /api/v1/admin/hosts":                           {"/api/v1/admin/hosts", fixed(`{"customer_id":"` + ownID + `"}`), 201},
		"POST /api/v1/infra-backup":                          {"/api/v1/infra-backup", fixed(infra), 201},
		"GET /api/v1/infra-backup/{id}":                      {"/api/v1/infra-backup/" + ownID, nil, 200},
		"GET /api/v1/config/{id}":                            {"/api/v1/config/" + ownID, nil, 200},
		"GET /api/v1/recovery/{id}":                          {"/api/v1/recovery/" + ownID, nil, 200},
		"/api/":                                              {"/api/v1/no-such-endpoint", nil, 404},
	}
}

func slug(s string) string {
	return strings.NewReplacer(" ", "-", "'", "").Replace(s)
}

// answer is a response and the header that earned it.
type answer struct {
	header string
	resp   *http.Response
}

// call sends one request with cred; malformed headers are tried in
// several shapes and must all agree.
func (m *matrixHub) call(method, path, body, cred string) []answer {
	var headers []http.Header
	switch cred {
	case credNone:
		headers = []http.Header{{}}
	case credMalformed:
		for _, v := range []string{"Basic " + cfgGlobalKey, "Bearer", "Bearer ", "Bearer" + cfgGlobalKey, "Token " + m.secrets[credOwn], cfgGlobalKey} {
			headers = append(headers, http.Header{"Authorization": {v}})
		}
	case credWrongPass, credRightPass:
		headers = []http.Header{{"X-Retrieval-Password": {m.secrets[cred]}}}
	default:
		headers = []http.Header{{"Authorization": {"Bearer " + m.secrets[cred]}}}
	}
	// The retrieval limits start afresh for every cell, in keys of its own:
	// TestRetrievalRateLimit covers them, and the matrix tries more
	// failures than they allow.
	m.cells++
	fresh := api.NewRetrievalLimits()
	fresh.PerAddress.Scope = fmt.Sprintf("matrix-%d:%s", m.cells, fresh.PerAddress.Scope)
	fresh.PerCustomer.Scope = fmt.Sprintf("matrix-%d:%s", m.cells, fresh.PerCustomer.Scope)
	*m.api.Retrieval = *fresh
	var out []answer
	for _, h := range headers {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header = h
		req.RemoteAddr = "198.51.100.7:4000"
		w := httptest.NewRecorder()
		m.mux.ServeHTTP(w, req)
		out = append(out, answer{header: fmt.Sprint(h), resp: w.Result()})
	}
	return out
}

// TestAuthMatrix calls every route of the route table with every kind of
// credential and checks the status against the route's auth class.
func TestAuthMatrix(t *testing.T) {
	m := newMatrixHub(t)
	rows := m.rows()
	routes := (&api.Server{}).Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[rt.Pattern()] = true
		row, ok := rows[rt.Pattern()]
		if !ok {
			t.Errorf("route %s has no row in the auth matrix: add one", rt.Pattern())
			continue
		}
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		for _, cred := range credentials {
			want := expectedStatus(rt.Auth, cred, row.ok)
			body := ""
			if row.body != nil {
				body = row.body(cred)
			}
			for _, a := range m.call(method, row.path, body, cred) {
				m.check(t, rt, cred, a, want)
			}
		}
	}
	for pattern := range rows {
		if !seen[pattern] {
			t.Errorf("the auth matrix has a row for %s, which is not in the route table", pattern)
		}
	}
	t.Logf("auth matrix: %d routes × %d credentials", len(routes), len(credentials))
}

func (m *matrixHub) check(t *testing.T, rt api.Route, cred string, a answer, want int) {
	t.Helper()
	resp := a.resp
	raw, _ := io.ReadAll(resp.Body)
	name := fmt.Sprintf("%s (%s) as %s", rt.Pattern(), rt.Auth, cred)
	if cred == credMalformed {
		name += " " + a.header
	}
	if resp.StatusCode != want {
		t.Errorf("%s: status %d, want %d; body %s", name, resp.StatusCode, want, raw)
	}
	if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: 401 without WWW-Authenticate", name)
	}
	if resp.StatusCode >= 400 {
		var e struct{ Error string }
		if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
			t.Errorf("%s: error body is not {\"error\": ...}: %s", name, raw)
		}
		for what, secret := range m.secrets {
			if what != "host id" && bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s: the error body holds the %s", name, what)
			}
		}
	}
}

// TestRouteTableAuthClasses pins the auth classes to SPEC §2.1: only
// /healthz, the probes (/livez, /readyz) and the 404 fallback are public, only config and recovery take
// a retrieval password, every admin route needs the global key, and only
// host reports take host keys.
func TestRouteTableAuthClasses(t *testing.T) {
	for _, rt := range (&api.Server{}).Routes() {
		var want api.Auth
		switch p := rt.Path; {
		case p == "/healthz" || p == "/livez" || p == "/readyz" || p == "/api/":
			want = api.AuthPublic
		case p == "/api/v1/config/{id}" || p == "/api/v1/recovery/{id}":
			want = api.AuthRetrieval
		case strings.HasPrefix(p, "/api/v1/admin/") || rt.Pattern() == "GET /api/v1/customers" ||
			strings.HasSuffix(p, "/notifications"):
			want = api.AuthGlobal
		case p == "/api/v1/host-report":
			want = api.AuthHost
		default:
			want = api.AuthCustomer
		}
		if rt.Auth != want {
			t.Errorf("%s is %s, want %s", rt.Pattern(), rt.Auth, want)
		}
		if rt.Body != (rt.Method == "POST" || rt.Method == "PATCH") && !strings.HasPrefix(rt.Path, "/api/v1/admin/customers/{id}/") {
			t.Errorf("%s: Body = %v", rt.Pattern(), rt.Body)
		}
	}
}
