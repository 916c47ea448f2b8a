package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// AlertActions silences and acknowledges, audited; *fleet.Service.
type AlertActions interface {
	CreateSilence(ctx context.Context, actor string, s *hub.Silence) error
	EndSilence(ctx context.Context, actor string, id int64) (*hub.Silence, error)
	Acknowledge(ctx context.Context, actor, customerID, note string) (*hub.Acknowledgement, error)
}

// AlertRow is one open problem on the Alerts page.
type AlertRow struct {
	// Kind is node, host or error (a recent error event); the noise
	// branch's kinds (incident, flapping) are rows of this same type.
	Kind       string
	CustomerID string
	Subject    string
	// HostID is set on a host's row: its silence is of the host alone.
	HostID    string
	What      string
	Since     time.Time
	SinceText string
	Ago       string
	AckedBy   string
	AckNote   string
	Silenced  bool
}

// AlertsPage is every open problem across the fleet, newest first.
type AlertsPage struct {
	Page
	Rows        []AlertRow
	Unavailable bool
}

// SilenceView is a silence as the Silences page shows it.
type SilenceView struct {
	*hub.Silence
	State      string
	Scope      string
	Window     string
	StartsText string
	EndsText   string
}

// SilencesPage lists silences by state.
type SilencesPage struct {
	Page
	Active, Upcoming, Expired []SilenceView
}

// CustomerAlerting is the customer page's alerting section: its open
// problems, its silences and the controls.
type CustomerAlerting struct {
	ID       string
	Problems []*hub.OpenProblem
	Silences []SilenceView
	Acked    bool
	AckedBy  string
	AckNote  string
}

// alertRowSources build the Alerts page's rows; each returns its rows
// and the page merges them newest first. Open incidents and flapping
// nodes are further sources.
func (s *Server) alertRowSources() []func(context.Context, time.Time) ([]AlertRow, error) {
	sources := []func(context.Context, time.Time) ([]AlertRow, error){s.problemRows, s.recentErrorRows}
	if s.Noise != nil {
		sources = append(sources, s.incidentRows, s.flappingRows)
	}
	return sources
}

// NoiseReader lists what noise control holds open: fleet incidents and
// flapping nodes and hosts; *store.DB.
type NoiseReader interface {
	FindOpenIncidents(ctx context.Context) ([]*hub.FleetIncident, error)
	FindFlapping(ctx context.Context) ([]*hub.FlappingNode, error)
}

// maxIncidentMembersShown bounds the customers an incident row names.
const maxIncidentMembersShown = 10

// incidentRows are the open fleet incidents: they belong to no customer.
func (s *Server) incidentRows(ctx context.Context, _ time.Time) ([]AlertRow, error) {
	incidents, err := s.Noise.FindOpenIncidents(ctx)
	if err != nil {
		return nil, err
	}
	var rows []AlertRow
	for _, in := range incidents {
		names := in.Members
		more := ""
		if len(names) > maxIncidentMembersShown {
			more = fmt.Sprintf(" and %d more", len(names)-maxIncidentMembersShown)
			names = names[:maxIncidentMembersShown]
		}
		rows = append(rows, AlertRow{Kind: "incident", Subject: fmt.Sprintf("#%d", in.ID),
			What: fmt.Sprintf("%d of %d reporting nodes went silent together (%d back): %s%s",
				len(in.Members), in.Reporting, in.Back, strings.Join(names, ", "), more),
			Since: in.OpenedAt})
	}
	return rows, nil
}

// flappingRows are the nodes and hosts in an open flapping episode.
func (s *Server) flappingRows(ctx context.Context, _ time.Time) ([]AlertRow, error) {
	flapping, err := s.Noise.FindFlapping(ctx)
	if err != nil {
		return nil, err
	}
	var rows []AlertRow
	for _, f := range flapping {
		host := ""
		if f.Kind == hub.WatchHost {
			host = f.ID
		}
		subject := f.Name
		if subject == "" {
			subject = f.ID
		}
		rows = append(rows, AlertRow{Kind: "flapping", CustomerID: f.CustomerID, Subject: subject, HostID: host,
			What: fmt.Sprintf("FLAPPING: %d stale/recovered transitions", f.Transitions), Since: f.Since})
	}
	return rows, nil
}

