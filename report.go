package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
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

// Report is a controller report: the fields the hub reads, as the tolerant
// reader found them, and the body as received so that nothing the
// controller sent is lost.
type Report struct {
	CustomerID        string
	ReportedAt        *time.Time // nil when absent or unreadable
	ControllerVersion string
	ControllerURL     string
	// Health is ok, warn, fail or "" (not reported).
	Health string
	// MonitoringEnabled is nil when absent or unreadable (read as true).
	MonitoringEnabled *bool
	System            *ReportSystem
	Storage           []ReportStorage
	Containers        []ReportContainer
	Backups           *ReportBackups
	Checks            []ReportCheck

	// Problems are the fields that could not be read.
	Problems FieldProblems
	// Raw is the body as received (invalid UTF-8 replaced).
	Raw json.RawMessage
}

// ReportSystem is the system section of a report. A value that could not
// be read is zero and its Has flag false.
type ReportSystem struct {
	Hostname      string
	OS            string
	UptimeSeconds float64
	CPUPercent    float64
	HasCPU        bool
	Load1         float64
	MemTotalBytes float64
	MemUsedBytes  float64
	// MemPercent is used over total; HasMem is false when it cannot be told.
	MemPercent float64
	HasMem     bool
}

// ReportStorage is one mounted disk in a report.
type ReportStorage struct {
	Mount      string
	Label      string
	UUID       string
	Role       string
	TotalBytes float64
	UsedBytes  float64
	// Percent is used over total; HasPercent is false when it cannot be told.
	Percent    float64
	HasPercent bool
}

// ReportContainer is one container in a report.
type ReportContainer struct {
	Name   string
	App    string
	Image  string
	State  string
	Health string
}

// ReportBackups is the backups section of a report.
type ReportBackups struct {
	LastBackupAt     *time.Time
	LastBackupStatus string
	LastDBDumpAt     *time.Time
	LastDBDumpStatus string
	RepositoryBytes  float64
}

// ReportCheck is one self-check result in a report.
type ReportCheck struct {
	Name    string
	Status  string
	Message string
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

	// HasCPU, HasMem and HasDisk are false when the report's value could
	// not be read: its percentage above is then 0 and means nothing.
	HasCPU  bool `json:"-"`
	HasMem  bool `json:"-"`
	HasDisk bool `json:"-"`
	// CheckProblems are the report's checks that did not pass.
	CheckProblems []CheckProblem `json:"-"`
}

// Unread metrics, as a bit set (reports.unread_metrics).
const (
	UnreadCPU  = 1
	UnreadMem  = 2
	UnreadDisk = 4
)

// UnreadMetrics returns the bit set of the metrics the report lacks.
func (s *ReportSummary) UnreadMetrics() int {
	n := 0
	if !s.HasCPU {
		n |= UnreadCPU
	}
	if !s.HasMem {
		n |= UnreadMem
	}
	if !s.HasDisk {
		n |= UnreadDisk
	}
	return n
}

// SetUnreadMetrics sets the Has flags from the bit set.
func (s *ReportSummary) SetUnreadMetrics(n int) {
	s.HasCPU, s.HasMem, s.HasDisk = n&UnreadCPU == 0, n&UnreadMem == 0, n&UnreadDisk == 0
}

// ParseReport reads a controller report with the tolerant reader: only a
// body that is not a JSON object, or a missing or invalid customer_id, is an
// error (EINVALID, naming the problem); every other field that is not as the
// contract says is left out and listed in Problems. now is the receipt time.
func ParseReport(body []byte, now time.Time) (*Report, error) {
	body = SanitizeUTF8(body)
	var rd reader
	// A well-formed body, the usual case, decodes in one pass; any other is
	// split field by field so that each problem is found and named.
	var w reportShape
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(body, &w) != nil {
		var raw reportWire
		if err := DecodeJSONObject(body, &raw); err != nil {
			return nil, err
		}
		w = raw.shape(&rd)
	}
	r := &Report{Raw: json.RawMessage(body)}
	var err error
	if r.CustomerID, err = readCustomerID(w.CustomerID); err != nil {
		return nil, err
	}
	r.ReportedAt = rd.timestamp("reported_at", w.ReportedAt)
	r.ControllerVersion = rd.line("controller_version", w.ControllerVersion, 64)
	r.ControllerURL = rd.line("controller_url", w.ControllerURL, 2048)
	r.Health = rd.health("health", w.Health)
	r.MonitoringEnabled = rd.boolean("monitoring_enabled", w.MonitoringEnabled)
	r.System = rd.system(w.System)
	r.Storage = rd.storage(w.Storage)
	r.Containers = rd.containers(w.Containers)
	r.Backups = rd.backups(w.Backups, now)
	r.Checks = rd.checks(w.Checks)
	r.Problems = rd.result()
	return r, nil
}

