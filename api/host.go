package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	hub "github.com/felhom/hub"
)

// hostReportResponse is the control envelope a host agent gets back. The
// desired-state fields are placeholders until the later slices serve them.
type hostReportResponse struct {
	Status              string `json:"status"`
	PollIntervalSeconds int    `json:"poll_interval_seconds"`
	Blocked             bool   `json:"blocked"`
	DesiredGeneration   int64  `json:"desired_generation"`
	HasSignedOps        bool   `json:"has_signed_ops"`
	// FieldProblems tells the agent which fields the hub could not read.
	FieldProblems hub.FieldProblems `json:"field_problems,omitempty"`
}

func (s *Server) handleHostReportCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	ingest[*hub.HostReport]{
		parse:   hub.ParseHostReport,
		subject: func(report *hub.HostReport) string { return report.HostID },
		store:   s.storeHostReport,
	}.serve(s, w, r, c)
}

// storeHostReport keeps a host report and its guests; the answer is the
// agent's control envelope.
func (s *Server) storeHostReport(ctx context.Context, report *hub.HostReport) (int, any, error) {
	res, err := s.Hosts.CreateHostReport(ctx, report)
	if err != nil {
		return 0, nil, err
	}
	s.countProblems("host_report", report.Problems)
	s.markDR(res.CustomerID)
	// The report is stored; a guest that cannot be recorded must not make
	// the agent's heartbeat fail.
	for _, g := range report.Guests {
		if err := s.Hosts.UpsertGuestFromReport(ctx, report.HostID, g); err != nil {
			s.Logger.Error("guest upsert failed", "host_id", report.HostID, "vmid", g.VMID, slog.Any("error", err))
		}
	}
	return http.StatusOK, hostReportResponse{
		Status:              "ok",
		PollIntervalSeconds: int(hub.HostPollInterval / time.Second),
		Blocked:             res.CustomerBlocked,
		DesiredGeneration:   0,
		HasSignedOps:        false,
		FieldProblems:       report.Problems,
	}, nil
}

// adminHostRequest is the body of POST /api/v1/admin/hosts.
type adminHostRequest struct {
	CustomerID string `json:"customer_id"`
}

// hostIDAttempts bounds the retries when a minted host id is taken.
const hostIDAttempts = 5

// handleAdminHostCreate mints a host and its key.
//
// PROVISIONAL: the bootstrap of the host-domain ingest slice, to be removed
// or locked down when host enrollment exists.
func (s *Server) handleAdminHostCreate(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := s.readBody(w, r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req adminHostRequest
	if err := decodeStrict(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := hub.ValidateCustomerID(req.CustomerID); err != nil {
		s.writeError(w, r, err)
		return
	}
	_, err = s.Customers.FindCustomerByID(r.Context(), req.CustomerID)
	if hub.ErrorCode(err) == hub.ENOTFOUND {
		err = hub.Errorf(hub.EINVALID, "customer %s is unknown", req.CustomerID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	host, key, err := s.mintHost(r, req.CustomerID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("host registered", "host_id", host.ID, "customer_id", host.CustomerID)
	writeJSON(w, http.StatusCreated, map[string]string{"host_id": host.ID, "api_key": key})
}

// mintHost registers a host under a fresh id, never an existing one's:
// UpsertHost would rebind an existing host to the new key.
func (s *Server) mintHost(r *http.Request, customerID string) (*hub.Host, string, error) {
	for range hostIDAttempts {
		host := &hub.Host{ID: hub.NewHostID(customerID), CustomerID: customerID}
		_, err := s.Hosts.FindHostByID(r.Context(), host.ID)
		if err == nil {
			continue
		} else if hub.ErrorCode(err) != hub.ENOTFOUND {
			return nil, "", err
		}
		key := hub.NewAPIKey()
		if err := s.Hosts.UpsertHost(r.Context(), host, key); err != nil {
			return nil, "", err
		}
		return host, key, nil
	}
	return nil, "", hub.Errorf(hub.ECONFLICT, "could not mint a free host id for customer %s; try again", customerID)
}

// hostView is a host in the API, with its status.
type hostView struct {
	*hub.Host
	Status hub.Status `json:"status"`
}

// hostListResponse is a customer's hosts and their guests.
type hostListResponse struct {
	CustomerID string     `json:"customer_id"`
	Hosts      []hostView `json:"hosts"`
}

func (s *Server) handleCustomerHostList(w http.ResponseWriter, r *http.Request, c *caller) {
	id := c.customerID
	if _, err := s.Customers.FindCustomerByID(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	hosts, err := s.Hosts.FindHosts(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.Now()
	views := make([]hostView, len(hosts))
	for i, h := range hosts {
		views[i] = hostView{Host: h, Status: h.Status(now, s.HostThresholds)}
	}
	writeJSON(w, http.StatusOK, hostListResponse{CustomerID: id, Hosts: views})
}
