package web_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/web"
)

// fakeNoise is what noise control holds open, as the store would list it.
type fakeNoise struct {
	incidents []*hub.FleetIncident
	flapping  []*hub.FlappingNode
	err       error
}

func (f *fakeNoise) FindOpenIncidents(context.Context) ([]*hub.FleetIncident, error) {
	return f.incidents, f.err
}

func (f *fakeNoise) FindFlapping(context.Context) ([]*hub.FlappingNode, error) {
	return f.flapping, f.err
}

// The Alerts page lists open fleet incidents (no customer: no ack or
// silence control, at most ten customers named) and flapping nodes and
// hosts, newest first among the other problems.
func TestAlertsPageShowsIncidentsAndFlapping(t *testing.T) {
	noise := &fakeNoise{}
	h := mustHarness(t, func(s *web.Server, h *Harness) { s.Alerts, s.Noise = h.DB, noise })

	now := h.Clock.Now()
	members := make([]string, 12)
	for i := range members {
		members[i] = "isp-node-" + string(rune('a'+i))
	}
	noise.incidents = []*hub.FleetIncident{{ID: 7, OpenedAt: now.Add(-20 * time.Minute), Reporting: 40, Members: members, Back: 3}}
	noise.flapping = []*hub.FlappingNode{
		{Kind: hub.WatchNode, ID: "flappy", CustomerID: "flappy", Name: "flappy.example.hu", Since: now.Add(-5 * time.Minute), Transitions: 5},
		{Kind: hub.WatchHost, ID: "pve-1", CustomerID: "kovacs", Since: now.Add(-40 * time.Minute), Transitions: 4},
	}
	body := h.LoggedInClient().Get("/alerts").Body
	incident := rowWithClass(body, "alert-incident")
	expectContains(t, incident, "the fleet", "12 of 40 reporting nodes went silent together (3 back)", "isp-node-a", "isp-node-j", "and 2 more")
	if strings.Contains(incident, "isp-node-k") || strings.Contains(incident, "/ack") || strings.Contains(incident, "Silence…") {
		t.Errorf("incident row names an 11th customer or offers a control:\n%s", incident)
	}
	flappy := rowWithClass(body, "alert-flapping")
	expectContains(t, flappy, `href="/customers/flappy"`, "FLAPPING: 5 stale/recovered transitions", "Silence…")
	if strings.Contains(flappy, "Acknowledge") {
		t.Errorf("a flapping row offers an acknowledgement:\n%s", flappy)
	}
	// Newest first: the flapping node (5 min), the incident (20 min), the host (40 min).
	if a, b, c := strings.Index(body, "flappy.example.hu"), strings.Index(body, "alert-incident"), strings.Index(body, "pve-1"); !(a < b && b < c) || a < 0 {
		t.Errorf("rows not newest first: flapping %d, incident %d, host %d", a, b, c)
	}

	noise.err = errors.New("database is gone")
	if resp := h.LoggedInClient().Get("/alerts"); resp.StatusCode < http.StatusInternalServerError {
		t.Errorf("a failing noise read answered %d, want a 5xx error page", resp.StatusCode)
	}
}

// rowWithClass is the first table row of body with the class.
func rowWithClass(body, class string) string {
	i := strings.Index(body, `<tr class="`+class+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</tr>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}
