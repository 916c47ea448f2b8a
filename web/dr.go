package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// DRPlug feeds the disaster-recovery page, the DR section of the customer
// page and its recovery-link button. All four are set together, or none:
// then the page and the section are absent.
type DRPlug struct {
	Readiness interface {
		FindDRReadiness(ctx context.Context, customerID string) (*hub.DRReadiness, error)
		FindDRReadinesses(ctx context.Context) ([]*hub.DRReadiness, error)
	}
	Backups interface {
		FindInfraBackups(ctx context.Context, customerID string) ([]*hub.StoredInfraBackup, error)
	}
	Retrievals interface {
		FindRetrievals(ctx context.Context, customerID string, limit int) ([]*hub.Retrieval, error)
	}
	Links interface {
		MintRecoveryLink(ctx context.Context, actor, customerID, reason string, ttl time.Duration) (*hub.RecoveryLink, string, error)
	}
}

// set reports whether the plug is wired.
func (p DRPlug) set() bool {
	return p.Readiness != nil && p.Backups != nil && p.Retrievals != nil && p.Links != nil
}

// retrievalsLimit is how many retrievals the customer page lists.
const retrievalsLimit = 20

// DRPage is /dr: the fleet's readiness, worst first.
type DRPage struct {
	Page
	Rows []DRRow
	// Counts per grade.
	Ready, AtRisk, NotRecoverable int
	Unavailable                   bool
}

// DRRow is one customer on the DR page.
type DRRow struct {
	ID, Name          string
	Grade, GradeLabel string
	BundleAt          string
	BundleAge         string
	CheckedAgo        string
	Reasons           []hub.DRReason
}

// gradeLabel is a grade as people read it.
func gradeLabel(grade string) string {
	switch grade {
	case hub.DRReady:
		return "ready"
	case hub.DRAtRisk:
		return "at risk"
	case hub.DRNotRecoverable:
		return "not recoverable"
	}
	return grade
}

func (s *Server) handleDRPage(w http.ResponseWriter, r *http.Request) {
	if !s.DR.set() {
		s.handleNotFound(w, r)
		return
	}
	ctx, now := r.Context(), s.Now()
	page := &DRPage{}
	all, err := s.DR.Readiness.FindDRReadinesses(ctx)
	if err != nil {
		s.logPlugError("dr readiness", "", err)
		page.Unavailable = true
	}
	names := map[string]string{}
	if customers, err := s.Customers.FindCustomers(ctx); err == nil {
		for _, c := range customers {
			names[c.ID] = c.DisplayName
		}
	}
	hub.SortDRByRisk(all)
	for _, rd := range all {
		row := DRRow{ID: rd.CustomerID, Name: names[rd.CustomerID], Grade: rd.Grade, GradeLabel: gradeLabel(rd.Grade),
			CheckedAgo: ago(now, rd.CheckedAt), Reasons: rd.Reasons}
		if rd.BundleAt != nil {
			row.BundleAt, row.BundleAge = formatTime(*rd.BundleAt, s.Location), hub.FormatAge(now.Sub(*rd.BundleAt))
		}
		switch rd.Grade {
		case hub.DRReady:
			page.Ready++
		case hub.DRAtRisk:
			page.AtRisk++
		default:
			page.NotRecoverable++
		}
		page.Rows = append(page.Rows, row)
	}
	page.Page = s.page(w, r, "Disaster recovery", "dr")
	s.render(w, r, http.StatusOK, "dr", "", page)
}

// DRSectionView is the DR section of a managed customer's page.
type DRSectionView struct {
	ID                string
	Checked           bool
	Grade, GradeLabel string
	BundleAt          string
	BundleAge         string
	CheckedAt         string
	Reasons           []hub.DRReason
	Bundles           []DRBundleRow
	Retrievals        []RetrievalRow
	Unavailable       bool
}

