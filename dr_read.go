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

	var disks []struct {
		UUID json.RawMessage `json:"uuid"`
	}
	if json.Unmarshal(w.Disks, &disks) == nil && present(w.Disks) {
		out.HasDisks = true
		out.DiskUUIDs = []string{}
		for _, d := range disks {
			if s := rawText(d.UUID); s != "" {
				out.DiskUUIDs = append(out.DiskUUIDs, strings.ToLower(s))
			}
		}
	}
	var stacks []struct {
		App json.RawMessage `json:"app"`
	}
	if json.Unmarshal(w.Stacks, &stacks) == nil && present(w.Stacks) {
		out.HasStacks = true
		out.Apps = []string{}
		for _, s := range stacks {
			if app := rawText(s.App); app != "" {
				out.Apps = append(out.Apps, app)
			}
		}
	}
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

// restoreTestsWire is the restore_tests list a host report (and, where a
// controller sends one, a controller report) carries.
type restoreTestsWire struct {
	RestoreTests []struct {
		TestedAt json.RawMessage `json:"tested_at"`
		Status   json.RawMessage `json:"status"`
	} `json:"restore_tests"`
}

// maxRestoreTests bounds how many tests of one body are read.
const maxRestoreTests = 1000

// ReadRestoreTests reads the restore tests of a report body; entries
// without a readable time are skipped, and a time after now is not
// believed. A status of ok, success, succeeded or passed is a success.
func ReadRestoreTests(body json.RawMessage, now time.Time) []RestoreTest {
	var w restoreTestsWire
	if json.Unmarshal(body, &w) != nil {
		return nil
	}
	var out []RestoreTest
	for i, t := range w.RestoreTests {
		if i >= maxRestoreTests {
			break
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
