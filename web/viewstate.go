package web

import (
	"net/http"
	"net/url"
)

// ViewState is the state of the customer page that lives in its URL: the
// chart's period, the events' severity and the notifications' filter.
// Every link that changes one keeps the others, so that a reload or a
// shared link shows the same page.
type ViewState struct {
	ID            string
	Period        string
	Severity      string
	Notifications string
	// OOB marks a piece of a fragment that replaces its twin on the page
	// (htmx out-of-band swap).
	OOB bool
}

// viewState reads the state from the request's query; period is the
// checked chart period.
func viewState(r *http.Request, id, period string) ViewState {
	q := r.URL.Query()
	return ViewState{ID: id, Period: period, Severity: q.Get("severity"), Notifications: q.Get("notifications")}
}

// query writes the state's query, leaving out the defaults.
func (v ViewState) query() string {
	q := url.Values{}
	if v.Period != "" && v.Period != "24h" {
		q.Set("period", v.Period)
	}
	if v.Severity != "" {
		q.Set("severity", v.Severity)
	}
	if v.Notifications != "" {
		q.Set("notifications", v.Notifications)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Page is the page's own URL with this state, without a fragment.
func (v ViewState) Page() string { return "/customers/" + v.ID + v.query() }

// WithPeriod is the page's URL with another chart period.
func (v ViewState) WithPeriod(p string) string { v.Period = p; return v.Page() + "#history" }

// WithSeverity is the page's URL with another events filter.
func (v ViewState) WithSeverity(s string) string { v.Severity = s; return v.Page() + "#events" }

// WithNotifications is the page's URL with another notifications filter.
func (v ViewState) WithNotifications(f string) string {
	v.Notifications = f
	return v.Page() + "#notifications"
}

// PeriodLinks are the chart's period choices, the current one active.
func (v ViewState) PeriodLinks() []PeriodLink {
	out := make([]PeriodLink, len(historyPeriods))
	for i, hp := range historyPeriods {
		hp.Active = hp.Value == v.Period
		out[i] = hp
	}
	return out
}

// SeverityLinks are the events filter's choices, the current one active.
func (v ViewState) SeverityLinks() []FilterLink {
	out := make([]FilterLink, len(severityFilters))
	for i, f := range severityFilters {
		f.Active = f.Value == v.Severity
		out[i] = f
	}
	return out
}

// StatusFragment is what a section's fragment carries besides the section:
// the status line, swapped out of band, and the other section's links, so
// that all of them keep the state the fragment's link changed.
type StatusFragment struct {
	Reason  *ReasonView
	View    ViewState
	History *HistoryView
	Events  *EventsView
}
