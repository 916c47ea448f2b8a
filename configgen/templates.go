package configgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// Templates holds the controller.yaml template the hub generates configs
// from: the last good copy fetched from URL (kept in the database), or the
// built-in default. It refreshes every Interval; a failed fetch, or one
// that returns something other than a YAML mapping, keeps the last good.
type Templates struct {
	// URL is where the template is fetched; empty means only the stored
	// or built-in template is used.
	URL string
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
	// Username and Password, when Token is empty and either is set, are
	// sent as basic auth: the registry's credentials, which Gitea accepts
	// for its raw files too.
	Username, Password string
	// HubURL, when set, is written to hub.url of every generated config
	// (server.public_url): a node set up from a staging hub reports to it.
	HubURL   string
	Interval time.Duration
	MaxBytes int64
	Timeout  time.Duration

	Store  hub.TemplateService
	Client *http.Client
	Logger *slog.Logger
	Now    func() time.Time

	mu      sync.Mutex
	current hub.Template
	status  TemplateStatus

	loop loop.Loop
}

// Sources of the template in use (TemplateStatus.Source).
const (
	// SourceBuiltIn is the template compiled into the binary.
	SourceBuiltIn = "built-in"
	// SourceStored is the last good copy kept in the database, fetched
	// by an earlier run.
	SourceStored = "stored"
	// SourceFetched is a copy this run fetched.
	SourceFetched = "fetched"
)

// TemplateStatus tells the operator where the template in use came from.
// Its URLs never carry credentials or a query.
type TemplateStatus struct {
	// Source is SourceBuiltIn, SourceStored or SourceFetched.
	Source string
	// SourceURL is where the template in use was fetched from; empty for
	// the built-in one.
	SourceURL string
	FetchedAt time.Time
	// SHA256 is the hex SHA-256 of the template in use, as fetched.
	SHA256 string
	// URL is where the template is refreshed from; empty when nowhere.
	URL string
	// LastCheck and LastError describe the latest fetch attempt; NextCheck
	// is when the next one is due (zero when the hub does not refresh).
	LastCheck time.Time
	LastError string
	NextCheck time.Time
}

// NewTemplates returns Templates serving the built-in default until Open
// loads the stored copy.
func NewTemplates(store hub.TemplateService, logger *slog.Logger) *Templates {
	t := &Templates{
		Interval: time.Hour,
		MaxBytes: MaxTemplateBytes,
		Timeout:  30 * time.Second,
		Store:    store,
		Client:   &http.Client{},
		Logger:   logger,
		Now:      time.Now,
	}
	t.current = hub.Template{Body: DefaultTemplate}
	t.status = TemplateStatus{Source: SourceBuiltIn, SHA256: sha256Hex(DefaultTemplate)}
	return t
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RedactURL returns raw without its user information, query and fragment,
// which may carry a token: the form the hub logs, stores and shows.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a valid URL)"
	}
	redacted := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	out := redacted.String()
	if u.RawQuery != "" || u.ForceQuery {
		out += "?…"
	}
	return out
}

// Open loads the last good template from the store and, when a URL is
// set, starts refreshing: once now, then every Interval.
func (t *Templates) Open(ctx context.Context) error {
	stored, err := t.Store.FindTemplate(ctx)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
	case err != nil:
		return fmt.Errorf("load template: %w", err)
	default:
		if _, perr := ParseTemplate(stored.Body); perr != nil {
			t.Logger.Warn("stored template is not usable; using the built-in one", slog.Any("error", perr))
		} else {
			t.mu.Lock()
			t.current = *stored
			t.status.Source, t.status.FetchedAt = SourceStored, stored.FetchedAt
			t.status.SHA256 = sha256Hex(stored.Body)
			if stored.SourceURL != "" {
				// Rows from before redaction may hold a query.
				t.status.SourceURL = RedactURL(stored.SourceURL)
			}
			t.mu.Unlock()
		}
	}
	if t.URL != "" {
		t.mu.Lock()
		t.status.NextCheck = t.Now().UTC()
		t.mu.Unlock()
	}
	t.logInUse()
	if t.URL == "" {
		return nil
	}
	return t.openLoop()
}

// openLoop starts refreshing: a fetch now, then one every Interval.
func (t *Templates) openLoop() error {
	interval := t.Interval
	if interval <= 0 {
		interval = time.Hour
	}
	return t.loop.Open(loop.Config{
		Run: func(ctx context.Context) error {
			// The loop times each attempt from the start of the last, so
			// the next is due one interval after this one begins.
			t.mu.Lock()
			t.status.NextCheck = t.Now().UTC().Add(interval)
			t.mu.Unlock()
			return t.Refresh(ctx)
		},
		Interval: interval,
		Logger:   t.Logger,
		Level:    slog.LevelWarn,
		Message:  "controller.yaml template fetch failed; keeping the template in use",
		Name:     "controller.yaml template fetch",
		Attrs: func() []any {
			status := t.Status()
			return []any{"url", status.URL, "source", status.Source, "sha256", status.SHA256, "retry_at", status.NextCheck}
		},
	})
}

