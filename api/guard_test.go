package api_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
)

// bodyNamesSubject reports whether rt's customer or host is named only in
// its body: there the wrapper admits any key of the class, and the ingest
// handler refuses another customer's or host's once it has parsed the body
// (TestAuthMatrix holds it to its 403).
func bodyNamesSubject(rt api.Route) bool {
	return (rt.Auth == api.AuthCustomer || rt.Auth == api.AuthHost) && !strings.Contains(rt.Path, "{id}")
}

// TestGuardEnforcesDeclaredAuth registers every route of the table with a
// handler that checks nothing, as one that forgot to would, and calls each
// with every credential: the wrapper alone must give the answer the
// route's auth class demands, reach the handler only when it may act, and
// hand it who the request acts as.
func TestGuardEnforcesDeclaredAuth(t *testing.T) {
	m := newMatrixHub(t)
	mux := http.NewServeMux()
	var reached []api.Admitted
	m.api.RegisterForgetful(mux, func(_ api.Route, a api.Admitted) { reached = append(reached, a) })
	m.mux = api.Middleware(slog.New(slog.DiscardHandler), mux)
	rows := m.rows()
	for _, rt := range m.api.Routes() {
		row, ok := rows[rt.Pattern()]
		if !ok {
			t.Fatalf("route %s has no row in the auth matrix", rt.Pattern())
		}
		if bodyNamesSubject(rt) && !rt.Body {
			t.Errorf("%s names its customer in no path and reads no body: nothing can check it", rt.Pattern())
		}
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		for _, cred := range credentials {
			want := expectedStatus(rt.Auth, cred, http.StatusOK)
			if want == http.StatusForbidden && bodyNamesSubject(rt) && (cred == credOther || cred == credOtherHost) {
				want = http.StatusOK
			}
			body := ""
			if row.body != nil {
				body = row.body(cred)
			}
			reached = reached[:0]
			answers := m.call(method, row.pathOf(cred), body, cred)
			served := 0
			for _, a := range answers {
				a.resp.Body.Close()
				if a.resp.StatusCode != want {
					t.Errorf("%s as %s %s: status %d, want %d", rt.Pattern(), cred, a.header, a.resp.StatusCode, want)
				}
				if a.resp.StatusCode == http.StatusOK {
					served++
				}
			}
			if len(reached) != served {
				t.Errorf("%s as %s: the handler ran %d times for %d answers of 200", rt.Pattern(), cred, len(reached), served)
			}
			for _, got := range reached {
				if want := m.admitted(rt, cred, got.PathID); got != want {
					t.Errorf("%s as %s: the handler was handed %+v, want %+v", rt.Pattern(), cred, got, want)
				}
			}
		}
	}
}

// admitted is what the wrapper must hand the handler of rt for cred, on a
// path whose {id} is pathID.
func (m *matrixHub) admitted(rt api.Route, cred, pathID string) api.Admitted {
	want := api.Admitted{PathID: pathID, Holder: "address:198.51.100.7"}
	switch rt.Auth {
	case api.AuthPublic:
		return want // a key sent to a public route is not looked at
	case api.AuthRetrieval:
		want.PathCustomer = pathID
		return want
	}
	if strings.Contains(rt.Path, "{id}") {
		want.PathCustomer = pathID
	}
	switch cred {
	case credGlobal:
		want.Global = true
	case credOwn:
		want.CustomerID, want.Holder = ownID, "customer:"+ownID
	case credOther:
		want.CustomerID, want.Holder = otherID, "customer:"+otherID
	case credHost:
		want.HostID, want.Holder = m.secrets["host id"], "customer:"+ownID
	case credOtherHost:
		want.HostID, want.Holder = m.otherHostID, "customer:"+otherID
	case credReadToken:
		want.Actor = "token:reader"
	case credAdminToken:
		want.Actor = "token:deployer"
	case credBootstrap:
		want.Actor = "token:api.admin_api_key"
	case credViewerCookie:
		want.Actor = "operator:viewer-operator"
	case credAdminCookie:
		want.Actor = "operator:admin-operator"
	}
	return want
}

// TestRegisterRefusesUnknownAuth: a route whose auth class the wrapper
// does not know is never served unchecked; Register refuses to start.
func TestRegisterRefusesUnknownAuth(t *testing.T) {
	defer func() {
		if v := recover(); !strings.Contains(fmt.Sprint(v), "unknown auth class") {
			t.Errorf("a route with an unknown auth class was registered (recovered %v)", v)
		}
	}()
	s := &api.Server{RateLimits: unusedRateLimits{}, Audit: struct{ hub.AuditService }{}, Versions: struct{ hub.VersionService }{}}
	s.RegisterRoutes(http.NewServeMux(), []api.Route{{Method: "GET", Path: "/api/v1/unguarded", Auth: "session"}})
}

// unusedRateLimits satisfies Server.RateLimits where no limit is consulted.
type unusedRateLimits struct{ hub.RateLimitService }
