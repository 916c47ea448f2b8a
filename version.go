package hub

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Semver is a release version MAJOR.MINOR.PATCH.
type Semver struct {
	Major, Minor, Patch uint64
	// Pre is the pre-release part ("rc.1"), empty for a release.
	Pre string
}

// ParseSemver parses a version such as "0.8.1", "v1.2.3", "1.2.3-rc.1" or
// "1.2.3+build.7" (the build part is ignored). ok is false for anything
// else, such as "latest" or "1.2".
func ParseSemver(s string) (v Semver, ok bool) {
	s = strings.TrimPrefix(s, "v")
	s, _, _ = strings.Cut(s, "+")
	s, v.Pre, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Semver{}, false
	}
	nums := [3]*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return Semver{}, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Semver{}, false
		}
		*nums[i] = n
	}
	return v, true
}

// Less orders releases by major, minor, patch; a pre-release sorts before
// its release and pre-releases compare as text.
func (v Semver) Less(w Semver) bool {
	switch {
	case v.Major != w.Major:
		return v.Major < w.Major
	case v.Minor != w.Minor:
		return v.Minor < w.Minor
	case v.Patch != w.Patch:
		return v.Patch < w.Patch
	case v.Pre == "" || w.Pre == "":
		return v.Pre != "" && w.Pre == ""
	}
	return v.Pre < w.Pre
}

// UpdateAvailable reports whether a controller at version current is older
// than latest. Unparseable versions never claim an update.
func UpdateAvailable(current, latest string) bool {
	c, ok1 := ParseSemver(current)
	l, ok2 := ParseSemver(latest)
	return ok1 && ok2 && c.Less(l)
}

// ControllerVersion is the newest controller release in the registry.
type ControllerVersion struct {
	Image string
	// Version is the tag as the registry lists it (with or without "v").
	Version   string
	CheckedAt time.Time
}

// VersionService keeps what the registry watcher found.
type VersionService interface {
	// SetLatestControllerVersion records the newest release of an image.
	SetLatestControllerVersion(ctx context.Context, v *ControllerVersion) error
	// FindLatestControllerVersion returns the newest recorded release;
	// ENOTFOUND before the first successful check.
	FindLatestControllerVersion(ctx context.Context) (*ControllerVersion, error)
}

// AuditEntry records one operator action: who did what to which customer,
// when, and how it ended. Details never hold secrets.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	CustomerID string    `json:"customer_id,omitempty"`
	// Result is "ok" or "error".
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Audit results.
const (
	AuditOK    = "ok"
	AuditError = "error"
)

// AuditFilter selects audit entries.
type AuditFilter struct {
	CustomerID string
	// Limit is the most entries returned, newest first; 0 means 100.
	Limit int
}

// AuditService keeps the audit log.
type AuditService interface {
	CreateAuditEntry(ctx context.Context, e *AuditEntry) error
	FindAuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// RegistryAttempts is how the registry watcher's reading has gone, for the
// dashboard to say why the latest version is unknown.
type RegistryAttempts struct {
	// Configured is false when no registry image is set.
	Configured bool
	// LastAttempt is when the watcher last read the registry (zero: never);
	// LastError why that failed ("" when it did not).
	LastAttempt time.Time
	LastError   string
	// NextAttempt is when it reads the registry again.
	NextAttempt time.Time
}