// reportShape is a report whose sections and lists have the contract's
// shape; its leaves are undecoded, for the reader to judge one by one.
type reportShape struct {
	CustomerID        json.RawMessage  `json:"customer_id"`
	ReportedAt        json.RawMessage  `json:"reported_at"`
	ControllerVersion json.RawMessage  `json:"controller_version"`
	ControllerURL     json.RawMessage  `json:"controller_url"`
	Health            json.RawMessage  `json:"health"`
	MonitoringEnabled json.RawMessage  `json:"monitoring_enabled"`
	System            *systemWire      `json:"system"`
	Storage           []*storageWire   `json:"storage"`
	Containers        []*containerWire `json:"containers"`
	Backups           *backupsWire     `json:"backups"`
	Checks            []*checkWire     `json:"checks"`
}

// shape reads the sections and lists of a report that did not decode in
// one pass, recording what is not as the contract says.
func (w reportWire) shape(rd *reader) reportShape {
	return reportShape{
		CustomerID: w.CustomerID, ReportedAt: w.ReportedAt, ControllerVersion: w.ControllerVersion,
		ControllerURL: w.ControllerURL, Health: w.Health, MonitoringEnabled: w.MonitoringEnabled,
		System:     sectionOf[systemWire](rd, "system", w.System),
		Storage:    listOf[storageWire](rd, "storage", w.Storage),
		Containers: listOf[containerWire](rd, "containers", w.Containers),
		Backups:    sectionOf[backupsWire](rd, "backups", w.Backups),
		Checks:     listOf[checkWire](rd, "checks", w.Checks),
	}
}

// The wire forms: every field the hub reads, undecoded, so that the reader
// can judge each one on its own.
type (
	reportWire struct {
		CustomerID        json.RawMessage `json:"customer_id"`
		ReportedAt        json.RawMessage `json:"reported_at"`
		ControllerVersion json.RawMessage `json:"controller_version"`
		ControllerURL     json.RawMessage `json:"controller_url"`
		Health            json.RawMessage `json:"health"`
		MonitoringEnabled json.RawMessage `json:"monitoring_enabled"`
		System            json.RawMessage `json:"system"`
		Storage           json.RawMessage `json:"storage"`
		Containers        json.RawMessage `json:"containers"`
		Backups           json.RawMessage `json:"backups"`
		Checks            json.RawMessage `json:"checks"`
	}
	systemWire struct {
		Hostname      json.RawMessage `json:"hostname"`
		OS            json.RawMessage `json:"os"`
		UptimeSeconds json.RawMessage `json:"uptime_seconds"`
		CPUPercent    json.RawMessage `json:"cpu_percent"`
		Load1         json.RawMessage `json:"load1"`
		MemTotalBytes json.RawMessage `json:"mem_total_bytes"`
		MemUsedBytes  json.RawMessage `json:"mem_used_bytes"`
	}
	storageWire struct {
		Mount      json.RawMessage `json:"mount"`
		Label      json.RawMessage `json:"label"`
		UUID       json.RawMessage `json:"uuid"`
		Role       json.RawMessage `json:"role"`
		TotalBytes json.RawMessage `json:"total_bytes"`
		UsedBytes  json.RawMessage `json:"used_bytes"`
	}
	containerWire struct {
		Name   json.RawMessage `json:"name"`
		App    json.RawMessage `json:"app"`
		Image  json.RawMessage `json:"image"`
		State  json.RawMessage `json:"state"`
		Health json.RawMessage `json:"health"`
	}
	backupsWire struct {
		LastBackupAt     json.RawMessage `json:"last_backup_at"`
		LastBackupStatus json.RawMessage `json:"last_backup_status"`
		LastDBDumpAt     json.RawMessage `json:"last_dbdump_at"`
		LastDBDumpStatus json.RawMessage `json:"last_dbdump_status"`
		RepositoryBytes  json.RawMessage `json:"repository_bytes"`
	}
	checkWire struct {
		Name    json.RawMessage `json:"name"`
		Status  json.RawMessage `json:"status"`
		Message json.RawMessage `json:"message"`
	}
)

// Limits of the lists of a report; the body limit bounds them too.
const (
	maxReportStorage    = 256
	maxReportContainers = 4096
	maxReportChecks     = 1024
)

// health reads a health value, case-insensitively; an unknown one is warn.
func (rd *reader) health(path string, raw json.RawMessage) string {
	s, ok := rd.rawString(path, raw)
	if !ok {
		return ""
	}
	switch h := strings.ToLower(strings.TrimSpace(s)); h {
	case "", HealthOK, HealthWarn, HealthFail:
		return h
	}
	rd.problem(path, "must be ok, warn or fail; read as warn")
	return HealthWarn
}

