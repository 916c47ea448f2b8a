package web

import (
	"net/http"

	hub "github.com/felhom/hub"
)

// The controller actions exist only when Plugs.Controller is set; until
// then their routes answer 404 like any unknown page.

// controllerTarget checks the plug and the path for a controller action.
func (s *Server) controllerTarget(r *http.Request) (string, error) {
	if s.Plugs.Controller == nil {
		return "", hub.Errorf(hub.ENOTFOUND, "There is no page at this address.")
	}
	return customerID(r)
}

func (s *Server) handleControllerPush(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Plugs.Controller.PushConfig(r.Context(), id); err != nil {
		s.controllerFailed(w, r, id, "Push config", err)
		return
	}
	s.Logger.Info("config pushed", "customer_id", id)
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", "Config pushed to the controller of "+id+".")
}

func (s *Server) handleControllerPull(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Plugs.Controller.PullConfig(r.Context(), id); err != nil {
		s.controllerFailed(w, r, id, "Pull config", err)
		return
	}
	s.Logger.Info("config pulled", "customer_id", id)
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", "The controller's config of "+id+" was imported into the hub.")
}

func (s *Server) handleControllerUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	version, err := s.Plugs.Controller.TriggerUpdate(r.Context(), id)
	if err != nil {
		s.controllerFailed(w, r, id, "Trigger update", err)
		return
	}
	s.Logger.Info("controller update triggered", "customer_id", id, "version", version)
	s.redirectWithFlash(w, r, "/customers/"+id, "ok", "The controller of "+id+" was asked to update to "+version+".")
}

// controllerFailed reports a failed controller call on the customer page.
// Domain errors say what went wrong; anything else is logged only.
func (s *Server) controllerFailed(w http.ResponseWriter, r *http.Request, id, action string, err error) {
	if hub.ErrorCode(err) == hub.EINTERNAL {
		s.Logger.Error("controller call failed", "customer_id", id, "action", action, "error", err)
	}
	s.redirectWithFlash(w, r, "/customers/"+id, "error", action+" failed: "+hub.ErrorMessage(err))
}

// DiffPage shows where the hub's config and the controller's differ.
type DiffPage struct {
	Page
	ID   string
	Rows []ConfigDiff
}

func (s *Server) handleControllerDiff(w http.ResponseWriter, r *http.Request) {
	id, err := s.controllerTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rows, err := s.Plugs.Controller.DiffConfig(r.Context(), id)
	if err != nil {
		s.controllerFailed(w, r, id, "Show diff", err)
		return
	}
	s.render(w, r, http.StatusOK, "diff", "", &DiffPage{Page: s.page(w, r, "Config diff of "+id, "customers"), ID: id, Rows: rows})
}
