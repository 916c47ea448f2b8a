package api

import (
	"net/http"
	"time"

	hub "github.com/felhom/hub"
)

// adminCustomerRequest is the body of POST /api/v1/admin/customers.
type adminCustomerRequest struct {
	CustomerID       string `json:"customer_id"`
	DisplayName      string `json:"display_name"`
	Domain           string `json:"domain"`
	Status           string `json:"status"`
	MonitoringPaused bool   `json:"monitoring_paused"`
	StaleThreshold   string `json:"stale_threshold"`
	DownThreshold    string `json:"down_threshold"`

	CloudflareTunnelToken string `json:"cloudflare_tunnel_token"`
	// Deprecated healthchecks UUIDs, kept for old controllers.
	LegacyHeartbeatUUID string `json:"legacy_heartbeat_uuid"`
	LegacyBackupUUID    string `json:"legacy_backup_uuid"`
	OverridesYAML       string `json:"overrides_yaml"`
}

// config converts the request into a config; the durations are checked here.
func (req *adminCustomerRequest) config() (*hub.CustomerConfig, error) {
	cfg := &hub.CustomerConfig{
		CustomerID:       req.CustomerID,
		DisplayName:      req.DisplayName,
		Domain:           req.Domain,
		Status:           req.Status,
		MonitoringPaused: req.MonitoringPaused,

		CloudflareTunnelToken: req.CloudflareTunnelToken,
		LegacyHeartbeatUUID:   req.LegacyHeartbeatUUID,
		LegacyBackupUUID:      req.LegacyBackupUUID,
		OverridesYAML:         req.OverridesYAML,
	}
	if cfg.Status == "" {
		cfg.Status = hub.ConfigActive
	}
	var err error
	if cfg.StaleThreshold, err = parseThreshold("stale_threshold", req.StaleThreshold); err != nil {
		return nil, err
	}
	if cfg.DownThreshold, err = parseThreshold("down_threshold", req.DownThreshold); err != nil {
		return nil, err
	}
	return cfg, nil // fleet.CreateConfig validates, and audits a refusal
}

// adminCustomerPatch is the body of PATCH /api/v1/admin/customers/{id}:
// every field is optional and only those present change. The id and the
// credentials are not editable here (rotate-key mints a new API key).
type adminCustomerPatch struct {
	DisplayName           *string `json:"display_name"`
	Domain                *string `json:"domain"`
	Status                *string `json:"status"`
	MonitoringPaused      *bool   `json:"monitoring_paused"`
	StaleThreshold        *string `json:"stale_threshold"`
	DownThreshold         *string `json:"down_threshold"`
	CloudflareTunnelToken *string `json:"cloudflare_tunnel_token"`
	LegacyHeartbeatUUID   *string `json:"legacy_heartbeat_uuid"`
	LegacyBackupUUID      *string `json:"legacy_backup_uuid"`
	OverridesYAML         *string `json:"overrides_yaml"`
}