// alertRows is every open problem across the fleet, newest first.
func (s *Server) alertRows(ctx context.Context) ([]AlertRow, error) {
	now := s.Now()
	var rows []AlertRow
	for _, source := range s.alertRowSources() {
		more, err := source(ctx, now)
		if err != nil {
			return nil, err
		}
		rows = append(rows, more...)
	}
	sortRowsNewestFirst(rows)
	for i := range rows {
		rows[i].SinceText = formatTime(rows[i].Since, s.Location)
		rows[i].Ago = ago(now, rows[i].Since)
	}
	return rows, nil
}

func sortRowsNewestFirst(rows []AlertRow) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Since.After(rows[j-1].Since); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// problemRows are the nodes and hosts that are stale or down.
func (s *Server) problemRows(ctx context.Context, now time.Time) ([]AlertRow, error) {
	problems, err := s.Alerts.FindOpenProblems(ctx)
	if err != nil {
		return nil, err
	}
	active, err := s.Alerts.FindSilences(ctx, hub.SilenceFilter{State: hub.SilenceActive})
	if err != nil {
		return nil, err
	}
	var rows []AlertRow
	for _, p := range problems {
		host := ""
		if p.Kind == hub.WatchHost {
			host = p.WatchID
		}
		rows = append(rows, AlertRow{Kind: string(p.Kind), CustomerID: p.CustomerID, Subject: p.Name, HostID: host,
			What: strings.ToUpper(string(p.State)), Since: p.Since, AckedBy: p.AckedBy, AckNote: p.AckNote,
			Silenced: hub.MatchSilence(active, p.Subject(), now) != nil})
	}
	return rows, nil
}

// recentErrorRows are the error events of the last 24 hours.
func (s *Server) recentErrorRows(ctx context.Context, now time.Time) ([]AlertRow, error) {
	events, err := s.Plugs.Events.FindEvents(ctx, hub.EventFilter{Severities: []string{hub.SeverityError}, Since: now.Add(-24 * time.Hour), Limit: 50})
	if err != nil {
		return nil, err
	}
	var rows []AlertRow
	for _, e := range events {
		rows = append(rows, AlertRow{Kind: "error", CustomerID: e.CustomerID, Subject: e.Type, What: e.Message, Since: e.OccurredAt})
	}
	return rows, nil
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	page := &AlertsPage{Page: s.page(w, r, "Alerts", "alerts")}
	if s.Alerts == nil {
		page.Unavailable = true
	} else {
		rows, err := s.alertRows(r.Context())
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		page.Rows = rows
	}
	s.render(w, r, http.StatusOK, "alerts", "", page)
}

// silenceView describes a silence for the pages.
func (s *Server) silenceView(sil *hub.Silence, now time.Time) SilenceView {
	v := SilenceView{Silence: sil, State: sil.State(now), StartsText: formatTime(sil.StartsAt, s.Location), EndsText: formatTime(sil.EndsAt, s.Location)}
	var scope []string
	if sil.CustomerID != "" {
		scope = append(scope, "customer "+sil.CustomerID)
	}
	if sil.HostID != "" {
		scope = append(scope, "host "+sil.HostID)
	}
	if len(sil.EventTypes) > 0 {
		scope = append(scope, "types "+strings.Join(sil.EventTypes, ", "))
	}
	v.Scope = strings.Join(scope, " · ")
	if rec := sil.Recurrence; rec != nil {
		days := make([]string, len(rec.Weekdays))
		for i, d := range rec.Weekdays {
			days[i] = time.Weekday(d % 7).String()[:3]
		}
		v.Window = strings.Join(days, " ") + " " + rec.Start + " for " + rec.Duration + " (Europe/Budapest)"
	}
	if sil.EndedAt != nil {
		v.EndsText = formatTime(*sil.EndedAt, s.Location) + " (ended by " + sil.EndedBy + ")"
	}
	return v
}