func (rd *reader) system(w *systemWire) *ReportSystem {
	if w == nil {
		return nil
	}
	s := &ReportSystem{
		Hostname: rd.line("system.hostname", w.Hostname, 255),
		OS:       rd.line("system.os", w.OS, 255),
	}
	s.UptimeSeconds, _ = rd.magnitude("system.uptime_seconds", w.UptimeSeconds)
	s.CPUPercent, s.HasCPU = rd.percentage("system.cpu_percent", w.CPUPercent)
	if v, ok := rd.number("system.load1", w.Load1); ok {
		if v < 0 || v > maxLoad {
			rd.problem("system.load1", "must be between 0 and %d; left out", maxLoad)
		} else {
			s.Load1 = v
		}
	}
	total, okTotal := rd.magnitude("system.mem_total_bytes", w.MemTotalBytes)
	used, okUsed := rd.magnitude("system.mem_used_bytes", w.MemUsedBytes)
	if okTotal && okUsed {
		if s.MemPercent, s.HasMem = percentOf(used, total); s.HasMem {
			s.MemTotalBytes, s.MemUsedBytes = total, used
		} else if total > 0 {
			rd.problem("system.mem_used_bytes", "larger than mem_total_bytes; memory use left out")
		}
	}
	return s
}

// maxLoad bounds a plausible load average.
const maxLoad = 1 << 20

func (rd *reader) storage(items []*storageWire) []ReportStorage {
	return collect(rd, "storage", items, maxReportStorage, func(path string, w *storageWire) ReportStorage {
		st := ReportStorage{
			Mount: rd.line(path+".mount", w.Mount, 4096),
			Label: rd.line(path+".label", w.Label, 255),
			UUID:  rd.line(path+".uuid", w.UUID, 255),
			Role:  rd.line(path+".role", w.Role, 64),
		}
		total, okTotal := rd.magnitude(path+".total_bytes", w.TotalBytes)
		used, okUsed := rd.magnitude(path+".used_bytes", w.UsedBytes)
		if okTotal && okUsed {
			st.TotalBytes, st.UsedBytes = total, used
			if st.Percent, st.HasPercent = percentOf(used, total); !st.HasPercent && total > 0 {
				rd.problem(path+".used_bytes", "larger than total_bytes; disk use left out")
			}
		}
		return st
	})
}

func (rd *reader) containers(items []*containerWire) []ReportContainer {
	return collect(rd, "containers", items, maxReportContainers, func(path string, w *containerWire) ReportContainer {
		return ReportContainer{
			Name:   rd.line(path+".name", w.Name, 255),
			App:    rd.line(path+".app", w.App, 255),
			Image:  rd.line(path+".image", w.Image, 1024),
			State:  rd.line(path+".state", w.State, 64),
			Health: rd.line(path+".health", w.Health, 64),
		}
	})
}

func (rd *reader) backups(w *backupsWire, now time.Time) *ReportBackups {
	if w == nil {
		return nil
	}
	b := &ReportBackups{
		LastBackupAt:     rd.pastTime("backups.last_backup_at", w.LastBackupAt, now),
		LastBackupStatus: rd.line("backups.last_backup_status", w.LastBackupStatus, 64),
		LastDBDumpAt:     rd.pastTime("backups.last_dbdump_at", w.LastDBDumpAt, now),
		LastDBDumpStatus: rd.line("backups.last_dbdump_status", w.LastDBDumpStatus, 64),
	}
	b.RepositoryBytes, _ = rd.magnitude("backups.repository_bytes", w.RepositoryBytes)
	return b
}

func (rd *reader) checks(items []*checkWire) []ReportCheck {
	return collect(rd, "checks", items, maxReportChecks, func(path string, w *checkWire) ReportCheck {
		return ReportCheck{
			Name:    rd.line(path+".name", w.Name, 255),
			Status:  rd.line(path+".status", w.Status, 64),
			Message: rd.text(path+".message", w.Message, 4096),
		}
	})
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
		s.CPUPercent, s.HasCPU = sys.CPUPercent, sys.HasCPU
		s.MemPercent, s.HasMem = sys.MemPercent, sys.HasMem
	}
	for _, st := range r.Storage {
		s.DiskPercent = math.Max(s.DiskPercent, st.Percent)
		s.HasDisk = s.HasDisk || st.HasPercent
	}
	s.CheckProblems = CheckProblems(r.Checks)
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

// percent returns used/total as a percentage rounded to 0.1, 0 when it
// cannot be told.
func percent(used, total float64) float64 {
	p, _ := percentOf(used, total)
	return p
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