// apply changes cfg by the fields present in the patch.
func (p *adminCustomerPatch) apply(cfg *hub.CustomerConfig) error {
	for _, f := range []struct {
		src *string
		dst *string
	}{
		{p.DisplayName, &cfg.DisplayName}, {p.Domain, &cfg.Domain}, {p.Status, &cfg.Status},
		{p.CloudflareTunnelToken, &cfg.CloudflareTunnelToken},
		{p.LegacyHeartbeatUUID, &cfg.LegacyHeartbeatUUID}, {p.LegacyBackupUUID, &cfg.LegacyBackupUUID},
		{p.OverridesYAML, &cfg.OverridesYAML},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if p.MonitoringPaused != nil {
		cfg.MonitoringPaused = *p.MonitoringPaused
	}
	var err error
	if p.StaleThreshold != nil {
		if cfg.StaleThreshold, err = parseThreshold("stale_threshold", *p.StaleThreshold); err != nil {
			return err
		}
	}
	if p.DownThreshold != nil {
		if cfg.DownThreshold, err = parseThreshold("down_threshold", *p.DownThreshold); err != nil {
			return err
		}
	}
	return nil
}

// empty reports whether the patch sets no field.
func (p *adminCustomerPatch) empty() bool {
	return *p == adminCustomerPatch{}
}

// parseThreshold parses an optional duration such as "45m"; "" is zero.
func parseThreshold(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 30*24*time.Hour {
		return 0, hub.Errorf(hub.EINVALID, "%s must be a duration between 1m and 720h, such as 45m", field)
	}
	return d, nil
}

// adminCustomerResponse is a managed customer as the admin API shows it,
// credentials included: only the global key can read it.
type adminCustomerResponse struct {
	*hub.CustomerConfig
	StaleThreshold string     `json:"stale_threshold,omitempty"`
	DownThreshold  string     `json:"down_threshold,omitempty"`
	CustomerStatus hub.Status `json:"customer_status"`
}

// adminActor is who the audit log names for actions taken with the global key.
const adminActor = "admin-api"

func (s *Server) handleAdminCustomerCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req adminCustomerRequest
	if err := decodeStrict(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg, err := req.config()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Fleet.CreateConfig(r.Context(), adminActor, cfg); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("customer config created", "customer_id", cfg.CustomerID)
	writeJSON(w, http.StatusCreated, map[string]string{
		"customer_id":        cfg.CustomerID,
		"api_key":            cfg.APIKey,
		"retrieval_password": cfg.RetrievalPassword,
	})
}

func (s *Server) handleAdminCustomerGet(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	cfg, err := s.Customers.FindCustomerConfig(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeAdminCustomer(w, r, cfg)
}

// writeAdminCustomer answers with a config and the customer's status.
func (s *Server) writeAdminCustomer(w http.ResponseWriter, r *http.Request, cfg *hub.CustomerConfig) {
	c, err := s.Customers.FindCustomerByID(r.Context(), cfg.CustomerID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := adminCustomerResponse{CustomerConfig: cfg, CustomerStatus: c.Status(s.Now(), s.Thresholds)}
	if cfg.StaleThreshold > 0 {
		resp.StaleThreshold = cfg.StaleThreshold.String()
	}
	if cfg.DownThreshold > 0 {
		resp.DownThreshold = cfg.DownThreshold.String()
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleAdminCustomerUpdate(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var patch adminCustomerPatch
	if err := decodeStrict(body, &patch); err != nil {
		s.writeError(w, r, err)
		return
	}
	if patch.empty() {
		s.writeError(w, r, hub.Errorf(hub.EINVALID, "the body sets no field to change"))
		return
	}
	cfg, err := s.Fleet.UpdateConfig(r.Context(), adminActor, id, patch.apply)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("customer config updated", "customer_id", id)
	s.writeAdminCustomer(w, r, cfg)
}

func (s *Server) handleAdminCustomerBlock(w http.ResponseWriter, r *http.Request, c *caller) {
	s.setBlocked(w, r, c.customerID, true)
}

func (s *Server) handleAdminCustomerUnblock(w http.ResponseWriter, r *http.Request, c *caller) {
	s.setBlocked(w, r, c.customerID, false)
}

func (s *Server) setBlocked(w http.ResponseWriter, r *http.Request, id string, blocked bool) {
	if err := s.Fleet.SetBlocked(r.Context(), adminActor, id, blocked); err != nil {
		s.writeError(w, r, err)
		return
	}
	status := hub.ConfigActive
	if blocked {
		status = hub.ConfigBlocked
	}
	s.Logger.Info("customer status changed", "customer_id", id, "status", status)
	writeJSON(w, http.StatusOK, map[string]string{"customer_id": id, "status": status})
}

func (s *Server) handleAdminCustomerRotateKey(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	key, err := s.Fleet.RotateKey(r.Context(), adminActor, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("customer API key rotated", "customer_id", id)
	resp := map[string]any{"customer_id": id, "api_key": key}
	// Until then the node may keep reporting with the key it has, and
	// pushes use that key (SPEC §2.1, §2.7).
	if cfg, err := s.Customers.FindCustomerConfig(r.Context(), id); err == nil && cfg.Rotation.PreviousAPIKey != "" {
		resp["previous_key_valid_until"] = cfg.Rotation.PreviousValidUntil
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleAdminCustomerDelete(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	if err := s.Fleet.DeleteConfig(r.Context(), adminActor, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("customer config deleted", "customer_id", id)
	writeJSON(w, http.StatusOK, map[string]any{"customer_id": id, "deleted": true})
}