func (s *Server) handleSilences(w http.ResponseWriter, r *http.Request) {
	if s.Alerts == nil {
		s.renderError(w, r, hub.Errorf(hub.EUNAVAILABLE, "Silences are not available on this hub."))
		return
	}
	page := &SilencesPage{Page: s.page(w, r, "Silences", "silences")}
	now := s.Now()
	for _, st := range []struct {
		state string
		into  *[]SilenceView
	}{{hub.SilenceActive, &page.Active}, {hub.SilenceUpcoming, &page.Upcoming}, {hub.SilenceExpired, &page.Expired}} {
		list, err := s.Alerts.FindSilences(r.Context(), hub.SilenceFilter{State: st.state, Limit: 100})
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		for _, sil := range list {
			*st.into = append(*st.into, s.silenceView(sil, now))
		}
	}
	s.render(w, r, http.StatusOK, "silences", "", page)
}

// silenceDurations are the form's choices.
var silenceDurations = map[string]time.Duration{"1h": time.Hour, "4h": 4 * time.Hour, "24h": 24 * time.Hour}

// handleSilenceCreate creates a silence from the "Silence…" form: a
// customer (and maybe one of its hosts), for 1 h, 4 h, 24 h or until a
// local time, with a reason.
func (s *Server) handleSilenceCreate(w http.ResponseWriter, r *http.Request) {
	if s.AlertActions == nil {
		s.renderError(w, r, hub.Errorf(hub.EUNAVAILABLE, "Silences are not available on this hub."))
		return
	}
	back := safeNext(r.PostFormValue("return"))
	now := s.Now()
	sil := &hub.Silence{CustomerID: r.PostFormValue("customer_id"), HostID: r.PostFormValue("host_id"), Reason: r.PostFormValue("reason")}
	if d, ok := silenceDurations[r.PostFormValue("for")]; ok {
		sil.EndsAt = now.Add(d)
	} else if r.PostFormValue("for") == "until" {
		loc := s.Location
		if loc == nil {
			loc = time.UTC
		}
		until, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("until"), loc)
		if err != nil {
			s.redirectWithFlash(w, r, back, "error", "Silence not created: give the end as a date and time.")
			return
		}
		sil.EndsAt = until
	} else {
		s.redirectWithFlash(w, r, back, "error", "Silence not created: choose 1 h, 4 h, 24 h or until a time.")
		return
	}
	if err := s.AlertActions.CreateSilence(r.Context(), actorOf(r.Context()), sil); err != nil {
		if hub.ErrorCode(err) == hub.EINVALID {
			s.redirectWithFlash(w, r, back, "error", "Silence not created: "+hub.ErrorMessage(err))
			return
		}
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("silence created", "silence_id", sil.ID, "customer_id", sil.CustomerID)
	s.redirectWithFlash(w, r, back, "ok", "Silence #"+strconv.FormatInt(sil.ID, 10)+" mutes "+s.silenceView(sil, now).Scope+
		" until "+formatTime(sil.EndsAt, s.Location)+".")
}

