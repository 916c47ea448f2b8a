package web

import (
	"net/http"
	"strconv"
	"strings"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/fleet"
)

// The controller actions exist only when Plugs.Controller is set; until
// then their routes answer 404 like any unknown page. Each call is audited
// by the controller client under the session.

// controllerTarget checks the path for a controller action.
func (s *Server) controllerTarget(r *http.Request) (string, error) {
	return customerID(r)
}

func (s *Server) handleControllerPush(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	res, err := s.Plugs.Controller.Push(r.Context(), actorOf(r.Context()), id)
	if err != nil {
		s.controllerFailed(w, r, id, "Push config", err)
		return
	}
	s.Logger.Info("config pushed", "customer_id", id, "bytes", res.Bytes)
	msg := "Config pushed to the controller of " + id + " (" + strconv.Itoa(res.Bytes) + " bytes)."
	if res.ControllerMessage != "" {
		msg += " The controller answered: " + res.ControllerMessage
	}
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", msg)
}

func (s *Server) handleControllerPull(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	res, err := s.Plugs.Controller.Pull(r.Context(), actorOf(r.Context()), id)
	if err != nil {
		s.controllerFailed(w, r, id, "Pull config", err)
		return
	}
	s.Logger.Info("config pulled", "customer_id", id, "updated", strings.Join(res.Updated, ","))
	msg := "The controller's config of " + id + " matched the hub's: nothing changed."
	if len(res.Updated) > 0 {
		msg = "Imported from the controller of " + id + ": " + strings.Join(res.Updated, ", ") + "."
	}
	for _, warning := range res.Warnings {
		msg += " Note: " + warning + "."
	}
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", msg)
}

func (s *Server) handleControllerUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	// No version: the registry's latest, read when the call is made.
	res, err := s.Plugs.Controller.TriggerUpdate(r.Context(), actorOf(r.Context()), id, "")
	if err != nil {
		s.controllerFailed(w, r, id, "Trigger update", err)
		return
	}
	s.Logger.Info("controller update triggered", "customer_id", id, "version", res.Version)
	msg := "The controller of " + id + " was asked to update to " + res.Version + "."
	if res.ControllerMessage != "" {
		msg += " It answered: " + res.ControllerMessage
	}
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", msg)
}

// controllerFailed reports a failed controller call on the customer page.
// Domain errors say what went wrong; anything else is logged only.
func (s *Server) controllerFailed(w http.ResponseWriter, r *http.Request, id, action string, err error) {
	s.logControllerError(id, action, err)
	s.redirectWithFlash(w, r, "/customers/"+id, "error", action+" failed: "+hub.ErrorMessage(err))
}

// logControllerError logs a failed controller call: the hub's own faults
// as errors, the controller's and the operator's as warnings.
func (s *Server) logControllerError(id, action string, err error) {
	if hub.ErrorCode(err) == hub.EINTERNAL {
		s.Logger.Error("controller call failed", "customer_id", id, "action", action, "error", err)
		return
	}
	s.Logger.Warn("controller call failed", "customer_id", id, "action", action, "error", hub.ErrorMessage(err))
}

// DiffView is the per-key comparison of the hub's config and the live one.
type DiffView struct {
	ID   string
	Rows []DiffRow
	// Error says why there is no comparison; empty on success.
	Error string
}

// DiffRow is one differing key. Kind is added (only in the hub's config:
// a push adds it), removed (only in the live config: a push removes it) or
// changed.
type DiffRow struct {
	Key, Kind       string
	Hub, Controller string
	Secret          bool
}

// DiffPage shows the diff on its own page, for browsers without JavaScript.
type DiffPage struct {
	Page
	Diff DiffView
}

// handleControllerDiff compares the configs. It is a POST: it calls the
// controller and writes the audit log, so another site must not be able to
// make a browser do it. htmx requests get the table alone, swapped into the
// customer page, with errors in its place; other requests get a page of
// their own.
func (s *Server) handleControllerDiff(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	fragment := r.Header.Get("HX-Request") == "true"
	res, err := s.Plugs.Controller.Diff(r.Context(), actorOf(r.Context()), id)
	if err != nil {
		if !fragment {
			s.controllerFailed(w, r, id, "Show diff", err)
			return
		}
		s.logControllerError(id, "Show diff", err)
		s.render(w, r, http.StatusOK, "customer", "diff", &DiffView{ID: id, Error: "Show diff failed: " + hub.ErrorMessage(err)})
		return
	}
	view := diffView(id, res)
	if fragment {
		s.render(w, r, http.StatusOK, "customer", "diff", view)
		return
	}
	s.render(w, r, http.StatusOK, "diff", "", &DiffPage{Page: s.page(w, r, "Config diff of "+id, "customers"), Diff: *view})
}

// diffView turns the fleet's changes into table rows.
func diffView(id string, res *fleet.DiffResult) *DiffView {
	v := &DiffView{ID: id, Rows: []DiffRow{}}
	for _, c := range res.Changes {
		kind := c.Type
		switch kind {
		case configgen.Added, configgen.Removed, configgen.Changed:
		default:
			kind = configgen.Changed
		}
		v.Rows = append(v.Rows, DiffRow{Key: c.Key, Kind: kind, Hub: c.Hub, Controller: c.Live, Secret: c.Secret})
	}
	return v
}
