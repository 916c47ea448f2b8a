package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/httpx"
)

//go:embed templates
var templateFS embed.FS

// templates holds one parsed template set per page: the layout and the
// partials, plus the page's own file. They are parsed once, at start.
type templates struct {
	pages map[string]*template.Template
}

// parseTemplates parses every page under templates/ with the layout.
func parseTemplates(static *staticFiles) (*templates, error) {
	funcs := template.FuncMap{
		"static":    static.url,
		"lower":     func(s hub.Status) string { return strings.ToLower(string(s)) },
		"wordClass": wordClass,
		// alerting.go's partials
		"silenceFor":  silenceFor,
		"silenceList": silenceList,
		"plural":      plural,
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/partial_*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, file := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "templates/page_"), ".html")
		page, err := template.Must(base.Clone()).ParseFS(templateFS, file)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", file, err)
		}
		t.pages[name] = page
	}
	return t, nil
}

// render executes a page (or one of its fragments when fragment is not
// empty) into a buffer, then writes the status and the body: a template
// error never leaves a half-written page behind a 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, fragment string, data any) {
	t, ok := s.templates.pages[page]
	if !ok {
		s.serverError(w, r, fmt.Errorf("web: no page template %q", page))
		return
	}
	name := "layout"
	if fragment != "" {
		name = fragment
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		s.serverError(w, r, fmt.Errorf("web: render %s/%s: %w", page, name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages can show credentials: never keep them in a cache.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(neutralizeBidi(buf.Bytes()))
}

// serverError logs an internal error and shows a page without its details.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Error("dashboard request failed", "method", r.Method, "path", r.URL.Path, slog.Any("error", err))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprint(w, `<!doctype html><title>Error · felhom hub</title><h1>Something went wrong</h1><p>The hub could not show this page. The error is in the hub's log.</p><p><a href="/">Back to the dashboard</a></p>`)
}

// ErrorPage is the page shown for a failed request.
type ErrorPage struct {
	Page
	Status  int
	Heading string
	Message string
}

// renderError is the one error path of the pages: a domain error shows its
// message with its status; anything else is logged and shown as a 500.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpx.Status(err)
	if status == http.StatusInternalServerError || status == http.StatusBadGateway {
		s.serverError(w, r, err) // its text is for the log, not the page
		return
	}
	heading := http.StatusText(status)
	s.render(w, r, status, "error", "", &ErrorPage{
		Page:    s.page(w, r, heading, ""),
		Status:  status,
		Heading: heading,
		Message: hub.ErrorMessage(err),
	})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, hub.Errorf(hub.ENOTFOUND, "There is no page at this address."))
}

// handleCrossOriginRefused answers a state-changing request that another
// site made the browser send.
func (s *Server) handleCrossOriginRefused(w http.ResponseWriter, r *http.Request) {
	s.Logger.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	s.render(w, r, http.StatusForbidden, "error", "", &ErrorPage{
		Page:    Page{Title: "Refused", AuthEnabled: s.authEnabled(r.Context()), Version: s.Version},
		Status:  http.StatusForbidden,
		Heading: "Cross-origin request refused",
		Message: "This form was sent from another site, so the hub did not act on it. Use the hub's own pages.",
	})
}
