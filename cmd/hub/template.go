package main

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/configgen"
	"github.com/felhom/hub/registry"
)

// configureTemplates tells t where the controller.yaml template comes from
// (SPEC 2.8): registry.template_url, or else the URL derived from
// registry.image; with template_token as a Bearer token, or else the
// registry's credentials, which go only to the registry's own host.
// Generated configs point hub.url at server.public_url when it is set.
func configureTemplates(t *configgen.Templates, cfg *config.Config, logger *slog.Logger) {
	r := cfg.Registry
	t.URL, t.Token = r.TemplateURL, r.TemplateToken
	if t.URL == "" {
		t.URL = registry.TemplateURL(r.Image)
	}
	if t.Token == "" && t.URL != "" && sameHost(t.URL, registry.Host(r.Image)) {
		t.Username, t.Password = r.Username, r.Token
	}
	t.HubURL = strings.TrimRight(cfg.Server.PublicURL, "/")
	t.Interval = r.TemplateInterval.D()
	if t.URL == "" && cfg.Server.IsProduction() {
		logger.Warn("this production hub generates every controller.yaml from the template built into the binary: " +
			"set registry.template_url (or registry.image) so that it fetches the controller's own")
	}
}

// sameHost reports whether rawURL's host (with its port) is host.
func sameHost(rawURL, host string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && host != "" && strings.EqualFold(u.Host, host)
}
