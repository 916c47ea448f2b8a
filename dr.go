package hub

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Disaster-recovery readiness grades (SPEC §7.3), best first.
const (
	DRReady          = "ready"
	DRAtRisk         = "at_risk"
	DRNotRecoverable = "not_recoverable"
)

// Hub-only DR event types (SPEC §7.3).
const (
	EventDRBundleStale      = "dr_bundle_stale"
	EventDRBundleIncomplete = "dr_bundle_incomplete"
	EventDRBundleDrift      = "dr_bundle_drift"
	EventDRReady            = "dr_ready"
)

// Defaults of the DR checks (dr.max_bundle_age, dr.max_restore_test_age).
const (
	DefaultMaxBundleAge      = 48 * time.Hour
	DefaultMaxRestoreTestAge = 35 * 24 * time.Hour
)

// DRReason is one thing that keeps a customer from a clean restore.
type DRReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// DRReadiness is a customer's disaster-recovery grade with its reasons
// (the shape of GET /api/v1/customers/{id}/dr).
type DRReadiness struct {
	CustomerID string     `json:"customer_id"`
	Grade      string     `json:"grade"`
	BundleAt   *time.Time `json:"bundle_at"`
	Reasons    []DRReason `json:"reasons"`
	CheckedAt  time.Time  `json:"checked_at"`
	// ChangedAt is when the grade last changed; zero for a check not stored.
	ChangedAt time.Time `json:"-"`
}

// DR reason codes. drRules below gives each its grade and the event that
// announces it; a reader can check them against issue 20's list:
// freshness, completeness, drift, restore tests.
const (
	// Freshness.
	DRNoBundle    = "no_bundle"
	DRBundleStale = "bundle_stale"
	// Completeness.
	DRBundleUnreadable         = "bundle_unreadable"
	DRControllerYAMLMissing    = "controller_yaml_missing"
	DRControllerYAMLInvalid    = "controller_yaml_invalid"
	DRControllerYAMLNoCustomer = "controller_yaml_no_customer"
	DRControllerYAMLOtherCust  = "controller_yaml_other_customer"
	DRSettingsJSONMissing      = "settings_json_missing"
	DRSettingsJSONInvalid      = "settings_json_invalid"
	DRDiskLayoutMissing        = "disk_layout_missing"
	DRStacksManifestMissing    = "stacks_manifest_missing"
	DRResticPrimaryMissing     = "restic_primary_password_missing"
	DRResticCrossDriveMissing  = "restic_cross_drive_password_missing"
	// Drift against the latest report and today's generated config.
	DRDiskNotInBundle  = "disk_not_in_bundle"
	DRDiskNotOnNode    = "disk_not_on_node"
	DRAppNotInBundle   = "app_not_in_bundle"
	DRIdentityMismatch = "identity_mismatch"
	// Restore tests, where reports carry them.
	DRRestoreTestFailed  = "restore_test_failed"
	DRRestoreTestOverdue = "restore_test_overdue"
)

// drRule is what one reason code means: the grade it forces at least and
// the event type a worsening to it raises.
type drRule struct {
	grade string
	event string
}

// drRules holds every reason code. not_recoverable: the hub lacks
// something a restore cannot do without (the bundle itself, the restic
// password that opens the backups, a bundle that is another customer's).
// at_risk: a restore works but needs hand work or may miss something.
var drRules = map[string]drRule{
	DRNoBundle:    {DRNotRecoverable, EventDRBundleIncomplete},
	DRBundleStale: {DRAtRisk, EventDRBundleStale},

	DRBundleUnreadable:         {DRNotRecoverable, EventDRBundleIncomplete},
	DRControllerYAMLMissing:    {DRAtRisk, EventDRBundleIncomplete},
	DRControllerYAMLInvalid:    {DRAtRisk, EventDRBundleIncomplete},
	DRControllerYAMLNoCustomer: {DRAtRisk, EventDRBundleIncomplete},
	DRControllerYAMLOtherCust:  {DRNotRecoverable, EventDRBundleIncomplete},
	DRSettingsJSONMissing:      {DRAtRisk, EventDRBundleIncomplete},
	DRSettingsJSONInvalid:      {DRAtRisk, EventDRBundleIncomplete},
	DRDiskLayoutMissing:        {DRAtRisk, EventDRBundleIncomplete},
	DRStacksManifestMissing:    {DRAtRisk, EventDRBundleIncomplete},
	DRResticPrimaryMissing:     {DRNotRecoverable, EventDRBundleIncomplete},
	DRResticCrossDriveMissing:  {DRAtRisk, EventDRBundleIncomplete},

	DRDiskNotInBundle:  {DRAtRisk, EventDRBundleDrift},
	DRDiskNotOnNode:    {DRAtRisk, EventDRBundleDrift},
	DRAppNotInBundle:   {DRAtRisk, EventDRBundleDrift},
	DRIdentityMismatch: {DRAtRisk, EventDRBundleDrift},

	// A restore test that failed or is overdue: the proof that a restore
	// works has gone stale.
	DRRestoreTestFailed:  {DRAtRisk, EventDRBundleStale},
	DRRestoreTestOverdue: {DRAtRisk, EventDRBundleStale},
}

