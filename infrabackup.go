package hub

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path"
	"time"
	"unicode/utf8"
)

// InfraBackupVersionsKept is how many infrastructure backups the hub keeps
// per customer: the latest and the nine before it.
const InfraBackupVersionsKept = 10

// InfraBackup is a controller's disaster-recovery snapshot (SPEC §2.5). It
// holds the customer's secrets: restic passwords and the full controller.yaml.
// The hub keeps the body as received; the fields are what the tolerant
// reader found in it, and Problems says what is missing or unreadable (a
// backup with problems is stored, and judged incomplete).
type InfraBackup struct {
	CustomerID string
	// CreatedAt is the controller's created_at, or the receipt time when
	// that is missing or unreadable.
	CreatedAt time.Time
	// ControllerYAML and SettingsJSON are the decoded base64 fields.
	ControllerYAML []byte
	SettingsJSON   []byte
	Disks          int
	BindMounts     int
	Stacks         int
	// HasRestic is true when restic.primary_password is present.
	HasRestic bool

	// Problems are the fields that are missing or could not be read.
	Problems FieldProblems
	// Raw is the body as received (invalid UTF-8 replaced).
	Raw json.RawMessage
}

// Complete reports whether the backup has everything a restore needs.
func (b *InfraBackup) Complete() bool { return len(b.Problems) == 0 }

type (
	infraBackupWire struct {
		identity
		CreatedAt      json.RawMessage `json:"created_at"`
		ControllerYAML json.RawMessage `json:"controller_yaml"`
		SettingsJSON   json.RawMessage `json:"settings_json"`
		Disks          json.RawMessage `json:"disks"`
		BindMounts     json.RawMessage `json:"bind_mounts"`
		Stacks         json.RawMessage `json:"stacks"`
		Restic         json.RawMessage `json:"restic"`
	}
	infraDiskWire struct {
		UUID         json.RawMessage `json:"uuid"`
		Label        json.RawMessage `json:"label"`
		MountPoint   json.RawMessage `json:"mount_point"`
		FSType       json.RawMessage `json:"fs_type"`
		FstabOptions json.RawMessage `json:"fstab_options"`
	}
	infraBindMountWire struct {
		Source json.RawMessage `json:"source"`
		Target json.RawMessage `json:"target"`
	}
	infraStackWire struct {
		App         json.RawMessage `json:"app"`
		HDDPath     json.RawMessage `json:"hdd_path"`
		DisplayName json.RawMessage `json:"display_name"`
	}
	infraResticWire struct {
		PrimaryPassword    json.RawMessage `json:"primary_password"`
		CrossDrivePassword json.RawMessage `json:"cross_drive_password"`
	}
)

// Limits on the lists of an infrastructure backup.
const (
	maxInfraDisks      = 64
	maxInfraBindMounts = 1024
	maxInfraStacks     = 512
)

// ParseInfraBackup reads an infra-backup body with the tolerant reader:
// only a body that is not a JSON object or a missing or invalid customer_id
// is an error. Problems never quote a value: the body holds secrets.
// validYAML says whether decoded controller_yaml text is a YAML mapping (the
// domain package does not parse YAML itself).
func ParseInfraBackup(body []byte, now time.Time, validYAML func([]byte) bool) (*InfraBackup, error) {
	var w infraBackupWire
	body, id, err := decodeFor(body, &w)
	if err != nil {
		return nil, err
	}
	b := &InfraBackup{CustomerID: id, Raw: json.RawMessage(body), CreatedAt: now.UTC()}
	var rd reader
	if !present(w.CreatedAt) {
		rd.problem("created_at", "missing; the receipt time is used")
	} else if t := rd.pastTime("created_at", w.CreatedAt, now); t != nil {
		b.CreatedAt = *t
	}
	b.ControllerYAML = rd.base64Field("controller_yaml", w.ControllerYAML)
	if b.ControllerYAML != nil && (!utf8.Valid(b.ControllerYAML) || !validYAML(b.ControllerYAML)) {
		rd.problem("controller_yaml", "does not decode to a YAML mapping")
	}
	b.SettingsJSON = rd.base64Field("settings_json", w.SettingsJSON)
	if b.SettingsJSON != nil && !json.Valid(b.SettingsJSON) {
		rd.problem("settings_json", "does not decode to JSON")
	}
	b.Disks = readList(&rd, "disks", w.Disks, maxInfraDisks, func(path string, d *infraDiskWire) {
		if rd.line(path+".uuid", d.UUID, 255) == "" {
			rd.problem(path+".uuid", "required")
		}
		rd.absPath(path+".mount_point", d.MountPoint, true)
	})
	b.BindMounts = readList(&rd, "bind_mounts", w.BindMounts, maxInfraBindMounts, func(path string, m *infraBindMountWire) {
		rd.absPath(path+".source", m.Source, true)
		rd.absPath(path+".target", m.Target, true)
	})
	b.Stacks = readList(&rd, "stacks", w.Stacks, maxInfraStacks, func(path string, st *infraStackWire) {
		if rd.line(path+".app", st.App, 255) == "" {
			rd.problem(path+".app", "required")
		}
		rd.absPath(path+".hdd_path", st.HDDPath, false)
	})
	var restic infraResticWire
	if !present(w.Restic) {
		rd.problem("restic", "missing: a restore cannot open the backups without primary_password")
	} else if rd.object("restic", w.Restic, &restic) {
		pw, _ := rd.rawString("restic.primary_password", restic.PrimaryPassword)
		if pw == "" {
			rd.problem("restic.primary_password", "missing or empty")
		}
		b.HasRestic = pw != ""
		if present(restic.CrossDrivePassword) {
			rd.rawString("restic.cross_drive_password", restic.CrossDrivePassword)
		}
	}
	b.Problems = rd.result()
	return b, nil
}

