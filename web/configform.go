package web

import (
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// ConfigForm holds the config form's fields as the operator typed them, so
// that a form with errors comes back with the input kept.
type ConfigForm struct {
	CustomerID       string
	DisplayName      string
	Domain           string
	Status           string
	MonitoringPaused bool
	StaleThreshold   string
	DownThreshold    string
}

// ConfigFormPage is /configs/new and /configs/{id}/edit.
type ConfigFormPage struct {
	Page
	IsNew  bool
	Action string
	Form   ConfigForm
	// Errors maps a field name to its problem; General is for the rest.
	Errors  map[string]string
	General string
	// DefaultStale and DefaultDown are the hub's thresholds, shown as
	// placeholders.
	DefaultStale string
	DefaultDown  string
}

// Threshold bounds the form accepts, as the admin API does.
const (
	minThreshold = time.Minute
	maxThreshold = 30 * 24 * time.Hour
)

// configFormFromRequest reads the posted form.
func configFormFromRequest(r *http.Request) ConfigForm {
	f := r.PostForm
	return ConfigForm{
		CustomerID:       strings.TrimSpace(f.Get("customer_id")),
		DisplayName:      strings.TrimSpace(f.Get("display_name")),
		Domain:           strings.TrimSpace(f.Get("domain")),
		Status:           f.Get("status"),
		MonitoringPaused: f.Get("monitoring_paused") == "on",
		StaleThreshold:   strings.TrimSpace(f.Get("stale_threshold")),
		DownThreshold:    strings.TrimSpace(f.Get("down_threshold")),
	}
}

// configFormFrom fills the form from a stored config.
func configFormFrom(cfg *hub.CustomerConfig) ConfigForm {
	return ConfigForm{
		CustomerID:       cfg.CustomerID,
		DisplayName:      cfg.DisplayName,
		Domain:           cfg.Domain,
		Status:           cfg.Status,
		MonitoringPaused: cfg.MonitoringPaused,
		StaleThreshold:   formatThreshold(cfg.StaleThreshold),
		DownThreshold:    formatThreshold(cfg.DownThreshold),
	}
}

// validate checks every field, returns the problems by field name and
// copies the fields into cfg. On edit cfg is the stored config, so that
// what the form does not show (the credentials) is kept.
func (f ConfigForm) validate(cfg *hub.CustomerConfig, defaults hub.Thresholds) map[string]string {
	errs := map[string]string{}
	if err := hub.ValidateCustomerID(f.CustomerID); err != nil {
		errs["customer_id"] = "Use 2 to 40 characters: a-z, 0-9 and '-'."
	}
	if len(f.DisplayName) > 200 {
		errs["display_name"] = "At most 200 characters."
	}
	if err := hub.ValidateDomain(f.Domain); err != nil {
		errs["domain"] = "Enter a DNS name such as kovacs-csalad.felhom.eu, or leave it empty."
	}
	if f.Status != hub.ConfigActive && f.Status != hub.ConfigBlocked {
		errs["status"] = "Choose active or blocked."
	}
	stale, staleErr := parseFormThreshold(f.StaleThreshold)
	if staleErr != "" {
		errs["stale_threshold"] = staleErr
	}
	down, downErr := parseFormThreshold(f.DownThreshold)
	if downErr != "" {
		errs["down_threshold"] = downErr
	}
	if staleErr == "" && downErr == "" {
		effective := (&hub.Customer{Thresholds: hub.Thresholds{Stale: stale, Down: down}}).EffectiveThresholds(defaults)
		if effective.Down <= effective.Stale {
			errs["down_threshold"] = "Must be longer than the stale threshold (" + formatThreshold(effective.Stale) + ")."
		}
	}
	cfg.CustomerID = f.CustomerID
	cfg.DisplayName = f.DisplayName
	cfg.Domain = f.Domain
	cfg.Status = f.Status
	cfg.MonitoringPaused = f.MonitoringPaused
	cfg.StaleThreshold = stale
	cfg.DownThreshold = down
	return errs
}

// parseFormThreshold parses an optional duration such as "45m" or "2h";
// empty means the hub's default.
func parseFormThreshold(s string) (time.Duration, string) {
	if s == "" {
		return 0, ""
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < minThreshold || d > maxThreshold {
		return 0, "Enter a duration between 1m and 720h, such as 45m or 2h, or leave it empty for the default."
	}
	return d, ""
}

func (s *Server) configFormPage(w http.ResponseWriter, r *http.Request, isNew bool, form ConfigForm) *ConfigFormPage {
	title, action := "Edit "+form.CustomerID, "/configs/"+form.CustomerID
	if isNew {
		title, action = "New customer config", "/configs"
	}
	return &ConfigFormPage{
		Page:         s.page(w, r, title, "customers"),
		IsNew:        isNew,
		Action:       action,
		Form:         form,
		Errors:       map[string]string{},
		DefaultStale: formatThreshold(s.Thresholds.Stale),
		DefaultDown:  formatThreshold(s.Thresholds.Down),
	}
}

func (s *Server) handleConfigNew(w http.ResponseWriter, r *http.Request) {
	form := ConfigForm{Status: hub.ConfigActive}
	if id := r.URL.Query().Get("customer_id"); hub.ValidateCustomerID(id) == nil {
		form.CustomerID = id
	}
	s.render(w, r, http.StatusOK, "config_form", "", s.configFormPage(w, r, true, form))
}

func (s *Server) handleConfigCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	form := configFormFromRequest(r)
	cfg := &hub.CustomerConfig{}
	errs := form.validate(cfg, s.Thresholds)
	if len(errs) == 0 {
		cfg.MintCredentials()
		err := s.Customers.CreateCustomerConfig(r.Context(), cfg)
		switch hub.ErrorCode(err) {
		case "":
			s.Logger.Info("customer config created", "customer_id", cfg.CustomerID)
			s.redirectWithFlash(w, r, "/customers/"+cfg.CustomerID, "ok",
				"Config for "+cfg.CustomerID+" created. Its credentials and setup steps are below.")
			return
		case hub.ECONFLICT:
			errs["customer_id"] = "This customer has a config already."
		case hub.EINVALID:
			errs[""] = hub.ErrorMessage(err)
		default:
			s.serverError(w, r, err)
			return
		}
	}
	page := s.configFormPage(w, r, true, form)
	page.Errors, page.General = errs, errs[""]
	s.render(w, r, http.StatusUnprocessableEntity, "config_form", "", page)
}

func (s *Server) handleConfigEdit(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	cfg, err := s.Customers.FindCustomerConfig(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "config_form", "", s.configFormPage(w, r, false, configFormFrom(cfg)))
}

func (s *Server) handleConfigUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	cfg, err := s.Customers.FindCustomerConfig(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	form := configFormFromRequest(r)
	form.CustomerID = id // the id is not editable: credentials are bound to it
	errs := form.validate(cfg, s.Thresholds)
	if len(errs) == 0 {
		_, err := s.Customers.UpdateCustomerConfig(r.Context(), id, func(c *hub.CustomerConfig) error {
			// Only what the form edits; the store keeps identity and credentials.
			c.DisplayName, c.Domain, c.Status = cfg.DisplayName, cfg.Domain, cfg.Status
			c.MonitoringPaused, c.StaleThreshold, c.DownThreshold = cfg.MonitoringPaused, cfg.StaleThreshold, cfg.DownThreshold
			return nil
		})
		switch hub.ErrorCode(err) {
		case "":
			s.Logger.Info("customer config updated", "customer_id", id, "status", cfg.Status)
			s.redirectWithFlash(w, r, "/customers/"+id, "ok", "Config of "+id+" saved.")
			return
		case hub.EINVALID:
			errs[""] = hub.ErrorMessage(err)
		default:
			s.renderError(w, r, err)
			return
		}
	}
	page := s.configFormPage(w, r, false, form)
	page.Errors, page.General = errs, errs[""]
	s.render(w, r, http.StatusUnprocessableEntity, "config_form", "", page)
}
