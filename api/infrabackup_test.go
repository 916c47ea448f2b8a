package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

func TestInfraBackupCreateValidation(t *testing.T) {
	h := newConfigsHub(t)
	key, _ := h.createCustomer(`{"customer_id":"kovacs-csalad","domain":"kovacs-csalad.felhom.eu"}`)
	otherKey, _ := h.createCustomer(`{"customer_id":"other"}`)
	const secret = "example-only-not-a-real-secret-1"

	set := func(path string, v any) func(m map[string]any) {
		return func(m map[string]any) {
			parts := strings.Split(path, ".")
			cur := m
			for _, p := range parts[:len(parts)-1] {
				cur = cur[p].(map[string]any)
			}
			if v == nil {
				delete(cur, parts[len(parts)-1])
			} else {
				cur[parts[len(parts)-1]] = v
			}
		}
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name       string
		mutate     func(m map[string]any)
		raw        []byte // instead of the example
		key        string
		wantStatus int
		wantErr    string
	}{
		{"missing customer_id", set("customer_id", nil), nil, cfgGlobalKey, 400, "customer_id is required"},
		{"bad customer_id", set("customer_id", "Kovács"), nil, cfgGlobalKey, 400, "customer_id must be"},
		{"unknown customer", set("customer_id", "nobody"), nil, cfgGlobalKey, 400, "customer nobody is unknown"},
		{"missing created_at", set("created_at", nil), nil, cfgGlobalKey, 201, `"created_at","reason":"missing`},
		{"bad created_at", set("created_at", "yesterday"), nil, cfgGlobalKey, 201, `"path":"created_at"`},
		{"created_at not a string", set("created_at", 17), nil, cfgGlobalKey, 201, `"path":"created_at"`},
		{"missing controller_yaml", set("controller_yaml", nil), nil, cfgGlobalKey, 201, `"path":"controller_yaml","reason":"missing`},
		{"controller_yaml not base64", set("controller_yaml", "%%%not base64"), nil, cfgGlobalKey, 201, `not valid base64`},
		{"controller_yaml not yaml", set("controller_yaml", b64("a: [1\n")), nil, cfgGlobalKey, 201, `does not decode to a YAML mapping`},
		{"controller_yaml a list", set("controller_yaml", b64("- 1\n")), nil, cfgGlobalKey, 201, `does not decode to a YAML mapping`},
		{"controller_yaml binary", set("controller_yaml", b64("\xff\xfe")), nil, cfgGlobalKey, 201, `does not decode to a YAML mapping`},
		{"settings_json not base64", set("settings_json", "!!"), nil, cfgGlobalKey, 201, `"path":"settings_json","reason":"not valid base64`},
		{"settings_json not json", set("settings_json", b64("{nope")), nil, cfgGlobalKey, 201, `does not decode to JSON`},
		{"disks not a list", set("disks", map[string]any{}), nil, cfgGlobalKey, 201, `"path":"disks","reason":"expected an array`},
		{"disk without uuid", set("disks", []any{map[string]any{"mount_point": "/mnt/x"}}), nil, cfgGlobalKey, 201, `disks[0].uuid`},
		{"disk relative mount", set("disks", []any{map[string]any{"uuid": "u", "mount_point": "mnt"}}), nil, cfgGlobalKey, 201, `disks[0].mount_point`},
		{"bind mount without target", set("bind_mounts", []any{map[string]any{"source": "/a"}}), nil, cfgGlobalKey, 201, `bind_mounts[0].target`},
		{"stack without app", set("stacks", []any{map[string]any{"hdd_path": "/a"}}), nil, cfgGlobalKey, 201, `stacks[0].app`},
		{"stack field wrong type", set("stacks", []any{map[string]any{"app": 1}}), nil, cfgGlobalKey, 201, `expected a string`},
		{"missing restic", set("restic", nil), nil, cfgGlobalKey, 201, `"path":"restic","reason":"missing`},
		{"restic not an object", set("restic", "pw"), nil, cfgGlobalKey, 201, `"path":"restic","reason":"expected an object`},
		{"restic without primary", set("restic.primary_password", nil), nil, cfgGlobalKey, 201, `restic.primary_password`},
		{"not an object", nil, []byte(`["x"]`), cfgGlobalKey, 400, "must be a JSON object"},
		{"empty body", nil, []byte(``), cfgGlobalKey, 400, "request body is empty"},
		{"malformed", nil, []byte(`{"customer_id":`), cfgGlobalKey, 400, "malformed JSON"},
		{"too large", nil, append([]byte(`{"customer_id":"kovacs-csalad","x":"`), bytes.Repeat([]byte("a"), 4<<20)...), cfgGlobalKey, 413, "larger than 4 MiB"},
		{"no key", nil, nil, "", 401, "missing Authorization"},
		{"wrong key", nil, nil, "not-a-key", 401, "unknown API key"},
		{"another customer's key", nil, nil, otherKey, 403, "may not act for customer kovacs-csalad"},
	}
	stored := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.raw
			if body == nil {
				m := exampleInfraBackup(t, "kovacs-csalad")
				if tt.mutate != nil {
					tt.mutate(m)
				}
				body = mustJSON(t, m)
			}
			res := h.do(cfgRequest{method: "POST", path: "/api/v1/infra-backup", key: tt.key, body: body})
			text := res.errorText()
			if res.status == http.StatusCreated {
				text = string(res.body)
			}
			if res.status != tt.wantStatus || !strings.Contains(text, tt.wantErr) {
				t.Fatalf("got %d %s, want %d %q", res.status, res.body, tt.wantStatus, tt.wantErr)
			}
			if bytes.Contains(res.body, []byte(secret)) {
				t.Error("error echoes the restic password")
			}
			all, _ := h.db.FindInfraBackups(context.Background(), "kovacs-csalad")
			if tt.wantStatus != http.StatusCreated {
				if len(all) != min(stored, hub.InfraBackupVersionsKept) {
					t.Fatalf("a rejected backup was stored")
				}
				return
			}
			// Stored as received, judged incomplete, the problem named.
			stored++
			if len(all) != min(stored, hub.InfraBackupVersionsKept) || len(all[0].Problems) == 0 {
				t.Fatalf("%d backups stored, newest problems %v", len(all), all[0].Problems)
			}
		})
	}

	// The example itself is accepted with either the global or the own key.
	for _, k := range []string{cfgGlobalKey, key} {
		res := h.do(cfgRequest{method: "POST", path: "/api/v1/infra-backup", key: k, body: mustJSON(t, exampleInfraBackup(t, "kovacs-csalad"))})
		if res.status != http.StatusCreated {
			t.Fatalf("valid backup: %d %s", res.status, res.body)
		}
	}
}

