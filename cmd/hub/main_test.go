package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/config"
)

// chanDispatcher passes dispatched events to a channel.
type chanDispatcher chan *hub.Event

func (c chanDispatcher) DispatchEvent(_ context.Context, e *hub.Event) error {
	c <- e
	return nil
}

// TestMainEndToEnd boots the hub on port 0, posts a report and an event, and
// sees the event listed and handed to the dispatcher.
func TestMainEndToEnd(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.DataDir = t.TempDir()
	cfg.API.ReportAPIKey = "end-to-end-global-key"
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	dispatched := make(chanDispatcher, 10)
	m.Dispatcher = dispatched
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()

	post := func(path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+m.Addr()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cfg.API.ReportAPIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d %v, want %d", path, resp.StatusCode, out, want)
		}
		return out
	}
	post("/api/v1/report", `{"customer_id":"kovacs-csalad"}`, 200)
	created := post("/api/v1/event", `{"customer_id":"kovacs-csalad","event_type":"backup_completed","severity":"info","message":"ok"}`, 201)

	// The host domain is wired: a minted host key works on /host-report.
	minted := post("/api/v1/admin/hosts", `{"customer_id":"kovacs-csalad"}`, 201)
	req, _ := http.NewRequest("POST", "http://"+m.Addr()+"/api/v1/host-report",
		strings.NewReader(`{"host_id":"`+minted["host_id"].(string)+`"}`))
	req.Header.Set("Authorization", "Bearer "+minted["api_key"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("host-report: %d", resp.StatusCode)
	}

	select {
	case e := <-dispatched:
		if float64(e.ID) != created["id"] || e.Type != "backup_completed" {
			t.Fatalf("dispatched %+v, want event %v", e, created["id"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event not dispatched")
	}
}