// DRReasonCodes returns every reason code, sorted.
func DRReasonCodes() []string {
	out := make([]string, 0, len(drRules))
	for c := range drRules {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// DRReasonGrade returns the grade a reason code forces; "" when unknown.
func DRReasonGrade(code string) string { return drRules[code].grade }

// DRGradeRank orders grades: 0 ready, 1 at_risk, 2 not_recoverable, -1
// for anything else.
func DRGradeRank(grade string) int {
	switch grade {
	case DRReady:
		return 0
	case DRAtRisk:
		return 1
	case DRNotRecoverable:
		return 2
	}
	return -1
}

// DRIdentity is who a controller.yaml says the node is and where it
// reports. APIKey is a secret: it is compared, never shown.
type DRIdentity struct {
	CustomerID string
	Domain     string
	HubURL     string
	APIKey     string
}

// DRPart is the state of one part of a bundle.
type DRPart int

// States of a bundle part.
const (
	PartOK      DRPart = iota
	PartMissing        // absent or empty
	PartInvalid        // present but not decodable
)

// DRBundle is what the rules read from a stored recovery bundle.
type DRBundle struct {
	CreatedAt time.Time
	// Unreadable is true when the stored body is not a JSON object.
	Unreadable bool

	ControllerYAML DRPart
	// Identity is what controller.yaml says; nil unless it parses.
	Identity     *DRIdentity
	SettingsJSON DRPart
	// Disks and Stacks are nil when the bundle has no such list.
	DiskUUIDs []string
	Apps      []string
	HasDisks  bool
	HasStacks bool
	// Restic passwords present and not empty.
	PrimaryPassword    bool
	CrossDrivePassword bool
}

// DRNode is what the rules read from the node's latest report.
type DRNode struct {
	ReportedAt time.Time
	// DataDiskUUIDs are the UUIDs of the mounted disks that are not the
	// system disk.
	DataDiskUUIDs []string
	// Apps are the apps of the node's containers.
	Apps []string
}

// RestoreTest is one restore test a report carries.
type RestoreTest struct {
	TestedAt time.Time
	OK       bool
}

// DRFacts is everything the rules look at for one customer.
type DRFacts struct {
	CustomerID string
	Now        time.Time
	// MaxBundleAge and MaxRestoreTestAge: zero means the defaults.
	MaxBundleAge      time.Duration
	MaxRestoreTestAge time.Duration
	// Bundle is nil when the customer has none.
	Bundle *DRBundle
	// Node is nil when the customer has not reported.
	Node *DRNode
	// Expected is the identity of the controller.yaml the hub generates
	// today; nil when it cannot be generated (then it is not compared).
	Expected *DRIdentity
	// RestoreTests are those the latest reports carry; none means the
	// node's agents do not run them, and nothing is judged.
	RestoreTests []RestoreTest
}

// EvaluateDR grades a customer's disaster-recovery readiness. It is pure:
// the rules are the checks below, in the order of issue 20, each adding
// at most a few reasons; the grade is the worst of the reasons' grades.
func EvaluateDR(f DRFacts) DRReadiness {
	r := DRReadiness{CustomerID: f.CustomerID, CheckedAt: f.Now.UTC(), Reasons: []DRReason{}}
	add := func(code, format string, args ...any) {
		r.Reasons = append(r.Reasons, DRReason{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	maxAge := f.MaxBundleAge
	if maxAge <= 0 {
		maxAge = DefaultMaxBundleAge
	}
	maxTestAge := f.MaxRestoreTestAge
	if maxTestAge <= 0 {
		maxTestAge = DefaultMaxRestoreTestAge
	}
	b := f.Bundle
	switch {
	case b == nil:
		add(DRNoBundle, "the hub holds no recovery bundle: the controller has not posted an infra-backup")
	case b.Unreadable:
		at := b.CreatedAt.UTC()
		r.BundleAt = &at
		add(DRBundleUnreadable, "the latest recovery bundle cannot be read")
	default:
		at := b.CreatedAt.UTC()
		r.BundleAt = &at
		// Freshness.
		if age := f.Now.Sub(b.CreatedAt); age > maxAge {
			add(DRBundleStale, "the latest bundle is %s old (more than %s)", FormatAge(age), FormatAge(maxAge))
		}
		checkCompleteness(b, f.CustomerID, add)
		checkDrift(b, f.Node, f.Expected, add)
	}
	checkRestoreTests(f.RestoreTests, f.Now, maxTestAge, add)

	r.Grade = DRReady
	for _, reason := range r.Reasons {
		if g := drRules[reason.Code].grade; DRGradeRank(g) > DRGradeRank(r.Grade) {
			r.Grade = g
		}
	}
	return r
}

// checkCompleteness: controller.yaml and settings.json present and
// decodable (the YAML names this customer), disk layout and stacks
// manifest present, both restic passwords present and non-empty.
func checkCompleteness(b *DRBundle, customerID string, add func(code, format string, args ...any)) {
	switch {
	case b.ControllerYAML == PartMissing:
		add(DRControllerYAMLMissing, "controller.yaml is missing from the bundle")
	case b.ControllerYAML == PartInvalid || b.Identity == nil:
		add(DRControllerYAMLInvalid, "controller.yaml in the bundle does not decode to a YAML mapping")
	case b.Identity.CustomerID == "":
		add(DRControllerYAMLNoCustomer, "controller.yaml in the bundle does not name the customer (customer.id)")
	case b.Identity.CustomerID != customerID:
		add(DRControllerYAMLOtherCust, "controller.yaml in the bundle names another customer (%s)", b.Identity.CustomerID)
	}
	switch b.SettingsJSON {
	case PartMissing:
		add(DRSettingsJSONMissing, "settings.json is missing from the bundle")
	case PartInvalid:
		add(DRSettingsJSONInvalid, "settings.json in the bundle does not decode to JSON")
	}
	if !b.HasDisks {
		add(DRDiskLayoutMissing, "the bundle has no disk layout (disks)")
	}
	if !b.HasStacks {
		add(DRStacksManifestMissing, "the bundle has no stacks manifest (stacks)")
	}
	if !b.PrimaryPassword {
		add(DRResticPrimaryMissing, "the restic primary password is missing or empty: the backups cannot be opened")
	}
	if !b.CrossDrivePassword {
		add(DRResticCrossDriveMissing, "the restic cross-drive password is missing or empty: the cross-drive copies cannot be opened")
	}
}

// checkDrift: every data disk the node reports is in the bundle and every
// bundle disk is on the node; every app the node runs is in the stacks
// manifest; controller.yaml's identity is the one the hub generates today.
func checkDrift(b *DRBundle, node *DRNode, expected *DRIdentity, add func(code, format string, args ...any)) {
	if node != nil {
		if missing := setMinus(node.DataDiskUUIDs, b.DiskUUIDs); len(missing) > 0 && b.HasDisks {
			add(DRDiskNotInBundle, "the node reports data disks the bundle lacks: %s", strings.Join(missing, ", "))
		}
		if gone := setMinus(b.DiskUUIDs, node.DataDiskUUIDs); len(gone) > 0 {
			add(DRDiskNotOnNode, "the bundle has disks the node no longer reports: %s", strings.Join(gone, ", "))
		}
		if missing := setMinus(node.Apps, b.Apps); len(missing) > 0 && b.HasStacks {
			add(DRAppNotInBundle, "the node runs apps the stacks manifest lacks: %s", strings.Join(missing, ", "))
		}
	}
	if expected != nil && b.Identity != nil {
		var differ []string
		if b.Identity.CustomerID != "" && b.Identity.CustomerID != expected.CustomerID {
			differ = append(differ, "customer id")
		}
		if b.Identity.Domain != expected.Domain {
			differ = append(differ, "domain")
		}
		if strings.TrimRight(b.Identity.HubURL, "/") != strings.TrimRight(expected.HubURL, "/") {
			differ = append(differ, "hub URL")
		}
		if !SecretEqual(b.Identity.APIKey, expected.APIKey) {
			differ = append(differ, "hub API key")
		}
		if len(differ) > 0 {
			add(DRIdentityMismatch, "controller.yaml in the bundle differs from the config the hub generates today in: %s", strings.Join(differ, ", "))
		}
	}
}

// checkRestoreTests judges the latest restore test and the last
// successful one; no tests at all is not judged.
func checkRestoreTests(tests []RestoreTest, now time.Time, maxAge time.Duration, add func(code, format string, args ...any)) {
	if len(tests) == 0 {
		return
	}
	latest, lastOK := tests[0], time.Time{}
	for _, t := range tests {
		if t.TestedAt.After(latest.TestedAt) {
			latest = t
		}
		if t.OK && t.TestedAt.After(lastOK) {
			lastOK = t.TestedAt
		}
	}
	if !latest.OK {
		add(DRRestoreTestFailed, "the latest restore test (%s) failed", latest.TestedAt.UTC().Format(time.RFC3339))
	}
	switch {
	case lastOK.IsZero():
		add(DRRestoreTestOverdue, "no restore test has succeeded")
	case now.Sub(lastOK) > maxAge:
		add(DRRestoreTestOverdue, "the last successful restore test is %s old (more than %s)", FormatAge(now.Sub(lastOK)), FormatAge(maxAge))
	}
}

// LastRestoreTestOK returns the time of the latest successful test; zero
// when none.
func LastRestoreTestOK(tests []RestoreTest) time.Time {
	var last time.Time
	for _, t := range tests {
		if t.OK && t.TestedAt.After(last) {
			last = t.TestedAt
		}
	}
	return last
}

// setMinus returns the sorted distinct items of a that are not in b.
func setMinus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if x != "" && !slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// FormatAge writes a duration in days and hours, such as "3d 4h" or "5h".
func FormatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", int(d/time.Minute))
}

// DRTransition returns the hub event a grade change raises, or nil: a
// worse grade raises the event of its worst reason (dr_bundle_stale,
// dr_bundle_incomplete or dr_bundle_drift), a return to ready raises
// dr_ready. Like the dead man's switch, which skips nodes that never
// reported, it stays silent for a customer that has never had a bundle:
// until the first one arrives the grade is shown, not announced; then a
// customer with no earlier grade (or none with a bundle) counts as ready
// before. It is pure; the store calls it inside the transaction that
// stores next.
func DRTransition(prev *DRReadiness, next DRReadiness) *Event {
	waiting := prev == nil || prev.BundleAt == nil
	if waiting && next.BundleAt == nil {
		return nil
	}
	before := DRReady
	if !waiting {
		before = prev.Grade
	}
	if before == next.Grade {
		return nil
	}
	e := &Event{CustomerID: next.CustomerID, Source: SourceHub, OccurredAt: next.CheckedAt,
		DedupeKey: fmt.Sprintf("dr:%s:%s:%s:%d", next.CustomerID, before, next.Grade, next.CheckedAt.UnixMilli())}
	if next.Grade == DRReady {
		e.Type, e.Severity = EventDRReady, SeverityInfo
		e.Message = "Disaster recovery is ready again: the latest bundle would bring the node back."
		return e
	}
	if DRGradeRank(next.Grade) < DRGradeRank(before) {
		return nil // better, but not yet ready: nothing to announce
	}
	e.Severity = SeverityWarning
	if next.Grade == DRNotRecoverable {
		e.Severity = SeverityError
	}
	e.Type = EventDRBundleIncomplete
	worst := -1
	var messages []string
	for _, reason := range next.Reasons {
		rule := drRules[reason.Code]
		if rank := DRGradeRank(rule.grade); rank > worst {
			worst, e.Type = rank, rule.event
		}
		messages = append(messages, reason.Message)
	}
	e.Message = fmt.Sprintf("Disaster recovery is %s: %s.", strings.ReplaceAll(next.Grade, "_", " "), strings.Join(messages, "; "))
	if len(e.Message) > MaxEventMessageChars {
		e.Message = e.Message[:MaxEventMessageChars-3] + "..."
	}
	return e
}

// SortDRByRisk orders readiness records worst first, then by bundle age
// (oldest or missing first), then by customer id.
func SortDRByRisk(rs []*DRReadiness) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if ra, rb := DRGradeRank(a.Grade), DRGradeRank(b.Grade); ra != rb {
			return ra > rb
		}
		switch {
		case a.BundleAt == nil && b.BundleAt != nil:
			return true
		case a.BundleAt != nil && b.BundleAt == nil:
			return false
		case a.BundleAt != nil && !a.BundleAt.Equal(*b.BundleAt):
			return a.BundleAt.Before(*b.BundleAt)
		}
		return a.CustomerID < b.CustomerID
	})
}

// DRService keeps each customer's last readiness and announces changes.
type DRService interface {
	// SaveDRReadiness stores r as the customer's readiness and, in the same
	// transaction, the event DRTransition derives from the stored one. A
	// concurrent save of the same customer by another replica wins; then
	// nothing is stored and the returned event is nil.
	SaveDRReadiness(ctx context.Context, r *DRReadiness) (*Event, error)
	// FindDRReadiness returns a customer's stored readiness; ENOTFOUND when
	// it has not been checked.
	FindDRReadiness(ctx context.Context, customerID string) (*DRReadiness, error)
	// FindDRReadinesses returns the stored readiness of every managed
	// customer.
	FindDRReadinesses(ctx context.Context) ([]*DRReadiness, error)
}

// DREventType reports whether t is a DR readiness event. They go to the
// operator only: the DR events speak of restic passwords and bundles, which are the
// operator's business, not the household's.
func DREventType(t string) bool {
	switch t {
	case EventDRBundleStale, EventDRBundleIncomplete, EventDRBundleDrift, EventDRReady:
		return true
	}
	return false
}