// Close stops refreshing and waits for a fetch in flight.
func (t *Templates) Close(ctx context.Context) error { return t.loop.Close(ctx) }

// Refresh fetches the template once. On success the new template is used
// and stored; on failure the current one stays and the error is returned.
func (t *Templates) Refresh(ctx context.Context) error {
	body, err := t.fetch(ctx)
	now := t.Now().UTC()
	t.mu.Lock()
	t.status.LastCheck = now
	t.status.LastError = ""
	if err != nil {
		t.status.LastError = err.Error()
	}
	unchanged := err == nil && bytes.Equal(body, t.current.Body) && t.status.Source != SourceBuiltIn
	if unchanged {
		// The stored copy is what the URL serves now: this run has it
		// fetched, as of when it was first fetched.
		t.status.Source = SourceFetched
	}
	t.mu.Unlock()
	if err != nil || unchanged {
		return err
	}
	tmpl := hub.Template{Body: body, SourceURL: RedactURL(t.URL), FetchedAt: now}
	if err := t.Store.SaveTemplate(ctx, &tmpl); err != nil {
		// Serve it anyway: it is good, only not kept across a restart.
		err = fmt.Errorf("store template: %w", err)
		t.mu.Lock()
		t.status.LastError = err.Error()
		t.mu.Unlock()
		t.set(tmpl)
		return err
	}
	t.set(tmpl)
	t.Logger.Info("controller.yaml template updated", "source", SourceFetched, "url", tmpl.SourceURL,
		"fetched_at", now, "sha256", sha256Hex(body), "bytes", len(body))
	return nil
}

func (t *Templates) set(tmpl hub.Template) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.current = tmpl
	t.status.Source, t.status.SourceURL, t.status.FetchedAt = SourceFetched, tmpl.SourceURL, tmpl.FetchedAt
	t.status.SHA256 = sha256Hex(tmpl.Body)
}

// logInUse logs, once at start, which template the hub generates configs
// from and where it refreshes it from.
func (t *Templates) logInUse() {
	st := t.Status()
	attrs := []any{"source", st.Source, "sha256", st.SHA256}
	if st.SourceURL != "" {
		attrs = append(attrs, "url", st.SourceURL, "fetched_at", st.FetchedAt)
	}
	if st.URL != "" {
		attrs = append(attrs, "refresh_url", st.URL, "refresh_interval", t.Interval)
	} else {
		attrs = append(attrs, "refresh_url", "(none: registry.template_url and registry.image are empty)")
	}
	t.Logger.Info("controller.yaml template in use", attrs...)
}

// fetch downloads and checks the template. Errors never contain the URL,
// which may carry a token in its query.
func (t *Templates) fetch(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return nil, errors.New("template_url is not a valid URL")
	}
	switch {
	case t.Token != "":
		req.Header.Set("Authorization", "Bearer "+t.Token)
	case t.Username != "" || t.Password != "":
		req.SetBasicAuth(t.Username, t.Password)
	}
	req.Header.Set("Accept", "text/yaml, text/plain, */*")
	resp, err := t.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch template: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch template: HTTP %d", resp.StatusCode)
	}
	limit := t.MaxBytes
	if limit <= 0 || limit > MaxTemplateBytes {
		limit = MaxTemplateBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("template is larger than %d bytes", limit)
	}
	if _, err := ParseTemplate(body); err != nil {
		return nil, fmt.Errorf("fetched template rejected: %s", hub.ErrorMessage(err))
	}
	return body, nil
}

// Current returns the template in use, with hub.url set to HubURL when
// that is set: the base every config is generated from and every pull is
// compared with.
func (t *Templates) Current() hub.Template {
	t.mu.Lock()
	current := t.current
	t.mu.Unlock()
	if t.HubURL == "" {
		return current
	}
	body, err := WithHubURL(current.Body, t.HubURL)
	if err != nil {
		return current // the template was checked when it was taken in
	}
	current.Body = body
	return current
}

// Status tells where the template in use came from and how the latest
// fetch went.
func (t *Templates) Status() TemplateStatus {
	t.mu.Lock()
	st := t.status
	t.mu.Unlock()
	if t.URL != "" {
		st.URL = RedactURL(t.URL)
	}
	return st
}

// Render generates the customer's controller.yaml from the template in use.
func (t *Templates) Render(cfg *hub.CustomerConfig) ([]byte, error) {
	out, err := Generate(t.Current().Body, cfg)
	if hub.ErrorCode(err) == hub.EINVALID {
		// Overrides are checked when stored, and templates when fetched;
		// an error here is the hub's fault, not the caller's.
		return nil, fmt.Errorf("generate config for %s: %s", cfg.CustomerID, hub.ErrorMessage(err))
	}
	return out, err
}