func TestInfraBackupRetentionAndGet(t *testing.T) {
	h := newConfigsHub(t)
	key, _ := h.createCustomer(`{"customer_id":"kovacs-csalad"}`)
	otherKey, _ := h.createCustomer(`{"customer_id":"other"}`)
	path := "/api/v1/infra-backup/kovacs-csalad"

	if res := h.do(cfgRequest{method: "GET", path: path, key: cfgGlobalKey}); res.status != http.StatusNotFound {
		t.Fatalf("no backup yet: %d %s", res.status, res.body)
	}
	var last []byte
	for i := range 12 {
		m := exampleInfraBackup(t, "kovacs-csalad")
		m["restic"].(map[string]any)["primary_password"] = "pw-" + string(rune('a'+i))
		last = mustJSON(t, m)
		h.clock.Add(time.Minute)
		if res := h.do(cfgRequest{method: "POST", path: "/api/v1/infra-backup", key: key, body: last}); res.status != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, res.status, res.body)
		}
	}
	if all, _ := h.db.FindInfraBackups(context.Background(), "kovacs-csalad"); len(all) != 10 {
		t.Errorf("kept %d versions, want 10", len(all))
	}
	for _, tc := range []struct {
		name   string
		key    string
		status int
	}{
		{"global key", cfgGlobalKey, 200},
		{"own key", key, 200},
		{"other customer's key", otherKey, 403},
		{"no key", "", 401},
	} {
		res := h.do(cfgRequest{method: "GET", path: path, key: tc.key})
		if res.status != tc.status {
			t.Errorf("%s: %d %s", tc.name, res.status, res.body)
			continue
		}
		if tc.status == 200 && !bytes.Equal(res.body, last) {
			t.Errorf("%s: got %s, want the latest as posted", tc.name, res.body)
		}
	}
	var got map[string]any
	res := h.do(cfgRequest{method: "GET", path: path, key: key})
	if err := json.Unmarshal(res.body, &got); err != nil || got["restic"].(map[string]any)["primary_password"] != "pw-l" {
		t.Errorf("latest is not the last posted: %s", res.body)
	}
}
