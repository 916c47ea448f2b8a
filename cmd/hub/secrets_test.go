package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/felhom/hub/configgen"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/bcrypt"
)

// secretScan is a scenario's record: the secrets it handled and every
// error body the hub answered.
type secretScan struct {
	t       *testing.T
	base    string
	secrets map[string]string // name → value
	mu      sync.Mutex
	errors  []string // "METHOD path status: body"
	calls   int
}

func (s *secretScan) add(name, value string) {
	s.t.Helper()
	if len(value) < 8 {
		s.t.Fatalf("secret %s is too short to scan for: %q", name, value)
	}
	s.secrets[name] = value
}

// do sends a request and records the answer when it is an error.
func (s *secretScan) do(method, path string, header http.Header, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	s.mu.Lock()
	s.calls++
	if resp.StatusCode >= 400 {
		s.errors = append(s.errors, fmt.Sprintf("%s %s %d: %s", method, path, resp.StatusCode, raw))
	}
	s.mu.Unlock()
	return resp.StatusCode, raw
}

func bearer(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }

// must checks a status and decodes the JSON answer into out (when set).
func (s *secretScan) must(want int, out any, method, path string, header http.Header, body any) {
	s.t.Helper()
	status, raw := s.do(method, path, header, body)
	if status != want {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// echoServer answers every request with status and a body that repeats
// the request's Authorization header and body, as a hostile or careless
// service might.
func echoServer(t *testing.T, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{
			"name":    "echo",
			"error":   "refused " + r.Header.Get("Authorization") + " " + string(body),
			"message": "refused " + r.Header.Get("Authorization") + " " + string(body),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoSecretLeaks runs a whole scenario on the real binary with
// secrets.key set: customers, hosts, reports, events, mails, disaster
// recovery, retrieval, controller steering (one controller hostile, echoing
// what it is sent), key rotation and the dashboard login; the mail provider
// echoes its key in its errors too. Then it scans the database files (raw,
// and every value decompressed), the hub's log and every error body for
// any API key, retrieval password, restic password, token or password.
func TestNoSecretLeaks(t *testing.T) {
	bin := buildHub(t)
	dataDir := t.TempDir()
	s := &secretScan{t: t, secrets: map[string]string{}}
	const password = "dashboard-password-SENTINEL"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	secretsKey := base64.StdEncoding.EncodeToString([]byte("secrets-key-SENTINEL-0123456789a"))
	s.add("dashboard password", password)
	s.add("secrets.key", secretsKey)
	s.add("global key", "global-key-SENTINEL-0123456789")
	s.add("resend key", "re_resend_key_SENTINEL")
	s.add("template token", "template-token-SENTINEL")

	// The mail provider refuses and echoes its Bearer key; the template
	// host does too; one controller is well behaved, one hostile.
	resend := echoServer(t, http.StatusUnprocessableEntity)
	templateHost := echoServer(t, http.StatusInternalServerError)
	hostile := echoServer(t, http.StatusInternalServerError)
	var liveMu sync.Mutex
	live := []byte(configgen.DefaultTemplate)
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		liveMu.Lock()
		defer liveMu.Unlock()
		switch r.URL.Path {
		case "/api/config":
			w.Write(live)
		case "/api/config/apply":
			live, _ = io.ReadAll(r.Body)
			io.WriteString(w, `{"status":"applied"}`)
		default:
			io.WriteString(w, `{"status":"updating"}`)
		}
	}))
	defer good.Close()

	env := hubEnv{
		"HUB_SERVER_LISTEN":                        freeAddr(t),
		"HUB_SERVER_DATA_DIR":                      dataDir,
		"HUB_API_REPORT_API_KEY":                   s.secrets["global key"],
		"HUB_API_ADMIN_API_KEY":                    testAdminKey,
		"HUB_SECRETS_KEY":                          secretsKey,
		"HUB_AUTH_PASSWORD_HASH":                   string(hash),
		"HUB_NOTIFICATIONS_PROVIDER":               "resend",
		"HUB_NOTIFICATIONS_RESEND_API_KEY":         s.secrets["resend key"],
		"HUB_NOTIFICATIONS_RESEND_BASE_URL":        resend.URL,
		"HUB_NOTIFICATIONS_OPERATOR_EMAIL":         "ops@felhom.eu",
		"HUB_NOTIFICATIONS_OPERATOR_COOLDOWN":      "0s",
		"HUB_NOTIFICATIONS_CUSTOMER_DIGEST_WINDOW": "0s", // every mail tried now, none held for a digest
		"HUB_REGISTRY_TEMPLATE_URL":                templateHost.URL,
		"HUB_REGISTRY_TEMPLATE_TOKEN":              s.secrets["template token"],
		"HUB_CONTROLLERS_ALLOW_INSECURE":           "true",
		"HUB_LOG_LEVEL":                            "debug",
	}
	logs := &syncBuffer{}
	proc := startHub(t, bin, env, logs)
	s.base = "http://" + proc.addr
	global := bearer(s.secrets["global key"])
	admin := bearer(testAdminKey)

	// Customers, with every secret a config holds.
	type credentials struct {
		APIKey            string `json:"api_key"`
		RetrievalPassword string `json:"retrieval_password"`
	}
	var a, b credentials
	s.add("tunnel token A", "cf-tunnel-token-SENTINEL-A")
	s.add("overrides password", "smtp-password-SENTINEL")
	s.must(201, &a, "POST", "/api/v1/admin/customers", admin, map[string]any{
		"customer_id": "kovacs-csalad", "display_name": "Kovács család", "domain": "kovacs-csalad.felhom.eu",
		"cloudflare_tunnel_token": s.secrets["tunnel token A"],
		"overrides_yaml":          "smtp:\n  password: " + s.secrets["overrides password"] + "\n",
	})
	s.add("overrides token B", "overrides-token-SENTINEL-B")
	s.must(201, &b, "POST", "/api/v1/admin/customers", admin, map[string]any{"customer_id": "szabo-kft",
		"overrides_yaml": "hub:\n  report_interval: 15m\nextra:\n  token: " + s.secrets["overrides token B"] + "\n"})
	s.add("customer key A", a.APIKey)
	s.add("retrieval password A", a.RetrievalPassword)
	s.add("customer key B", b.APIKey)
	s.add("retrieval password B", b.RetrievalPassword)
	var cfgA struct {
		SessionSecret string `json:"session_secret"`
	}
	s.must(200, &cfgA, "GET", "/api/v1/admin/customers/kovacs-csalad", admin, nil)
	if cfgA.SessionSecret != "" {
		s.add("session secret A", cfgA.SessionSecret)
	}
	var host struct {
		HostID string `json:"host_id"`
		APIKey string `json:"api_key"`
	}
	s.must(201, &host, "POST", "/api/v1/admin/hosts", admin, map[string]any{"customer_id": "kovacs-csalad"})
	s.add("host key", host.APIKey)

	// What nodes send.
	keyA, keyB := bearer(a.APIKey), bearer(b.APIKey)
	// The marker is no secret: it must be found, compressed as it is
	// stored, or the scan is blind.
	const marker = "report-marker-CONTROL"
	s.must(200, nil, "POST", "/api/v1/report", keyA, map[string]any{"customer_id": "kovacs-csalad", "controller_url": good.URL, "health": "warn", "note": marker})
	s.must(200, nil, "POST", "/api/v1/report", keyB, map[string]any{"customer_id": "szabo-kft", "controller_url": hostile.URL})
	s.must(200, nil, "POST", "/api/v1/host-report", bearer(host.APIKey), map[string]any{"host_id": host.HostID, "guests": []any{}})
	s.must(200, nil, "POST", "/api/v1/preferences", keyA, map[string]any{
		"customer_id": "kovacs-csalad", "email": "anna@example.hu", "enabled_events": []string{"backup_failed"}})
	s.must(201, nil, "POST", "/api/v1/event", keyA, map[string]any{
		"customer_id": "kovacs-csalad", "event_type": "backup_failed", "severity": "error", "message": "restic exited 1"})
	s.must(200, nil, "POST", "/api/v1/notify", keyA, map[string]any{
		"customer_id": "kovacs-csalad", "subject": "Disk", "message": "almost full", "severity": "warning"})
	s.add("restic primary", "restic-primary-SENTINEL")
	s.add("restic cross", "restic-cross-drive-SENTINEL")
	s.add("controller.yaml token", "yaml-token-SENTINEL")
	s.must(201, nil, "POST", "/api/v1/infra-backup", keyA, map[string]any{
		"customer_id": "kovacs-csalad", "created_at": "2026-11-22T03:00:00Z",
		"controller_yaml": base64.StdEncoding.EncodeToString([]byte("cloudflare:\n  tunnel_token: " + s.secrets["controller.yaml token"] + "\n")),
		"settings_json":   base64.StdEncoding.EncodeToString([]byte(`{"backup":{"hour":2}}`)),
		"disks":           []any{}, "bind_mounts": []any{}, "stacks": []any{},
		"restic": map[string]string{"primary_password": s.secrets["restic primary"], "cross_drive_password": s.secrets["restic cross"]},
	})

	// Disaster recovery and its failures.
	s.must(200, nil, "GET", "/api/v1/config/kovacs-csalad", http.Header{"X-Retrieval-Password": {a.RetrievalPassword}}, nil)
	s.must(200, nil, "GET", "/api/v1/recovery/kovacs-csalad", http.Header{"X-Retrieval-Password": {a.RetrievalPassword}}, nil)
	s.must(200, nil, "GET", "/api/v1/infra-backup/kovacs-csalad", keyA, nil)
	s.must(401, nil, "GET", "/api/v1/recovery/szabo-kft", http.Header{"X-Retrieval-Password": {a.RetrievalPassword}}, nil)
	for range 12 { // into the rate limit
		s.do("GET", "/api/v1/config/kovacs-csalad", http.Header{"X-Retrieval-Password": {"wrong-" + a.RetrievalPassword}}, nil)
	}

	// Keys in the wrong places.
	s.must(403, nil, "POST", "/api/v1/report", keyB, map[string]any{"customer_id": "kovacs-csalad"})
	s.must(401, nil, "POST", "/api/v1/host-report", keyA, map[string]any{"host_id": host.HostID})
	s.must(401, nil, "GET", "/api/v1/admin/customers/kovacs-csalad", keyA, nil)
	s.must(401, nil, "GET", "/api/v1/admin/customers/kovacs-csalad", global, nil) // a manual node's key
	s.must(401, nil, "GET", "/api/v1/customers/kovacs-csalad", bearer(a.APIKey+"x"), nil)
	s.must(401, nil, "GET", "/api/v1/customers/kovacs-csalad", http.Header{"Authorization": {"Basic " + a.APIKey}}, nil)
	// The tolerant reader stores a body whatever its fields hold (a node
	// that puts a secret in a field has it stored as sent), so these are
	// bodies it must refuse: a bad identity, a forged hub event, malformed
	// JSON, each with a secret that the answer must not echo.
	s.must(400, nil, "POST", "/api/v1/report", keyA, `{"customer_id":"`+a.APIKey+`","health":"ok"}`)
	s.must(400, nil, "POST", "/api/v1/event", keyA, `{"customer_id":"kovacs-csalad","event_type":"node_down","severity":"`+a.RetrievalPassword+`","message":"x"}`)
	s.must(400, nil, "POST", "/api/v1/infra-backup", keyA, `{"customer_id":"kovacs-csalad","controller_yaml":"`+s.secrets["restic primary"]+`"`)
	s.must(400, nil, "POST", "/api/v1/admin/customers", admin, `{"customer_id":"x-`+a.APIKey[:20]+`","cloudflare_tunnel_token":5}`)

	// Steering: the good controller takes everything, the hostile one
	// echoes the key and the config it is sent.
	for _, action := range []struct{ method, path string }{
		{"POST", "push"}, {"POST", "pull"}, {"GET", "diff"}, {"POST", "update"},
	} {
		body := any(nil)
		if action.path == "update" {
			body = map[string]string{"version": "v1.5.0"}
		}
		s.must(200, nil, action.method, "/api/v1/admin/customers/kovacs-csalad/"+action.path, admin, body)
		s.do(action.method, "/api/v1/admin/customers/szabo-kft/"+action.path, admin, body)
	}
	s.must(200, nil, "GET", "/api/v1/admin/audit", admin, nil)

	// Rotation: the old key works through its grace until the node first
	// uses the new one, then no more.
	var rotated struct {
		APIKey string `json:"api_key"`
	}
	s.must(200, &rotated, "POST", "/api/v1/admin/customers/kovacs-csalad/rotate-key", admin, nil)
	s.add("rotated key A", rotated.APIKey)
	s.must(200, nil, "POST", "/api/v1/report", keyA, map[string]any{"customer_id": "kovacs-csalad"})
	s.must(200, nil, "POST", "/api/v1/report", bearer(rotated.APIKey), map[string]any{"customer_id": "kovacs-csalad"})
	s.must(401, nil, "POST", "/api/v1/report", keyA, map[string]any{"customer_id": "kovacs-csalad"})
	s.add("tunnel token A2", "cf-tunnel-token-SENTINEL-A2")
	s.must(200, nil, "PATCH", "/api/v1/admin/customers/kovacs-csalad", admin, map[string]any{"cloudflare_tunnel_token": s.secrets["tunnel token A2"]})

	// The dashboard: a failed and a good login, then logout.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(s.base+"/login", url.Values{"password": {"wrong-" + password}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.errors = append(s.errors, fmt.Sprintf("POST /login %d: %s", resp.StatusCode, page))
	resp, err = browser.PostForm(s.base+"/login", url.Values{"password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "hub_session" {
			s.add("session token", c.Value)
		}
	}
	if s.secrets["session token"] == "" {
		t.Fatalf("no session after login: %d", resp.StatusCode)
	}
	for _, page := range []string{"/", "/configs", "/customers/kovacs-csalad", "/customers/szabo-kft"} {
		resp, err := browser.Get(s.base + page)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest("POST", s.base+"/logout", nil)
	req.Header.Set("Origin", s.base)
	if resp, err := browser.Do(req); err == nil {
		resp.Body.Close()
	}

	// Let the mails be tried, then stop the hub.
	db := openDB(t, dataDir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var pending int
		if err := db.QueryRow(`SELECT count(*) FROM notification_outbox WHERE state = 'pending'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still pending", pending)
		}
		time.Sleep(50 * time.Millisecond) // polling the hub's progress, bounded by the deadline
	}
	if err := proc.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit: %v", err)
	}

	// The scan.
	haystacks := map[string][]byte{"the log": []byte(logs.String())}
	for _, name := range []string{"hub.db", "hub.db-wal", "hub.db-shm"} {
		if raw, err := os.ReadFile(filepath.Join(dataDir, name)); err == nil {
			haystacks["the file "+name] = raw
		}
	}
	haystacks["the database's values"] = databaseValues(t, db)
	if !bytes.Contains(haystacks["the database's values"], []byte(marker)) {
		t.Error("control: the report's marker is not among the database's values: the scan cannot see into bodies")
	}
	if !strings.Contains(logs.String(), "kovacs-csalad") {
		t.Error("control: the log does not name the customer: is it the hub's log?")
	}
	for i, e := range s.errors {
		haystacks[fmt.Sprintf("error body %d (%s)", i, strings.SplitN(e, ":", 2)[0])] = []byte(e)
	}
	leaks := 0
	for where, hay := range haystacks {
		for name, secret := range s.secrets {
			for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
				if bytes.Contains(hay, []byte(form)) {
					leaks++
					t.Errorf("%s holds the %s", where, name)
					break
				}
			}
		}
	}
	t.Logf("secret scan: %d secrets × %d places (%d error bodies of %d calls, %d bytes of log, database files and every value decompressed): %d leaks",
		len(s.secrets), len(haystacks), len(s.errors), s.calls, len(logs.String()), leaks)
}

// databaseValues returns every text and blob value of every table, with
// compressed bodies decompressed, so that a secret cannot hide in one.
func databaseValues(t *testing.T, db *sql.DB) []byte {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	var out bytes.Buffer
	for _, table := range names {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				var raw []byte
				switch v := v.(type) {
				case []byte:
					raw = v
				case string:
					raw = []byte(v)
				default:
					continue
				}
				if bytes.HasPrefix(raw, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
					if plain, err := dec.DecodeAll(raw, nil); err == nil {
						raw = plain
					}
				}
				out.Write(raw)
				out.WriteByte('\n')
			}
		}
		rows.Close()
	}
	return out.Bytes()
}