func (s *Server) handleSilenceEnd(w http.ResponseWriter, r *http.Request) {
	if s.AlertActions == nil {
		s.renderError(w, r, hub.Errorf(hub.EUNAVAILABLE, "Silences are not available on this hub."))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("silence_id"), 10, 64)
	if err != nil || id < 1 {
		s.renderError(w, r, hub.Errorf(hub.ENOTFOUND, "There is no such silence."))
		return
	}
	if _, err := s.AlertActions.EndSilence(r.Context(), actorOf(r.Context()), id); err != nil {
		if hub.ErrorCode(err) == hub.ECONFLICT {
			s.redirectWithFlash(w, r, "/silences", "error", hub.ErrorMessage(err))
			return
		}
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("silence ended", "silence_id", id)
	s.redirectWithFlash(w, r, safeNext(r.PostFormValue("return")), "ok", "Silence #"+strconv.FormatInt(id, 10)+" ended.")
}

func (s *Server) handleCustomerAck(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if s.AlertActions == nil {
		s.renderError(w, r, hub.Errorf(hub.EUNAVAILABLE, "Acknowledging is not available on this hub."))
		return
	}
	back := safeNext(r.PostFormValue("return"))
	ack, err := s.AlertActions.Acknowledge(r.Context(), actorOf(r.Context()), id, r.PostFormValue("note"))
	if err != nil {
		if c := hub.ErrorCode(err); c == hub.EINVALID || c == hub.ECONFLICT {
			s.redirectWithFlash(w, r, back, "error", hub.ErrorMessage(err))
			return
		}
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("open problems acknowledged", "customer_id", id)
	s.redirectWithFlash(w, r, back, "ok", "Acknowledged "+strconv.Itoa(len(ack.Problems))+" open problem(s) of "+id+
		": no reminders or escalation until it recovers.")
}

// customerAlerting builds the customer page's alerting section; nil when
// alerting is not plugged in or cannot be read now.
func (s *Server) customerAlerting(ctx context.Context, id string) *CustomerAlerting {
	if s.Alerts == nil {
		return nil
	}
	a := &CustomerAlerting{ID: id}
	problems, err := s.Alerts.FindOpenProblems(ctx)
	if err != nil {
		s.Logger.Error("find open problems", slog.Any("error", err))
		return nil
	}
	for _, p := range problems {
		if p.CustomerID == id {
			a.Problems = append(a.Problems, p)
			if p.Acked() {
				a.Acked, a.AckedBy, a.AckNote = true, p.AckedBy, p.AckNote
			}
		}
	}
	now := s.Now()
	for _, st := range []string{hub.SilenceActive, hub.SilenceUpcoming} {
		list, err := s.Alerts.FindSilences(ctx, hub.SilenceFilter{State: st, CustomerID: id})
		if err != nil {
			s.Logger.Error("find silences", slog.Any("error", err))
			return nil
		}
		for _, sil := range list {
			a.Silences = append(a.Silences, s.silenceView(sil, now))
		}
	}
	return a
}

// fleetMarks are, by customer, "silenced" and the acknowledging operator
// for the fleet table; empty when alerting is not plugged in.
func (s *Server) fleetMarks(ctx context.Context) (silenced map[string]bool, acked map[string]string) {
	silenced, acked = map[string]bool{}, map[string]string{}
	if s.Alerts == nil {
		return
	}
	active, err := s.Alerts.FindSilences(ctx, hub.SilenceFilter{State: hub.SilenceActive})
	if err != nil {
		s.Logger.Error("find silences", slog.Any("error", err))
		return
	}
	for _, sil := range active {
		if sil.CustomerID != "" && sil.HostID == "" && len(sil.EventTypes) == 0 {
			silenced[sil.CustomerID] = true
		}
	}
	problems, err := s.Alerts.FindOpenProblems(ctx)
	if err != nil {
		s.Logger.Error("find open problems", slog.Any("error", err))
		return
	}
	for _, p := range problems {
		if p.Acked() {
			acked[p.CustomerID] = p.AckedBy
		}
	}
	return
}

// SilenceForm is what the "Silence…" form needs.
type SilenceForm struct {
	CustomerID, HostID, Return string
}

func silenceFor(customerID, hostID, back string) SilenceForm {
	return SilenceForm{CustomerID: customerID, HostID: hostID, Return: back}
}

// SilenceList is one state's section of the Silences page.
type SilenceList struct {
	Title, ID string
	Silences  []SilenceView
}

func silenceList(title, id string, silences []SilenceView) SilenceList {
	return SilenceList{Title: title, ID: id, Silences: silences}
}
