package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"github.com/felhom/hub/dr"
	"github.com/felhom/hub/store"
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
	// Operators' credentials (SPEC §7.5).
	credReadToken    = "read token"
	credAdminToken   = "admin token"
	credBootstrap    = "api.admin_api_key"
	credExpired      = "expired admin token"
	credRevoked      = "revoked admin token"
	credViewerCookie = "viewer session"
	credAdminCookie  = "admin session"
)

var credentials = []string{credNone, credMalformed, credUnknown, credGlobal, credOwn, credOther,
	credHost, credOtherHost, credWrongPass, credRightPass,
	credReadToken, credAdminToken, credBootstrap, credExpired, credRevoked, credViewerCookie, credAdminCookie}

// operatorCred reports whether cred is an operator's credential: a token
// or a dashboard session.
func operatorCred(cred string) bool {
	switch cred {
	case credReadToken, credAdminToken, credBootstrap, credViewerCookie, credAdminCookie:
		return true
	}
	return false
}

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
	case api.AuthRead, api.AuthCustomerRead:
		switch {
		case cred == credGlobal || operatorCred(cred):
			return ok
		case cred == credOwn && class == api.AuthCustomerRead:
			return ok
		case cred == credOwn || cred == credOther:
			return http.StatusForbidden
		}
	case api.AuthAdmin:
		// The global key is no credential here: 401, like no key.
		switch cred {
		case credAdminToken, credBootstrap, credAdminCookie:
			return ok
		case credReadToken, credViewerCookie:
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
	// pathFor, when set, gives each credential a path of its own (a
	// DELETE that succeeds once).
	pathFor func(cred string) string
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
	// tokenIDs holds a token per credential for the DELETE row.
	tokenIDs map[string]string
	// silenceIDs holds a silence per credential for the DELETE row.
	silenceIDs map[string]string
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
		res := must(h.do(cfgRequest{method: "POST", path: "/api/v1/admin/hosts", key: testAdminKey,
			body: []byte(`{"customer_id":"` + id + `"}`)}), 201)
		var m map[string]string
		_ = json.Unmarshal(res.body, &m)
		out.HostID, out.APIKey = m["host_id"], m["api_key"]
		return out.HostID, out.APIKey
	}
	// A config to delete and a manual customer to configure per credential:
	// each succeeds once.
	for _, cred := range credentials {
		h.createCustomer(`{"customer_id":"del-` + slug(cred) + `"}`)
		must(h.do(cfgRequest{method: "POST", path: "/api/v1/report", key: cfgGlobalKey,
			body: []byte(`{"customer_id":"man-` + slug(cred) + `","controller_url":"https://man.felhom.eu"}`)}), 200)
	}
	checker := &dr.Checker{Store: h.db, Configs: h.api.Configs, Now: h.clock.Now, Logger: logger}
	if _, _, err := checker.Check(context.Background(), ownID); err != nil {
		t.Fatal(err)
	}
	hostID, hostKey := mint(ownID)
	otherHostID, otherHostKey := mint(otherID)
	// A silence per credential for the DELETE row: each ends once.
	silenceIDs := map[string]string{}
	for _, cred := range credentials {
		res := must(h.do(cfgRequest{method: "POST", path: "/api/v1/admin/silences", key: testAdminKey,
			body: []byte(`{"customer_id":"` + ownID + `","ends_at":"2026-11-30T00:00:00Z","reason":"matrix ` + slug(cred) + `"}`)}), 201)
		var created struct{ ID int64 }
		_ = json.Unmarshal(res.body, &created)
		silenceIDs[cred] = strconv.FormatInt(created.ID, 10)
	}

	m := &matrixHub{
		mux: api.Middleware(logger, h.mux), api: h.api, fakeURL: fake.URL,
		secrets: map[string]string{
			credGlobal: cfgGlobalKey, credOwn: ownKey, credOther: otherKey, credUnknown: "no-such-key-0123456789abcdef",
			credHost: hostKey, credOtherHost: otherHostKey, credRightPass: ownPass, credWrongPass: "not-the-password-0123",
		},
	}
	m.secrets["host id"] = hostID
	m.otherHostID = otherHostID
	m.silenceIDs = silenceIDs
	m.addOperatorCredentials(t, h)
	return m
}