// absPath checks an absolute slash-separated path; required says whether
// an empty one is a problem.
func (rd *reader) absPath(path string, raw json.RawMessage, required bool) {
	p := rd.line(path, raw, 4096)
	switch {
	case p == "" && required:
		rd.problem(path, "required: an absolute path")
	case p != "" && !isAbsPath(p):
		rd.problem(path, "must be an absolute path")
	}
}

// isAbsPath reports whether p is an absolute slash-separated path.
func isAbsPath(p string) bool {
	return path.IsAbs(p) && len(p) <= 4096
}

// base64Field decodes a standard base64 field (padding optional); nil with
// a problem when it is missing or unreadable. The value is never quoted.
func (rd *reader) base64Field(field string, raw json.RawMessage) []byte {
	if !present(raw) {
		rd.problem(field, "missing (base64)")
		return nil
	}
	s, ok := rd.rawString(field, raw)
	if !ok {
		return nil
	}
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		out, err = base64.RawStdEncoding.DecodeString(s)
	}
	switch {
	case err != nil:
		rd.problem(field, "not valid base64")
		return nil
	case len(out) == 0:
		rd.problem(field, "decodes to nothing")
		return nil
	}
	return out
}

// StoredInfraBackup is an infrastructure backup as the hub keeps it.
type StoredInfraBackup struct {
	ID         int64
	CustomerID string
	CreatedAt  time.Time
	ReceivedAt time.Time
	// Problems say what the backup lacks; none means complete.
	Problems FieldProblems
	// Body is the backup exactly as the controller posted it.
	Body json.RawMessage
}

// InfraBackupService keeps the latest InfraBackupVersionsKept backups of
// each customer, sealed at rest.
type InfraBackupService interface {
	// CreateInfraBackup stores b and drops the customer's versions beyond
	// InfraBackupVersionsKept, never its newest complete one (incomplete
	// backups must not push the last good one out). EINVALID when the
	// customer is unknown.
	CreateInfraBackup(ctx context.Context, b *InfraBackup) (*StoredInfraBackup, error)
	// FindLatestInfraBackup returns the customer's newest backup; ENOTFOUND
	// when there is none.
	FindLatestInfraBackup(ctx context.Context, customerID string) (*StoredInfraBackup, error)
	// FindInfraBackups lists the customer's kept backups, newest first,
	// bodies included.
	FindInfraBackups(ctx context.Context, customerID string) ([]*StoredInfraBackup, error)
}

// Template is a copy of the controller.yaml template.
type Template struct {
	Body      []byte
	SourceURL string
	FetchedAt time.Time
}

// TemplateService keeps the last good controller.yaml template.
type TemplateService interface {
	// SaveTemplate replaces the stored template.
	SaveTemplate(ctx context.Context, t *Template) error
	// FindTemplate returns the stored template; ENOTFOUND when none.
	FindTemplate(ctx context.Context) (*Template, error)
}
