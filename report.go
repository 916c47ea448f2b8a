package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxBodyBytes is the size limit of every JSON body the hub accepts.
const MaxBodyBytes = 4 << 20

// Health values a controller reports.
const (
	HealthOK   = "ok"
	HealthWarn = "warn"
	HealthFail = "fail"
)

// Report is a controller report: the fields the hub reads, and the body
// exactly as received so that nothing the controller sent is lost.
type Report struct {
	CustomerID        string            `json:"customer_id"`
	ReportedAtText    string            `json:"reported_at"`
	ControllerVersion string            `json:"controller_version"`
	ControllerURL     string            `json:"controller_url"`
	Health            string            `json:"health"`
	MonitoringEnabled *bool             `json:"monitoring_enabled"`
	System            *ReportSystem     `json:"system"`
	Storage           []ReportStorage   `json:"storage"`
	Containers        []ReportContainer `json:"containers"`
	Backups           *ReportBackups    `json:"backups"`
	Checks            []ReportCheck     `json:"checks"`

	// ReportedAt is reported_at parsed by Validate; nil when absent.
	ReportedAt *time.Time `json:"-"`
	// Raw is the body as received.
	Raw json.RawMessage `json:"-"`
}

// ReportSystem is the system section of a report.
type ReportSystem struct {
	Hostname      string  `json:"hostname"`
	OS            string  `json:"os"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	CPUPercent    float64 `json:"cpu_percent"`
	Load1         float64 `json:"load1"`
	MemTotalBytes float64 `json:"mem_total_bytes"`
	MemUsedBytes  float64 `json:"mem_used_bytes"`
}

// ReportStorage is one mounted disk in a report.
type ReportStorage struct {
	Mount      string  `json:"mount"`
	Label      string  `json:"label"`
	UUID       string  `json:"uuid"`
	Role       string  `json:"role"`
	TotalBytes float64 `json:"total_bytes"`
	UsedBytes  float64 `json:"used_bytes"`
}

// ReportContainer is one container in a report.
type ReportContainer struct {
	Name   string `json:"name"`
	App    string `json:"app"`
	Image  string `json:"image"`
	State  string `json:"state"`
	Health string `json:"health"`
}

// ReportBackups is the backups section of a report.
type ReportBackups struct {
	LastBackupAtText string  `json:"last_backup_at"`
	LastBackupStatus string  `json:"last_backup_status"`
	LastDBDumpAtText string  `json:"last_dbdump_at"`
	LastDBDumpStatus string  `json:"last_dbdump_status"`
	RepositoryBytes  float64 `json:"repository_bytes"`

	// LastBackupAt and LastDBDumpAt are parsed by Validate; nil when absent.
	LastBackupAt *time.Time `json:"-"`
	LastDBDumpAt *time.Time `json:"-"`
}

// ReportCheck is one self-check result in a report.
type ReportCheck struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// ReportSummary is the denormalized view of one report that the fleet views,
// the status logic and the history charts read.
type ReportSummary struct {
	ReportID          int64      `json:"report_id"`
	ReceivedAt        time.Time  `json:"received_at"`
	ReportedAt        *time.Time `json:"reported_at,omitempty"`
	ControllerVersion string     `json:"controller_version,omitempty"`
	ControllerURL     string     `json:"controller_url,omitempty"`
	Health            string     `json:"health,omitempty"`
	MonitoringEnabled bool       `json:"monitoring_enabled"`
	Hostname          string     `json:"hostname,omitempty"`
	CPUPercent        float64    `json:"cpu_percent"`
	MemPercent        float64    `json:"mem_percent"`
	DiskPercent       float64    `json:"disk_percent"`
	ContainersTotal   int        `json:"containers_total"`
	ContainersRunning int        `json:"containers_running"`
	LastBackupAt      *time.Time `json:"last_backup_at,omitempty"`
	LastBackupStatus  string     `json:"last_backup_status,omitempty"`
}

// ParseReport decodes and validates a controller report body. Every error is
// an EINVALID *Error naming the problem.
func ParseReport(body []byte) (*Report, error) {
	var r Report
	if err := DecodeJSONObject(body, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r.Raw = json.RawMessage(body)
	return &r, nil
}

// Validate checks the fields the hub reads.
func (r *Report) Validate() error {
	if err := ValidateCustomerID(r.CustomerID); err != nil {
		return err
	}
	var err error
	if r.ReportedAt, err = ParseOptionalTime("reported_at", r.ReportedAtText); err != nil {
		return err
	}
	if b := r.Backups; b != nil {
		if b.LastBackupAt, err = ParseOptionalTime("backups.last_backup_at", b.LastBackupAtText); err != nil {
			return err
		}
		if b.LastDBDumpAt, err = ParseOptionalTime("backups.last_dbdump_at", b.LastDBDumpAtText); err != nil {
			return err
		}
	}
	switch r.Health {
	case "", HealthOK, HealthWarn, HealthFail:
	default:
		return Errorf(EINVALID, "health must be one of ok, warn, fail")
	}
	if len(r.ControllerVersion) > 64 {
		return Errorf(EINVALID, "controller_version is longer than 64 characters")
	}
	if len(r.ControllerURL) > 2048 {
		return Errorf(EINVALID, "controller_url is longer than 2048 characters")
	}
	if s := r.System; s != nil {
		for _, f := range []struct {
			name string
			v    float64
		}{
			{"system.cpu_percent", s.CPUPercent},
			{"system.mem_total_bytes", s.MemTotalBytes},
			{"system.mem_used_bytes", s.MemUsedBytes},
			{"system.uptime_seconds", s.UptimeSeconds},
			{"system.load1", s.Load1},
		} {
			if f.v < 0 {
				return Errorf(EINVALID, "%s must not be negative", f.name)
			}
		}
	}
	for i, s := range r.Storage {
		if s.TotalBytes < 0 || s.UsedBytes < 0 {
			return Errorf(EINVALID, "storage[%d]: total_bytes and used_bytes must not be negative", i)
		}
	}
	return nil
}

// Summarize returns the denormalized fields of the report.
func (r *Report) Summarize(receivedAt time.Time) ReportSummary {
	s := ReportSummary{
		ReceivedAt:        receivedAt,
		ReportedAt:        r.ReportedAt,
		ControllerVersion: r.ControllerVersion,
		ControllerURL:     r.ControllerURL,
		Health:            r.Health,
		MonitoringEnabled: r.MonitoringEnabled == nil || *r.MonitoringEnabled,
		ContainersTotal:   len(r.Containers),
	}
	if sys := r.System; sys != nil {
		s.Hostname = sys.Hostname
		s.CPUPercent = sys.CPUPercent
		s.MemPercent = percent(sys.MemUsedBytes, sys.MemTotalBytes)
	}
	for _, st := range r.Storage {
		s.DiskPercent = math.Max(s.DiskPercent, percent(st.UsedBytes, st.TotalBytes))
	}
	for _, c := range r.Containers {
		if c.State == "running" {
			s.ContainersRunning++
		}
	}
	if b := r.Backups; b != nil {
		s.LastBackupAt = b.LastBackupAt
		s.LastBackupStatus = b.LastBackupStatus
	}
	return s
}

// percent returns used/total as a percentage rounded to 0.1, 0 when total is 0.
func percent(used, total float64) float64 {
	if total <= 0 {
		return 0
	}
	return math.Round(used/total*1000) / 10
}

// ParseOptionalTime parses an RFC 3339 time named field; "" gives nil.
func ParseOptionalTime(field, text string) (*time.Time, error) {
	if text == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return nil, Errorf(EINVALID, "%s must be an RFC 3339 time such as 2026-11-22T09:45:03Z", field)
	}
	return &t, nil
}

// DecodeJSONObject decodes body, which must be exactly one JSON object, into
// v. Errors are EINVALID and name the offending field where one is known.
func DecodeJSONObject(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return Errorf(EINVALID, "request body is empty")
	}
	if trimmed[0] != '{' {
		return Errorf(EINVALID, "request body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError turns an encoding/json error into an EINVALID error naming the
// field and the expected type, without echoing the offending value.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return Errorf(EINVALID, "field %s: expected %s, got JSON %s", field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return Errorf(EINVALID, "malformed JSON at byte %d", syntaxErr.Offset)
	}
	return Errorf(EINVALID, "malformed JSON")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "float64", "float32", "int", "int64", "int32", "uint", "uint64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return fmt.Sprintf("a %s", kind)
}