// addOperatorCredentials mints the tokens and sessions of the matrix's
// operator credentials, and one token per credential for the DELETE row.
func (m *matrixHub) addOperatorCredentials(t *testing.T, h *configsHub) {
	t.Helper()
	ctx := context.Background()
	now := h.clock.Now()
	mint := func(name string, scopes []string, expires *time.Time) (string, string) {
		tok, plain, err := api.NewAPIToken(name, scopes, expires, "test", now)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return tok.ID, plain
	}
	soon := now.Add(time.Hour)
	_, m.secrets[credReadToken] = mint("reader", []string{"read"}, nil)
	later := now.Add(30 * 24 * time.Hour)
	_, m.secrets[credAdminToken] = mint("deployer", []string{"admin"}, &later)
	_, m.secrets[credExpired] = mint("expiring", []string{"admin", "read"}, &soon)
	revokedID, revoked := mint("revoked", []string{"admin"}, nil)
	if err := h.db.DeleteAPIToken(ctx, revokedID); err != nil {
		t.Fatal(err)
	}
	m.secrets[credRevoked] = revoked
	m.secrets[credBootstrap] = testAdminKey
	m.tokenIDs = map[string]string{}
	for _, cred := range credentials {
		m.tokenIDs[cred], _ = mint("delete-"+slug(cred), []string{"read"}, nil)
	}
	for cred, role := range map[string]hub.Role{credViewerCookie: hub.RoleViewer, credAdminCookie: hub.RoleAdmin} {
		name := string(role) + "-operator"
		if err := h.db.CreateOperator(ctx, &hub.Operator{Name: name, PasswordHash: "$2a$04$unused", Role: role}); err != nil {
			t.Fatal(err)
		}
		token := hub.NewAPIKey()
		if err := h.db.CreateSession(ctx, &hub.Session{TokenHash: hub.HashSecret(token), Operator: name,
			CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		m.secrets[cred] = token
	}
	m.api.Sessions = storeSessions{db: h.db, now: h.clock.Now}
	// The expired token passes its expiry only now, after it was minted.
	h.clock.Add(2 * time.Hour)
}

// storeSessions resolves the matrix's session cookies as the dashboard
// does: a live session of an account.
type storeSessions struct {
	db  *store.DB
	now func() time.Time
}

func (s storeSessions) SessionOperator(r *http.Request) (*hub.Operator, error) {
	c, err := r.Cookie("hub_session")
	if err != nil {
		return nil, hub.Errorf(hub.EUNAUTHORIZED, "no session")
	}
	sess, err := s.db.FindSessionByTokenHash(r.Context(), hub.HashSecret(c.Value))
	if err != nil || sess.Expired(s.now()) {
		return nil, hub.Errorf(hub.EUNAUTHORIZED, "no session")
	}
	return s.db.FindOperator(r.Context(), sess.Operator)
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
		"GET /healthz": {"/healthz", nil, 200, nil},
		"GET /livez":   {"/livez", nil, 200, nil},
		"GET /readyz":  {"/readyz", nil, 200, nil},

		"POST /api/v1/report":                                {"/api/v1/report", fixed(report), 200, nil},
		"GET /api/v1/customers":                              {"/api/v1/customers", nil, 200, nil},
		"GET /api/v1/customers/{id}":                         {own, nil, 200, nil},
		"GET /api/v1/customers/{id}/history":                 {own + "/history?period=7d", nil, 200, nil},
		"GET /api/v1/customers/{id}/events":                  {own + "/events", nil, 200, nil},
		"GET /api/v1/customers/{id}/reports/{report_id}":     {own + "/reports/1", nil, 200, nil},
		"GET /api/v1/customers/{id}/hosts/{host_id}/history": {own + "/hosts/" + m.secrets["host id"] + "/history?period=24h", nil, 200, nil},
		"GET /api/v1/customers/{id}/hosts":                   {own + "/hosts", nil, 200, nil},
		"GET /api/v1/customers/{id}/notifications":           {own + "/notifications", nil, 200, nil},
		"POST /api/v1/event":                                 {"/api/v1/event", fixed(`{"customer_id":"` + ownID + `","event_type":"backup_completed","severity":"info","message":"ok"}`), 201, nil},
		"POST /api/v1/preferences":                           {"/api/v1/preferences", fixed(`{"customer_id":"` + ownID + `","email":"anna@example.hu","enabled_events":["backup_failed"]}`), 200, nil},
		"POST /api/v1/notify":                                {"/api/v1/notify", fixed(`{"customer_id":"` + ownID + `","subject":"Backup failed","message":"restic exited 1","severity":"error"}`), 200, nil},
		"POST /api/v1/host-report":                           {"/api/v1/host-report", fixed(hostReport), 200, nil},
		"POST /api/v1/admin/customers":                       {"/api/v1/admin/customers", func(cred string) string { return `{"customer_id":"matrix-` + slug(cred) + `"}` }, 201, nil},
		"GET /api/v1/admin/customers/{id}":                   {admin + ownID, nil, 200, nil},
		"PATCH /api/v1/admin/customers/{id}":                 {admin + ownID, fixed(`{"display_name":"Kovács család"}`), 200, nil},
		"DELETE /api/v1/admin/customers/{id}":                {"", nil, 200, func(cred string) string { return admin + "del-" + slug(cred) }},
		"POST /api/v1/admin/customers/{id}/block":            {admin + "matrix-blocked/block", nil, 200, nil},
		"POST /api/v1/admin/customers/{id}/unblock":          {admin + "matrix-blocked/unblock", nil, 200, nil},
		"POST /api/v1/admin/customers/{id}/rotate-key":       {admin + "matrix-rotate/rotate-key", nil, 200, nil},
		"POST /api/v1/admin/customers/{id}/create-config": {"", nil, 201, func(cred string) string {
			return admin + "man-" + slug(cred) + "/create-config"
		}},
		"POST /api/v1/admin/customers/{id}/push":                      {admin + ownID + "/push", nil, 200, nil},
		"POST /api/v1/admin/customers/{id}/pull":                      {admin + ownID + "/pull", nil, 200, nil},
		"GET /api/v1/admin/customers/{id}/diff":                       {admin + ownID + "/diff", nil, 200, nil},
		"POST /api/v1/admin/customers/{id}/update":                    {admin + ownID + "/update", fixed(`{"version":"v1.5.0"}`), 200, nil},
		"GET /api/v1/admin/audit":                                     {"/api/v1/admin/audit", nil, 200, nil},
		"POST /api/v1/admin/hosts":                                    {"/api/v1/admin/hosts", fixed(`{"customer_id":"` + ownID + `"}`), 201, nil},
		"POST /api/v1/admin/customers/{id}/rotate-retrieval-password": {admin + "matrix-rotate/rotate-retrieval-password", nil, 200, nil},
		"POST /api/v1/admin/tokens": {"/api/v1/admin/tokens", func(cred string) string {
			return `{"name":"matrix ` + slug(cred) + `","scopes":["read"]}`
		}, 201, nil},
		"GET /api/v1/admin/tokens": {"/api/v1/admin/tokens", nil, 200, nil},
		"DELETE /api/v1/admin/tokens/{token_id}": {"", nil, 200, func(cred string) string {
			return "/api/v1/admin/tokens/" + m.tokenIDs[cred]
		}},
		"POST /api/v1/infra-backup":     {"/api/v1/infra-backup", fixed(infra), 201, nil},
		"GET /api/v1/infra-backup/{id}": {"/api/v1/infra-backup/" + ownID, nil, 200, nil},
		"GET /api/v1/config/{id}":       {"/api/v1/config/" + ownID, nil, 200, nil},
		"GET /api/v1/recovery/{id}":     {"/api/v1/recovery/" + ownID, nil, 200, nil},
		"/api/":                         {"/api/v1/no-such-endpoint", nil, 404, nil},
		"POST /api/v1/admin/silences":   {"/api/v1/admin/silences", fixed(`{"customer_id":"` + ownID + `","ends_at":"2026-11-30T00:00:00Z","reason":"planned work"}`), 201, nil},
		"GET /api/v1/admin/silences":    {"/api/v1/admin/silences?state=active", nil, 200, nil},
		"DELETE /api/v1/admin/silences/{silence_id}": {"", nil, 200, func(cred string) string {
			return "/api/v1/admin/silences/" + m.silenceIDs[cred]
		}},
		// Nothing of the matrix's customer is down: the ack passes auth and
		// finds no open problem.
		"POST /api/v1/admin/customers/{id}/ack":           {admin + ownID + "/ack", fixed(`{"note":"on it"}`), 409, nil},
		"GET /api/v1/events":                              {"/api/v1/events?severity=info", nil, 200, nil},
		"GET /api/v1/recovery/{id}/link":                  {"/api/v1/recovery/" + ownID + "/link?token=" + strings.Repeat("ab", 32), nil, 401, nil},
		"GET /api/v1/dr":                                  {"/api/v1/dr", nil, 200, nil},
		"GET /api/v1/customers/{id}/dr":                   {own + "/dr", nil, 200, nil},
		"POST /api/v1/admin/customers/{id}/recovery-link": {admin + ownID + "/recovery-link", fixed(`{"reason":"matrix","ttl":"1h"}`), 201, nil},
	}
}

// pathOf is the path the matrix calls for cred.
func (row matrixRow) pathOf(cred string) string {
	if row.pathFor != nil {
		return row.pathFor(cred)
	}
	return row.path
}

func slug(s string) string {
	return strings.NewReplacer(" ", "-", "'", "", ".", "-", "_", "-").Replace(s)
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
	case credViewerCookie, credAdminCookie:
		headers = []http.Header{{"Cookie": {"hub_session=" + m.secrets[cred]}}}
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
			for _, a := range m.call(method, row.pathOf(cred), body, cred) {
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
		case strings.HasPrefix(p, "/api/v1/admin/"):
			want = api.AuthAdmin
		case rt.Pattern() == "GET /api/v1/customers" || rt.Pattern() == "GET /api/v1/events" || rt.Pattern() == "GET /api/v1/dr" || strings.HasSuffix(p, "/notifications"):
			want = api.AuthRead
		case rt.Method == "GET" && strings.HasPrefix(p, "/api/v1/customers/{id}"):
			want = api.AuthCustomerRead
		case p == "/api/v1/recovery/{id}/link":
			want = api.AuthRecoveryLink
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
