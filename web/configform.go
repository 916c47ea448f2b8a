package web

import (
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/configgen"
)

// ConfigForm holds the config form's fields as the operator typed them, so
// that a form with errors comes back with the input kept. The tunnel token
// is the exception: it is a secret and never goes back into a page.
type ConfigForm struct {
	CustomerID       string
	DisplayName      string
	Domain           string
	Status           string
	MonitoringPaused bool
	StaleThreshold   string
	DownThreshold    string

	// TunnelTokenSet says whether the stored config has a tunnel token.
	TunnelTokenSet bool
	// TunnelTokenEntered is true when the operator typed a new token into
	// a form that came back with errors: it has to be typed again.
	TunnelTokenEntered bool
	ClearTunnelToken   bool

	LegacyHeartbeatUUID string
	LegacyBackupUUID    string
	OverridesYAML       string

	// newTunnelToken is the token typed into the form; never rendered.
	newTunnelToken string
	// The thresholds once validated.
	stale, down time.Duration
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
	// ManagedKeys are the keys the overrides may not set.
	ManagedKeys []string
	// LegacyOpen opens the collapsed legacy section: it has an error.
	LegacyOpen bool
	// LegacySet counts the legacy UUIDs filled in, for the folded section.
	LegacySet int
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

		ClearTunnelToken:    f.Get("clear_cloudflare_tunnel_token") == "on",
		newTunnelToken:      strings.TrimSpace(f.Get("cloudflare_tunnel_token")),
		LegacyHeartbeatUUID: strings.TrimSpace(f.Get("legacy_heartbeat_uuid")),
		LegacyBackupUUID:    strings.TrimSpace(f.Get("legacy_backup_uuid")),
		OverridesYAML:       normalizeText(f.Get("overrides_yaml")),
	}
}

// normalizeText turns a textarea's CRLF line ends into LF, as the text is
// stored, and an all-blank text into "".
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return s
}

// configFormFrom fills the form from a stored config.
func configFormFrom(cfg *hub.CustomerConfig) ConfigForm {
	return ConfigForm{
		CustomerID:          cfg.CustomerID,
		DisplayName:         cfg.DisplayName,
		Domain:              cfg.Domain,
		Status:              cfg.Status,
		MonitoringPaused:    cfg.MonitoringPaused,
		StaleThreshold:      formatThreshold(cfg.StaleThreshold),
		DownThreshold:       formatThreshold(cfg.DownThreshold),
		TunnelTokenSet:      cfg.CloudflareTunnelToken != "",
		LegacyHeartbeatUUID: cfg.LegacyHeartbeatUUID,
		LegacyBackupUUID:    cfg.LegacyBackupUUID,
		OverridesYAML:       cfg.OverridesYAML,
	}
}

// validate checks every field and returns the problems by field name.
// The messages never hold the token.
func (f *ConfigForm) validate(defaults hub.Thresholds) map[string]string {
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
	var staleErr, downErr string
	f.stale, staleErr = parseFormThreshold(f.StaleThreshold)
	if staleErr != "" {
		errs["stale_threshold"] = staleErr
	}
	f.down, downErr = parseFormThreshold(f.DownThreshold)
	if downErr != "" {
		errs["down_threshold"] = downErr
	}
	if staleErr == "" && downErr == "" {
		effective := (&hub.Customer{Thresholds: hub.Thresholds{Stale: f.stale, Down: f.down}}).EffectiveThresholds(defaults)
		if effective.Down <= effective.Stale {
			errs["down_threshold"] = "Must be longer than the stale threshold (" + formatThreshold(effective.Stale) + ")."
		}
	}
	switch {
	case f.newTunnelToken != "" && f.ClearTunnelToken:
		errs["cloudflare_tunnel_token"] = "Enter a new token or remove the stored one, not both."
	case hub.ValidateToken("token", f.newTunnelToken) != nil:
		errs["cloudflare_tunnel_token"] = "A tunnel token is printable ASCII without spaces, at most 4096 characters."
	}
	for field, value := range map[string]string{"legacy_heartbeat_uuid": f.LegacyHeartbeatUUID, "legacy_backup_uuid": f.LegacyBackupUUID} {
		if hub.ValidateUUID(field, value) != nil {
			errs[field] = "Enter a UUID such as 8b2e6f40-1a3c-4e59-b7d2-6f9a0c1e2d33, or leave it empty."
		}
	}
	if err := configgen.ValidateOverrides(f.OverridesYAML); err != nil {
		errs["overrides_yaml"] = hub.ErrorMessage(err)
	}
	return errs
}

