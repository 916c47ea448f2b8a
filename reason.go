package hub

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ReasonCode names why a customer has its status, for code to act on (the
// fleet's search, the API).
type ReasonCode string

// The reasons of a status. A customer that is OK has ReasonNone unless one
// of its hosts is down.
const (
	ReasonNone          ReasonCode = ""
	ReasonBlocked       ReasonCode = "blocked"
	ReasonPending       ReasonCode = "waiting_first_report"
	ReasonPaused        ReasonCode = "paused_by_operator"
	ReasonMonitoringOff ReasonCode = "monitoring_off_on_node"
	ReasonSilent        ReasonCode = "silent"
	ReasonHealthFail    ReasonCode = "health_fail"
	ReasonHealthWarn    ReasonCode = "health_warn"
	ReasonHostDown      ReasonCode = "host_down"
)

// StatusReason says why a customer has its status and since when, in a few
// words: "DOWN 2 h 14 m — silent since 09:12", "DOWN — health fail:
// disk_space (97 %)", "WARN — 2 checks warn: disk_space, containers".
type StatusReason struct {
	Status Status     `json:"status"`
	Code   ReasonCode `json:"code,omitempty"`
	// Since is when the reason began, when it is known (the last report of
	// a silent node); zero otherwise.
	Since time.Time `json:"since,omitzero"`
	// Checks are the checks that did not pass, for a health reason.
	Checks []CheckProblem `json:"checks,omitempty"`
	// HostsDown counts the customer's hosts the dead man's switch holds down.
	HostsDown int `json:"hosts_down,omitempty"`
	// Text is the reason for people; empty for an OK customer with nothing
	// to say.
	Text string `json:"text,omitempty"`
}

// CheckProblem is a check of a report that did not pass, kept with the
// report's summary so that the fleet can say which without reading bodies.
type CheckProblem struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Note is a percentage the check's message named, such as "97 %".
	Note string `json:"note,omitempty"`
}

// maxCheckProblems is how many failing checks a summary keeps by name.
const maxCheckProblems = 8

// checkPercent finds the first percentage in a check's message.
var checkPercent = regexp.MustCompile(`(\d{1,3}(?:\.\d+)?)\s?%`)

// CheckProblems returns the checks that did not pass, failures first, at
// most maxCheckProblems of them.
func CheckProblems(checks []ReportCheck) []CheckProblem {
	var out []CheckProblem
	for _, want := range []string{HealthFail, HealthWarn} {
		for _, c := range checks {
			if normalizeCheckStatus(c.Status) != want || len(out) == maxCheckProblems {
				continue
			}
			p := CheckProblem{Name: truncateRunes(c.Name, 64), Status: want}
			if m := checkPercent.FindStringSubmatch(c.Message); m != nil {
				if v, err := strconv.ParseFloat(m[1], 64); err == nil && v <= 100 {
					p.Note = m[1] + " %"
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// normalizeCheckStatus reads a check's status word as ok, warn or fail.
func normalizeCheckStatus(s string) string {
	switch strings.ToLower(s) {
	case "fail", "failed", "failure", "error", "critical", "crit":
		return HealthFail
	case "warn", "warning", "degraded":
		return HealthWarn
	}
	return HealthOK
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// EncodeCheckProblems is the stored form of check problems ("" for none).
func EncodeCheckProblems(ps []CheckProblem) string {
	if len(ps) == 0 {
		return ""
	}
	b, _ := json.Marshal(ps) // strings only: always encodes
	return string(b)
}

// DecodeCheckProblems reads EncodeCheckProblems' form; anything unreadable
// is none, so that no stored value can make a read fail.
func DecodeCheckProblems(s string) []CheckProblem {
	if s == "" {
		return nil
	}
	var ps []CheckProblem
	if json.Unmarshal([]byte(s), &ps) != nil {
		return nil
	}
	return ps
}

// Reason says why the customer has the status it has at now. loc is the
// zone of the times in the text (nil: UTC). It reads only the customer and
// its summary, so the fleet can call it for every row without a query.
func (c *Customer) Reason(now time.Time, defaults Thresholds, loc *time.Location) StatusReason {
	if loc == nil {
		loc = time.UTC
	}
	st := c.Status(now, defaults)
	r := StatusReason{Status: st, HostsDown: c.HostsDown}
	switch st {
	case StatusBlocked:
		r.Code, r.Text = ReasonBlocked, "BLOCKED — by the operator; reports are stored, nothing is notified"
		return r
	case StatusPending:
		r.Code, r.Text = ReasonPending, "PENDING — waiting for the first report"
		return r
	case StatusDisabled:
		if c.MonitoringPaused {
			r.Code, r.Text = ReasonPaused, "DISABLED — monitoring paused by the operator"
		} else {
			r.Code, r.Text = ReasonMonitoringOff, "DISABLED — monitoring is off on the node"
		}
		return r
	}
	l := c.Latest
	t := c.EffectiveThresholds(defaults)
	silent := now.Sub(l.ReceivedAt)
	switch {
	case silent > t.Down || (st == StatusWarn && silent > t.Stale):
		r.Code, r.Since = ReasonSilent, l.ReceivedAt
		r.Text = fmt.Sprintf("%s %s — silent since %s", st, HumanDuration(silent), clockOrDate(l.ReceivedAt, now, loc))
	case l.Health == HealthFail:
		r.Code, r.Checks = ReasonHealthFail, l.CheckProblems
		r.Text = string(st) + " — health fail" + checkList(l.CheckProblems, HealthFail)
	case l.Health == HealthWarn:
		r.Code, r.Checks = ReasonHealthWarn, l.CheckProblems
		n := countChecks(l.CheckProblems, HealthWarn)
		switch n {
		case 0:
			r.Text = string(st) + " — health warn"
		case 1:
			r.Text = string(st) + " — 1 check warns" + checkList(l.CheckProblems, HealthWarn)
		default:
			r.Text = fmt.Sprintf("%s — %d checks warn%s", st, n, checkList(l.CheckProblems, HealthWarn))
		}
	}
	if c.HostsDown > 0 {
		host := "host down"
		if c.HostsDown > 1 {
			host = fmt.Sprintf("%d hosts down", c.HostsDown)
		}
		if r.Code == ReasonNone {
			r.Code, r.Text = ReasonHostDown, host
		} else {
			r.Text += "; " + host
		}
	}
	return r
}

// checkList writes ": name (note), name" for the checks of one status; ""
// when there are none.
func checkList(ps []CheckProblem, status string) string {
	var names []string
	for _, p := range ps {
		if p.Status != status {
			continue
		}
		if p.Note != "" {
			names = append(names, p.Name+" ("+p.Note+")")
		} else {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return ": " + strings.Join(names, ", ")
}

func countChecks(ps []CheckProblem, status string) int {
	n := 0
	for _, p := range ps {
		if p.Status == status {
			n++
		}
	}
	return n
}

// clockOrDate writes t as "09:12" when it is within the day before now,
// with its date otherwise.
func clockOrDate(t, now time.Time, loc *time.Location) string {
	if now.Sub(t) < 20*time.Hour {
		return t.In(loc).Format("15:04")
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// HumanDuration writes d for people: "45 s", "12 m", "2 h 14 m", "3 d 4 h".
func HumanDuration(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d m", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d m", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%d d", days)
	}
	return fmt.Sprintf("%d d %d h", days, h)
}
