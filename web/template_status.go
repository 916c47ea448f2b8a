package web

import (
	"github.com/felhom/hub/configgen"
)

// TemplateSource tells which controller.yaml template the hub generates
// configs from (*configgen.Templates).
type TemplateSource interface {
	Status() configgen.TemplateStatus
}

// TemplateView is the controller.yaml template line at the foot of every
// page and, while a production hub serves the built-in template, the
// warning banner at its top. Its URLs are redacted by configgen.
type TemplateView struct {
	// Source is "fetched", "stored" or "built-in".
	Source    string
	SourceURL string
	FetchedAt string
	SHA256    string
	// ShortSHA256 is the first 12 hex digits, for the footer.
	ShortSHA256 string
	// URL is where the hub refreshes the template from; empty when
	// nowhere.
	URL string
	// LastError, when set, is why the latest fetch failed, at LastCheck;
	// NextCheck is when the hub tries again.
	LastError string
	LastCheck string
	NextCheck string
	// Warn is true while a production hub serves the built-in template.
	Warn bool
}

// templateView reads the template status; nil when no source is set.
func (s *Server) templateView() *TemplateView {
	if s.Templates == nil {
		return nil
	}
	st := s.Templates.Status()
	v := &TemplateView{
		Source:    st.Source,
		SourceURL: st.SourceURL,
		SHA256:    st.SHA256,
		URL:       st.URL,
		LastError: st.LastError,
		Warn:      s.Production && st.Source == configgen.SourceBuiltIn,
	}
	if len(st.SHA256) > 12 {
		v.ShortSHA256 = st.SHA256[:12]
	}
	if !st.FetchedAt.IsZero() {
		v.FetchedAt = formatTime(st.FetchedAt, s.Location)
	}
	if !st.LastCheck.IsZero() {
		v.LastCheck = formatTime(st.LastCheck, s.Location)
	}
	if !st.NextCheck.IsZero() {
		v.NextCheck = formatTime(st.NextCheck, s.Location)
	}
	return v
}