// DRBundleRow is one kept recovery bundle.
type DRBundleRow struct {
	ID                  int64
	CreatedAt, Received string
	Complete            bool
	Problems            int
}

// RetrievalRow is one retrieval of the customer's config or recovery data.
type RetrievalRow struct {
	When, Ago                      string
	Resource, Via, Outcome, Client string
	Detail                         string
}

// drSection builds the DR section of a managed customer; nil when the
// plug is absent or the customer is not managed.
func (s *Server) drSection(ctx context.Context, c *hub.Customer, now time.Time) *DRSectionView {
	if !s.DR.set() || !c.Managed {
		return nil
	}
	v := &DRSectionView{ID: c.ID}
	rd, err := s.DR.Readiness.FindDRReadiness(ctx, c.ID)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
	case err != nil:
		s.logPlugError("dr readiness", c.ID, err)
		v.Unavailable = true
	default:
		v.Checked, v.Grade, v.GradeLabel, v.Reasons = true, rd.Grade, gradeLabel(rd.Grade), rd.Reasons
		v.CheckedAt = formatTime(rd.CheckedAt, s.Location)
		if rd.BundleAt != nil {
			v.BundleAt, v.BundleAge = formatTime(*rd.BundleAt, s.Location), hub.FormatAge(now.Sub(*rd.BundleAt))
		}
	}
	bundles, err := s.DR.Backups.FindInfraBackups(ctx, c.ID)
	if err != nil {
		s.logPlugError("infra backups", c.ID, err)
		v.Unavailable = true
	}
	for _, b := range bundles {
		v.Bundles = append(v.Bundles, DRBundleRow{ID: b.ID, CreatedAt: formatTime(b.CreatedAt, s.Location),
			Received: ago(now, b.ReceivedAt), Complete: len(b.Problems) == 0, Problems: len(b.Problems)})
	}
	retrievals, err := s.DR.Retrievals.FindRetrievals(ctx, c.ID, retrievalsLimit)
	if err != nil {
		s.logPlugError("retrievals", c.ID, err)
		v.Unavailable = true
	}
	for _, rt := range retrievals {
		v.Retrievals = append(v.Retrievals, RetrievalRow{When: formatTime(rt.At, s.Location), Ago: ago(now, rt.At),
			Resource: rt.Resource, Via: rt.Via, Outcome: rt.Outcome, Client: rt.Client, Detail: rt.Detail})
	}
	return v
}

// DRLinkPage shows a freshly minted recovery link, once.
type DRLinkPage struct {
	Page
	ID, URL, ExpiresAt, Reason string
}

// linkTTLs are the lifetimes the dashboard offers.
var linkTTLs = map[string]time.Duration{"1h": time.Hour, "4h": 4 * time.Hour, "24h": 24 * time.Hour}

// handleRecoveryLinkCreate mints a single-use recovery link and shows it
// on a page of its own (never in a redirect, a cookie or a log).
func (s *Server) handleRecoveryLinkCreate(w http.ResponseWriter, r *http.Request) {
	if !s.DR.set() {
		s.handleNotFound(w, r)
		return
	}
	id, err := customerID(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	ttl, ok := linkTTLs[r.PostFormValue("ttl")]
	if !ok {
		s.renderError(w, r, hub.Errorf(hub.EINVALID, "Choose how long the link stays valid: 1h, 4h or 24h."))
		return
	}
	link, token, err := s.DR.Links.MintRecoveryLink(r.Context(), actorOf(r.Context()), id, strings.TrimSpace(r.PostFormValue("reason")), ttl)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("recovery link minted", "customer_id", id, "expires_at", link.ExpiresAt)
	page := &DRLinkPage{ID: id, URL: hub.RecoveryLinkURL(s.hubURL(r), id, token),
		ExpiresAt: formatTime(link.ExpiresAt, s.Location), Reason: link.Reason}
	page.Page = s.page(w, r, "Recovery link for "+id, "customers")
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusCreated, "dr_link", "", page)
}