// apply copies the validated fields into cfg: on edit the stored config,
// so that what the form does not show (the credentials) is kept. An empty
// token field keeps the stored token.
func (f *ConfigForm) apply(cfg *hub.CustomerConfig) {
	cfg.CustomerID = f.CustomerID
	cfg.DisplayName = f.DisplayName
	cfg.Domain = f.Domain
	cfg.Status = f.Status
	cfg.MonitoringPaused = f.MonitoringPaused
	cfg.StaleThreshold = f.stale
	cfg.DownThreshold = f.down
	switch {
	case f.ClearTunnelToken:
		cfg.CloudflareTunnelToken = ""
	case f.newTunnelToken != "":
		cfg.CloudflareTunnelToken = f.newTunnelToken
	}
	cfg.LegacyHeartbeatUUID = f.LegacyHeartbeatUUID
	cfg.LegacyBackupUUID = f.LegacyBackupUUID
	cfg.OverridesYAML = f.OverridesYAML
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
	legacySet := 0
	for _, v := range []string{form.LegacyHeartbeatUUID, form.LegacyBackupUUID} {
		if v != "" {
			legacySet++
		}
	}
	return &ConfigFormPage{
		LegacySet:    legacySet,
		Page:         s.page(w, r, title, "customers"),
		IsNew:        isNew,
		Action:       action,
		Form:         form,
		Errors:       map[string]string{},
		DefaultStale: formatThreshold(s.Thresholds.Stale),
		DefaultDown:  formatThreshold(s.Thresholds.Down),
		ManagedKeys:  configgen.ManagedKeys(),
	}
}

// renderFormErrors shows the form again with its problems and the input
// kept, except a typed token.
func (s *Server) renderFormErrors(w http.ResponseWriter, r *http.Request, isNew bool, form ConfigForm, errs map[string]string) {
	form.TunnelTokenEntered = form.newTunnelToken != ""
	form.newTunnelToken = ""
	page := s.configFormPage(w, r, isNew, form)
	page.Errors, page.General = errs, errs[""]
	page.LegacyOpen = errs["legacy_heartbeat_uuid"] != "" || errs["legacy_backup_uuid"] != ""
	s.render(w, r, http.StatusUnprocessableEntity, "config_form", "", page)
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
	form.ClearTunnelToken = false // nothing stored to clear
	errs := form.validate(s.Thresholds)
	if len(errs) == 0 {
		cfg := &hub.CustomerConfig{}
		form.apply(cfg)
		err := s.Actions.CreateConfig(r.Context(), actorOf(r.Context()), cfg)
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
	s.renderFormErrors(w, r, true, form, errs)
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
	stored, err := s.Customers.FindCustomerConfig(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	form := configFormFromRequest(r)
	form.CustomerID = id // the id is not editable: credentials are bound to it
	form.TunnelTokenSet = stored.CloudflareTunnelToken != ""
	errs := form.validate(s.Thresholds)
	if len(errs) == 0 {
		_, err := s.Actions.UpdateConfig(r.Context(), actorOf(r.Context()), id, func(c *hub.CustomerConfig) error {
			form.apply(c) // the store keeps identity and credentials
			return nil
		})
		switch hub.ErrorCode(err) {
		case "":
			s.Logger.Info("customer config updated", "customer_id", id, "status", form.Status)
			s.redirectWithFlash(w, r, "/customers/"+id, "ok", "Config of "+id+" saved.")
			return
		case hub.EINVALID:
			errs[""] = hub.ErrorMessage(err)
		default:
			s.renderError(w, r, err)
			return
		}
	}
	s.renderFormErrors(w, r, false, form, errs)
}
