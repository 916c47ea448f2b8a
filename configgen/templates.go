package configgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	hub "github.com/felhom/hub"
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
	Token    string
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

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// TemplateStatus tells the operator where the template in use came from.
type TemplateStatus struct {
	// Source is "built-in", "database" or "fetched".
	Source    string
	SourceURL string
	FetchedAt time.Time
	// LastCheck and LastError describe the latest fetch attempt.
	LastCheck time.Time
	LastError string
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
	t.status = TemplateStatus{Source: "built-in"}
	return t
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
			t.status = TemplateStatus{Source: "database", SourceURL: stored.SourceURL, FetchedAt: stored.FetchedAt}
			t.mu.Unlock()
		}
	}
	if t.URL == "" {
		return nil
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.wg.Add(1)
	go t.loop(loopCtx)
	return nil
}

// Close stops refreshing and waits for a fetch in flight.
func (t *Templates) Close(ctx context.Context) error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Templates) loop(ctx context.Context) {
	defer t.wg.Done()
	interval := t.Interval
	if interval <= 0 {
		interval = time.Hour
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := t.Refresh(ctx); err != nil && ctx.Err() == nil {
			t.Logger.Warn("template refresh failed; keeping the last good template", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

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
	unchanged := err == nil && bytes.Equal(body, t.current.Body) && t.status.Source != "built-in"
	t.mu.Unlock()
	if err != nil || unchanged {
		return err
	}
	tmpl := hub.Template{Body: body, SourceURL: t.URL, FetchedAt: now}
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
	t.Logger.Info("controller.yaml template updated", "bytes", len(body))
	return nil
}

func (t *Templates) set(tmpl hub.Template) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.current = tmpl
	t.status.Source, t.status.SourceURL, t.status.FetchedAt = "fetched", tmpl.SourceURL, tmpl.FetchedAt
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
	if t.Token != "" {
		req.Header.Set("Authorization", "Bearer "+t.Token)
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

// Current returns the template in use.
func (t *Templates) Current() hub.Template {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// Status tells where the template in use came from and how the latest
// fetch went.
func (t *Templates) Status() TemplateStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
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
