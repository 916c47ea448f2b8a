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
type InfraBackup struct {
	CustomerID     string           `json:"customer_id"`
	CreatedAtText  string           `json:"created_at"`
	ControllerYAML string           `json:"controller_yaml"`
	SettingsJSON   string           `json:"settings_json"`
	Disks          []InfraDisk      `json:"disks"`
	BindMounts     []InfraBindMount `json:"bind_mounts"`
	Stacks         []InfraStack     `json:"stacks"`
	Restic         *InfraRestic     `json:"restic"`

	// CreatedAt is created_at parsed by Validate.
	CreatedAt time.Time `json:"-"`
	// ControllerYAMLBytes and SettingsJSONBytes are the decoded base64 fields.
	ControllerYAMLBytes []byte `json:"-"`
	SettingsJSONBytes   []byte `json:"-"`
	// Raw is the body as received, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// InfraDisk is one data disk of the node.
type InfraDisk struct {
	UUID         string `json:"uuid"`
	Label        string `json:"label"`
	MountPoint   string `json:"mount_point"`
	FSType       string `json:"fs_type"`
	FstabOptions string `json:"fstab_options"`
}

// InfraBindMount is one bind mount from a data disk into a stack.
type InfraBindMount struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// InfraStack is one deployed app.
type InfraStack struct {
	App         string `json:"app"`
	HDDPath     string `json:"hdd_path"`
	DisplayName string `json:"display_name"`
}

// InfraRestic holds the backup repositories' passwords.
type InfraRestic struct {
	PrimaryPassword    string `json:"primary_password"`
	CrossDrivePassword string `json:"cross_drive_password"`
}

// Limits on the lists of an infrastructure backup.
const (
	maxInfraDisks      = 64
	maxInfraBindMounts = 1024
	maxInfraStacks     = 512
)

// ParseInfraBackup decodes and validates an infra-backup body. Every error
// is EINVALID and names the field, never its value.
func ParseInfraBackup(body []byte) (*InfraBackup, error) {
	var b InfraBackup
	if err := DecodeJSONObject(body, &b); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	b.Raw = json.RawMessage(body)
	return &b, nil
}

// Validate checks every field and decodes the base64 ones.
func (b *InfraBackup) Validate() error {
	if err := ValidateCustomerID(b.CustomerID); err != nil {
		return err
	}
	if b.CreatedAtText == "" {
		return Errorf(EINVALID, "created_at is required")
	}
	t, err := ParseOptionalTime("created_at", b.CreatedAtText)
	if err != nil {
		return err
	}
	b.CreatedAt = t.UTC()
	if b.ControllerYAMLBytes, err = decodeBase64Field("controller_yaml", b.ControllerYAML); err != nil {
		return err
	}
	if !utf8.Valid(b.ControllerYAMLBytes) {
		return Errorf(EINVALID, "controller_yaml must decode to UTF-8 text")
	}
	if b.SettingsJSONBytes, err = decodeBase64Field("settings_json", b.SettingsJSON); err != nil {
		return err
	}
	if !json.Valid(b.SettingsJSONBytes) {
		return Errorf(EINVALID, "settings_json must decode to valid JSON")
	}
	if err := b.validateLists(); err != nil {
		return err
	}
	if b.Restic == nil {
		return Errorf(EINVALID, "restic is required: an object with primary_password and cross_drive_password")
	}
	if b.Restic.PrimaryPassword == "" {
		return Errorf(EINVALID, "restic.primary_password is required")
	}
	return nil
}

func (b *InfraBackup) validateLists() error {
	if len(b.Disks) > maxInfraDisks {
		return Errorf(EINVALID, "disks has more than %d entries", maxInfraDisks)
	}
	for i, d := range b.Disks {
		if d.UUID == "" {
			return Errorf(EINVALID, "disks[%d].uuid is required", i)
		}
		if !isAbsPath(d.MountPoint) {
			return Errorf(EINVALID, "disks[%d].mount_point must be an absolute path", i)
		}
	}
	if len(b.BindMounts) > maxInfraBindMounts {
		return Errorf(EINVALID, "bind_mounts has more than %d entries", maxInfraBindMounts)
	}
	for i, m := range b.BindMounts {
		if !isAbsPath(m.Source) {
			return Errorf(EINVALID, "bind_mounts[%d].source must be an absolute path", i)
		}
		if !isAbsPath(m.Target) {
			return Errorf(EINVALID, "bind_mounts[%d].target must be an absolute path", i)
		}
	}
	if len(b.Stacks) > maxInfraStacks {
		return Errorf(EINVALID, "stacks has more than %d entries", maxInfraStacks)
	}
	for i, s := range b.Stacks {
		if s.App == "" {
			return Errorf(EINVALID, "stacks[%d].app is required", i)
		}
		if s.HDDPath != "" && !isAbsPath(s.HDDPath) {
			return Errorf(EINVALID, "stacks[%d].hdd_path must be an absolute path", i)
		}
	}
	return nil
}

// isAbsPath reports whether p is an absolute slash-separated path.
func isAbsPath(p string) bool {
	return path.IsAbs(p) && len(p) <= 4096
}

// decodeBase64Field decodes a required standard base64 field (padding
// optional). The error names the field and never shows the value.
func decodeBase64Field(field, s string) ([]byte, error) {
	if s == "" {
		return nil, Errorf(EINVALID, "%s is required (base64)", field)
	}
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		out, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, Errorf(EINVALID, "%s is not valid base64", field)
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "%s decodes to nothing", field)
	}
	return out, nil
}

// StoredInfraBackup is an infrastructure backup as the hub keeps it.
type StoredInfraBackup struct {
	ID         int64
	CustomerID string
	CreatedAt  time.Time
	ReceivedAt time.Time
	// Body is the backup exactly as the controller posted it.
	Body json.RawMessage
}

// InfraBackupService keeps the latest InfraBackupVersionsKept backups of
// each customer, sealed at rest.
type InfraBackupService interface {
	// CreateInfraBackup stores b and drops the customer's versions beyond
	// InfraBackupVersionsKept. EINVALID when the customer is unknown.
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
