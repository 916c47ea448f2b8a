package hub

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// IdentityReader reads the identity of a controller.yaml; an error means
// the text is not a YAML mapping. The domain package does not parse YAML
// itself: configgen.ReadIdentity is the one the hub uses.
type IdentityReader func(controllerYAML []byte) (*DRIdentity, error)

// drBundleWire is the part of an infra-backup body the DR rules read.
type drBundleWire struct {
	ControllerYAML json.RawMessage `json:"controller_yaml"`
	SettingsJSON   json.RawMessage `json:"settings_json"`
	Disks          json.RawMessage `json:"disks"`
	Stacks         json.RawMessage `json:"stacks"`
	Restic         json.RawMessage `json:"restic"`
}

// ReadDRBundle reads what the DR rules need from a stored bundle. It never
// fails: what cannot be read is marked missing or invalid. Nothing it
// returns holds a restic password.
func ReadDRBundle(b *StoredInfraBackup, identity IdentityReader) *DRBundle {
	out := &DRBundle{CreatedAt: b.CreatedAt}
	var w drBundleWire
	if err := json.Unmarshal(b.Body, &w); err != nil || !bytes.HasPrefix(bytes.TrimSpace(b.Body), []byte("{")) {
		out.Unreadable = true
		return out
	}
	var yamlText []byte
	yamlText, out.ControllerYAML = readBase64Part(w.ControllerYAML)
	if out.ControllerYAML == PartOK {
		id, err := identity(yamlText)
		if err != nil {
			out.ControllerYAML = PartInvalid
		} else {
			out.Identity = id
		}
	}
	var settings []byte
	settings, out.SettingsJSON = readBase64Part(w.SettingsJSON)
	if out.SettingsJSON == PartOK && !json.Valid(settings) {
		out.SettingsJSON = PartInvalid
	}

	out.DiskUUIDs, out.HasDisks = readListField(w.Disks, "uuid", strings.ToLower)
	out.Apps, out.HasStacks = readListField(w.Stacks, "app", func(s string) string { return s })
	var restic struct {
		Primary    json.RawMessage `json:"primary_password"`
		CrossDrive json.RawMessage `json:"cross_drive_password"`
	}
	if json.Unmarshal(w.Restic, &restic) == nil {
		out.PrimaryPassword = rawText(restic.Primary) != ""
		out.CrossDrivePassword = rawText(restic.CrossDrive) != ""
	}
	return out
}

// readBase64Part decodes a base64 string field.
func readBase64Part(raw json.RawMessage) ([]byte, DRPart) {
	if !present(raw) {
		return nil, PartMissing
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, PartInvalid
	}
	if strings.TrimSpace(s) == "" {
		return nil, PartMissing
	}
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if out, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil, PartInvalid
		}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, PartMissing
	}
	return out, PartOK
}

// rawText returns a JSON string's trimmed text; "" for anything else.
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// ReadDRNode reads the node's data disks and apps from its latest report.
func ReadDRNode(r *Report) *DRNode {
	n := &DRNode{DataDiskUUIDs: []string{}, Apps: []string{}}
	if r.ReportedAt != nil {
		n.ReportedAt = *r.ReportedAt
	}
	for _, s := range r.Storage {
		if s.UUID == "" || isSystemDisk(s) {
			continue
		}
		n.DataDiskUUIDs = append(n.DataDiskUUIDs, strings.ToLower(s.UUID))
	}
	for _, c := range r.Containers {
		if c.App != "" {
			n.Apps = append(n.Apps, c.App)
		}
	}
	return n
}

// isSystemDisk reports whether a reported disk is the node's own system
// disk, which a reinstall replaces and the bundle does not list.
func isSystemDisk(s ReportStorage) bool {
	role := strings.ToLower(s.Role)
	return role == "system" || role == "boot" || s.Mount == "/" || strings.HasPrefix(s.Mount, "/boot")
}

// restoreTestWire is one entry of the restore_tests list a host report
// (and, where a controller sends one, a controller report) carries.
type restoreTestWire struct {
	TestedAt json.RawMessage `json:"tested_at"`
	Status   json.RawMessage `json:"status"`
}

// maxRestoreTests bounds how many tests of one body are read.
const maxRestoreTests = 1000

// ReadRestoreTests reads the restore tests of a report body; an entry that
// is not an object or has no readable time is skipped, and a time well
// after now is not believed. A status of ok, success, succeeded or passed
// is a success.
func ReadRestoreTests(body json.RawMessage, now time.Time) []RestoreTest {
	var w struct {
		RestoreTests []json.RawMessage `json:"restore_tests"`
	}
	if json.Unmarshal(body, &w) != nil {
		return nil
	}
	var out []RestoreTest
	for i, item := range w.RestoreTests {
		if i >= maxRestoreTests {
			break
		}
		var t restoreTestWire
		if json.Unmarshal(item, &t) != nil {
			continue
		}
		at, err := time.Parse(time.RFC3339, rawText(t.TestedAt))
		if err != nil || at.After(now.Add(time.Hour)) {
			continue
		}
		switch strings.ToLower(rawText(t.Status)) {
		case "ok", "success", "succeeded", "passed":
			out = append(out, RestoreTest{TestedAt: at, OK: true})
		default:
			out = append(out, RestoreTest{TestedAt: at})
		}
	}
	return out
}

// readListField reads one string field of each object of a JSON list;
// false when raw is not a list. Items that are not objects are skipped.
func readListField(raw json.RawMessage, field string, norm func(string) string) ([]string, bool) {
	var items []json.RawMessage
	if !present(raw) || json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	out := []string{}
	for _, item := range items {
		var m map[string]json.RawMessage
		if json.Unmarshal(item, &m) != nil {
			continue
		}
		if v := rawText(m[field]); v != "" {
			out = append(out, norm(v))
		}
	}
	return out, true
}
