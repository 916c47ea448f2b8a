package hub_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// identityOf is a stand-in for configgen.ReadIdentity: it reads "key:
// value" lines, and "!" marks text that is not YAML.
func identityOf(text []byte) (*hub.DRIdentity, error) {
	if strings.HasPrefix(string(text), "!") {
		return nil, errors.New("not yaml")
	}
	id := &hub.DRIdentity{}
	for _, line := range strings.Split(string(text), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "id":
			id.CustomerID = v
		case "domain":
			id.Domain = v
		case "url":
			id.HubURL = v
		case "key":
			id.APIKey = v
		}
	}
	return id, nil
}

var drNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

const goodYAML = "id: kovacs-csalad\ndomain: kovacs-csalad.felhom.eu\nurl: https://hub.felhom.eu\nkey: k-123"

var expected = &hub.DRIdentity{CustomerID: "kovacs-csalad", Domain: "kovacs-csalad.felhom.eu", HubURL: "https://hub.felhom.eu", APIKey: "k-123"}

// bundleBody is the example infra-backup with edit applied to its fields.
func bundleBody(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/infra-backup.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["controller_yaml"] = base64.StdEncoding.EncodeToString([]byte(goodYAML))
	if edit != nil {
		edit(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The node of the example report: data disks adat1 and mentes, apps
// nextcloud and immich (the bundle also has vaultwarden, which is fine).
func exampleNode() *hub.DRNode {
	return &hub.DRNode{DataDiskUUIDs: []string{"8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33", "c7d9e1f2-3a4b-4c5d-8e6f-7a8b9c0d1e22"},
		Apps: []string{"nextcloud", "immich"}}
}

// TestEvaluateDR is the table of bundles × reports: every reason code is
// produced by some row, and each row's grade is the worst of its reasons.
func TestEvaluateDR(t *testing.T) {
	fresh := drNow.Add(-3 * time.Hour)
	tests := []struct {
		name     string
		bundle   func(m map[string]any) // nil bundle when noBundle
		body     []byte
		noBundle bool
		age      time.Duration
		node     func(n *hub.DRNode)
		noNode   bool
		tests    []hub.RestoreTest
		grade    string
		codes    []string
	}{
		{name: "complete, fresh, matching", grade: hub.DRReady},
		{name: "no report yet: nothing to drift from", noNode: true, grade: hub.DRReady},
		{name: "no bundle", noBundle: true, grade: hub.DRNotRecoverable, codes: []string{hub.DRNoBundle}},
		{name: "stale", age: 49 * time.Hour, grade: hub.DRAtRisk, codes: []string{hub.DRBundleStale}},
		{name: "unreadable", body: []byte(`[1,2]`), grade: hub.DRNotRecoverable, codes: []string{hub.DRBundleUnreadable}},
		{name: "controller.yaml missing", bundle: func(m map[string]any) { delete(m, "controller_yaml") },
			grade: hub.DRAtRisk, codes: []string{hub.DRControllerYAMLMissing}},
		{name: "controller.yaml not base64", bundle: func(m map[string]any) { m["controller_yaml"] = "%%%" },
			grade: hub.DRAtRisk, codes: []string{hub.DRControllerYAMLInvalid}},
		{name: "controller.yaml not YAML", bundle: func(m map[string]any) { m["controller_yaml"] = b64("!{[") },
			grade: hub.DRAtRisk, codes: []string{hub.DRControllerYAMLInvalid}},
		{name: "controller.yaml names nobody", bundle: func(m map[string]any) {
			m["controller_yaml"] = b64("domain: kovacs-csalad.felhom.eu\nurl: https://hub.felhom.eu\nkey: k-123")
		}, grade: hub.DRAtRisk, codes: []string{hub.DRControllerYAMLNoCustomer}},
		{name: "controller.yaml of another customer", bundle: func(m map[string]any) {
			m["controller_yaml"] = b64(strings.Replace(goodYAML, "id: kovacs-csalad", "id: szabo-kft", 1))
		}, grade: hub.DRNotRecoverable, codes: []string{hub.DRControllerYAMLOtherCust, hub.DRIdentityMismatch}},
		{name: "settings.json missing", bundle: func(m map[string]any) { m["settings_json"] = "" },
			grade: hub.DRAtRisk, codes: []string{hub.DRSettingsJSONMissing}},
		{name: "settings.json not JSON", bundle: func(m map[string]any) { m["settings_json"] = b64("{nope") },
			grade: hub.DRAtRisk, codes: []string{hub.DRSettingsJSONInvalid}},
		{name: "no disk layout", bundle: func(m map[string]any) { delete(m, "disks") },
			grade: hub.DRAtRisk, codes: []string{hub.DRDiskLayoutMissing}},
		{name: "no stacks manifest", bundle: func(m map[string]any) { m["stacks"] = "nextcloud" },
			grade: hub.DRAtRisk, codes: []string{hub.DRStacksManifestMissing}},
		{name: "primary password empty", bundle: func(m map[string]any) {
			m["restic"] = map[string]any{"primary_password": "", "cross_drive_password": "x"}
		}, grade: hub.DRNotRecoverable, codes: []string{hub.DRResticPrimaryMissing}},
		{name: "no restic at all", bundle: func(m map[string]any) { delete(m, "restic") },
			grade: hub.DRNotRecoverable, codes: []string{hub.DRResticPrimaryMissing, hub.DRResticCrossDriveMissing}},
		{name: "cross-drive password missing", bundle: func(m map[string]any) {
			m["restic"] = map[string]any{"primary_password": "p"}
		}, grade: hub.DRAtRisk, codes: []string{hub.DRResticCrossDriveMissing}},
		{name: "a new data disk on the node", node: func(n *hub.DRNode) {
			n.DataDiskUUIDs = append(n.DataDiskUUIDs, "0a0b0c0d-1111-4222-8333-444455556666")
		}, grade: hub.DRAtRisk, codes: []string{hub.DRDiskNotInBundle}},
		{name: "a bundle disk gone from the node", node: func(n *hub.DRNode) { n.DataDiskUUIDs = n.DataDiskUUIDs[:1] },
			grade: hub.DRAtRisk, codes: []string{hub.DRDiskNotOnNode}},
		{name: "an app not in the manifest", node: func(n *hub.DRNode) { n.Apps = append(n.Apps, "jellyfin") },
			grade: hub.DRAtRisk, codes: []string{hub.DRAppNotInBundle}},
		{name: "identity: rotated key", bundle: func(m map[string]any) {
			m["controller_yaml"] = b64(strings.Replace(goodYAML, "key: k-123", "key: k-old", 1))
		}, grade: hub.DRAtRisk, codes: []string{hub.DRIdentityMismatch}},
		{name: "identity: hub URL", bundle: func(m map[string]any) {
			m["controller_yaml"] = b64(strings.Replace(goodYAML, "url: https://hub.felhom.eu", "url: https://old-hub.example", 1))
		}, grade: hub.DRAtRisk, codes: []string{hub.DRIdentityMismatch}},
		{name: "restore tests pass", tests: []hub.RestoreTest{{TestedAt: drNow.Add(-24 * time.Hour), OK: true}}, grade: hub.DRReady},
		{name: "latest restore test failed", tests: []hub.RestoreTest{{TestedAt: drNow.Add(-24 * time.Hour)}, {TestedAt: drNow.Add(-72 * time.Hour), OK: true}},
			grade: hub.DRAtRisk, codes: []string{hub.DRRestoreTestFailed}},
		{name: "restore test overdue", tests: []hub.RestoreTest{{TestedAt: drNow.Add(-40 * 24 * time.Hour), OK: true}},
			grade: hub.DRAtRisk, codes: []string{hub.DRRestoreTestOverdue}},
		{name: "no restore test ever succeeded", tests: []hub.RestoreTest{{TestedAt: drNow.Add(-time.Hour)}},
			grade: hub.DRAtRisk, codes: []string{hub.DRRestoreTestFailed, hub.DRRestoreTestOverdue}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := hub.DRFacts{CustomerID: "kovacs-csalad", Now: drNow, MaxBundleAge: 48 * time.Hour,
				Expected: expected, RestoreTests: tt.tests}
			if !tt.noBundle {
				body := tt.body
				if body == nil {
					body = bundleBody(t, tt.bundle)
				}
				created := fresh
				if tt.age > 0 {
					created = drNow.Add(-tt.age)
				}
				f.Bundle = hub.ReadDRBundle(&hub.StoredInfraBackup{CustomerID: "kovacs-csalad", CreatedAt: created, Body: body}, identityOf)
			}
			if !tt.noNode {
				f.Node = exampleNode()
				if tt.node != nil {
					tt.node(f.Node)
				}
			}
			got := hub.EvaluateDR(f)
			var codes []string
			for _, r := range got.Reasons {
				codes = append(codes, r.Code)
				seen[r.Code] = true
				if r.Message == "" {
					t.Errorf("%s has no message", r.Code)
				}
				if strings.Contains(r.Message, "k-123") || strings.Contains(r.Message, "example-only-not-a-real-secret") {
					t.Errorf("%s message shows a secret: %s", r.Code, r.Message)
				}
			}
			if got.Grade != tt.grade || !slices.Equal(codes, tt.codes) {
				t.Errorf("grade %s %v, want %s %v", got.Grade, codes, tt.grade, tt.codes)
			}
			if (got.BundleAt == nil) != tt.noBundle {
				t.Errorf("bundle_at %v with no bundle = %v", got.BundleAt, tt.noBundle)
			}
		})
	}
	for _, code := range hub.DRReasonCodes() {
		if !seen[code] {
			t.Errorf("no row of the table produces %s", code)
		}
	}
}

func TestDRTransition(t *testing.T) {
	at := drNow
	r := func(grade string, codes ...string) hub.DRReadiness {
		bundleAt := at.Add(-time.Hour)
		out := hub.DRReadiness{CustomerID: "c1", Grade: grade, CheckedAt: at, BundleAt: &bundleAt}
		for _, c := range codes {
			out.Reasons = append(out.Reasons, hub.DRReason{Code: c, Message: c + " msg"})
		}
		return out
	}
	prev := func(grade string) *hub.DRReadiness { p := r(grade); return &p }
	noBundle := hub.DRReadiness{CustomerID: "c1", Grade: hub.DRNotRecoverable, CheckedAt: at,
		Reasons: []hub.DRReason{{Code: hub.DRNoBundle, Message: "none"}}}
	for _, tt := range []struct {
		prev     *hub.DRReadiness
		next     hub.DRReadiness
		typ, sev string
	}{
		{nil, r(hub.DRReady), "", ""},
		{nil, r(hub.DRNotRecoverable, hub.DRResticPrimaryMissing), hub.EventDRBundleIncomplete, hub.SeverityError},
		// Never had a bundle: shown, not announced; the first bundle sets
		// the baseline.
		{nil, noBundle, "", ""},
		{&noBundle, noBundle, "", ""},
		{&noBundle, r(hub.DRReady), "", ""},
		{&noBundle, r(hub.DRAtRisk, hub.DRBundleStale), hub.EventDRBundleStale, hub.SeverityWarning},
		// Bundles gone after there were some: announced.
		{prev(hub.DRReady), noBundle, hub.EventDRBundleIncomplete, hub.SeverityError},
		{prev(hub.DRReady), r(hub.DRAtRisk, hub.DRBundleStale), hub.EventDRBundleStale, hub.SeverityWarning},
		{prev(hub.DRReady), r(hub.DRAtRisk, hub.DRBundleStale, hub.DRDiskNotOnNode), hub.EventDRBundleStale, hub.SeverityWarning},
		{prev(hub.DRAtRisk), r(hub.DRNotRecoverable, hub.DRDiskNotOnNode, hub.DRResticPrimaryMissing), hub.EventDRBundleIncomplete, hub.SeverityError},
		{prev(hub.DRReady), r(hub.DRAtRisk, hub.DRIdentityMismatch), hub.EventDRBundleDrift, hub.SeverityWarning},
		{prev(hub.DRAtRisk), r(hub.DRAtRisk, hub.DRIdentityMismatch), "", ""},
		{prev(hub.DRNotRecoverable), r(hub.DRAtRisk, hub.DRBundleStale), "", ""},
		{prev(hub.DRAtRisk), r(hub.DRReady), hub.EventDRReady, hub.SeverityInfo},
	} {
		e := hub.DRTransition(tt.prev, tt.next)
		typ, sev := "", ""
		if e != nil {
			typ, sev = e.Type, e.Severity
			if e.Source != hub.SourceHub || e.DedupeKey == "" || e.CustomerID != "c1" {
				t.Errorf("event %+v", e)
			}
			if hub.EventTypeSource(e.Type) != hub.SourceHub || !hub.OperatorOnlyEventType(e.Type) {
				t.Errorf("%s is not a hub-only, operator-only type", e.Type)
			}
		}
		if typ != tt.typ || sev != tt.sev {
			t.Errorf("%v → %s %v: %q %q, want %q %q", tt.prev, tt.next.Grade, tt.next.Reasons, typ, sev, tt.typ, tt.sev)
		}
	}
}

// A node may never post the DR events.
func TestDREventsCannotBePosted(t *testing.T) {
	for _, typ := range []string{hub.EventDRBundleStale, hub.EventDRBundleIncomplete, hub.EventDRBundleDrift, hub.EventDRReady} {
		_, err := hub.ParseEvent([]byte(`{"customer_id":"c1","event_type":"`+typ+`","severity":"error","message":"x"}`), drNow)
		if hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("posting %s: %v, want EINVALID", typ, err)
		}
	}
}

func TestReadRestoreTestsAndNode(t *testing.T) {
	body := []byte(`{"restore_tests":[{"tested_at":"2026-11-20T05:00:00Z","status":"ok"},{"tested_at":"bad","status":"ok"},
		{"tested_at":"2026-11-21T05:00:00Z","status":"FAILED"},{"tested_at":"2027-01-01T00:00:00Z","status":"ok"},"junk"]}`)
	got := hub.ReadRestoreTests(body, drNow)
	if len(got) != 2 || !got[0].OK || got[1].OK {
		t.Errorf("restore tests %+v", got)
	}
	if hub.ReadRestoreTests([]byte(`[1]`), drNow) != nil {
		t.Error("a body that is not an object has restore tests")
	}
	raw, err := os.ReadFile("testdata/controller-report.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := hub.ParseReport(raw, drNow)
	if err != nil {
		t.Fatal(err)
	}
	n := hub.ReadDRNode(r)
	if !slices.Equal(n.DataDiskUUIDs, exampleNode().DataDiskUUIDs) {
		t.Errorf("data disks %v: the system disk must be left out", n.DataDiskUUIDs)
	}
	if !slices.Contains(n.Apps, "nextcloud") {
		t.Errorf("apps %v", n.Apps)
	}
}

func TestNewRecoveryLink(t *testing.T) {
	for _, tt := range []struct {
		reason string
		ttl    time.Duration
		ok     bool
	}{
		{"reinstall", time.Hour, true},
		{"reinstall", 24 * time.Hour, true},
		{"reinstall", 24*time.Hour + time.Second, false},
		{"reinstall", 0, false},
		{"reinstall", -time.Hour, false},
		{"  \n\t ", time.Hour, false},
		{strings.Repeat("x", 501), time.Hour, false},
	} {
		l, token, err := hub.NewRecoveryLink("kovacs-csalad", tt.reason, "op", tt.ttl, drNow)
		if (err == nil) != tt.ok {
			t.Errorf("%q %v: %v", tt.reason, tt.ttl, err)
			continue
		}
		if err != nil {
			continue
		}
		if len(token) != 64 || l.TokenHash != hub.HashSecret(token) || strings.Contains(l.TokenHash, token) || !l.ExpiresAt.Equal(drNow.Add(tt.ttl)) {
			t.Errorf("link %+v token %q", l, token)
		}
	}
	l, _, _ := hub.NewRecoveryLink("kovacs-csalad", "a\x00b\nc", "op", time.Hour, drNow)
	if l.Reason != "a b c" {
		t.Errorf("control characters kept: %q", l.Reason)
	}
}
