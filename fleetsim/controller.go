package fleetsim

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Controllers serves the controller API of every simulated node on one
// loopback listener: node id's controller lives under /c/{id}, so the hub
// can push, pull, diff and trigger updates for real.
type Controllers struct {
	mu      sync.Mutex
	nodes   map[string]*controllerState
	server  *http.Server
	baseURL string
}

type controllerState struct {
	key     string
	config  []byte
	version string
	applied int
	updates []string
}

// StartControllers listens on addr (e.g. 127.0.0.1:0).
func StartControllers(addr string) (*Controllers, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Controllers{nodes: map[string]*controllerState{}, baseURL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c/{id}/api/config", c.handleConfigGet)
	mux.HandleFunc("POST /c/{id}/api/config/apply", c.handleConfigApply)
	mux.HandleFunc("POST /c/{id}/api/update", c.handleUpdate)
	c.server = &http.Server{Handler: mux}
	go c.server.Serve(ln)
	return c, nil
}

// Close stops the listener.
func (c *Controllers) Close() error { return c.server.Close() }

// Add registers a node's controller and returns its base URL.
func (c *Controllers) Add(id, key, version string, config []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[id] = &controllerState{key: key, version: version, config: config}
	return c.baseURL + "/c/" + id
}

// SetKey changes the key a node's controller accepts.
func (c *Controllers) SetKey(id, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[id]; n != nil {
		n.key = key
	}
}

// Version returns the version a node's controller runs.
func (c *Controllers) Version(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[id]; n != nil {
		return n.version
	}
	return ""
}

// Config returns the config a node's controller runs.
func (c *Controllers) Config(id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[id]; n != nil {
		return n.config
	}
	return nil
}

// node authenticates a request and returns its controller's state.
func (c *Controllers) node(w http.ResponseWriter, r *http.Request) *controllerState {
	c.mu.Lock()
	n := c.nodes[r.PathValue("id")]
	c.mu.Unlock()
	if n == nil {
		http.Error(w, `{"error":"no such controller"}`, http.StatusNotFound)
		return nil
	}
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(key), []byte(n.key)) != 1 {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return nil
	}
	return n
}

func (c *Controllers) handleConfigGet(w http.ResponseWriter, r *http.Request) {
	n := c.node(w, r)
	if n == nil {
		return
	}
	c.mu.Lock()
	cfg := n.config
	c.mu.Unlock()
	w.Header().Set("Content-Type", "text/yaml")
	w.Write(cfg)
}

func (c *Controllers) handleConfigApply(w http.ResponseWriter, r *http.Request) {
	n := c.node(w, r)
	if n == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || len(body) == 0 {
		http.Error(w, `{"error":"empty config"}`, http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	n.config, n.applied = body, n.applied+1
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"applied"}`))
}

func (c *Controllers) handleUpdate(w http.ResponseWriter, r *http.Request) {
	n := c.node(w, r)
	if n == nil {
		return
	}
	var req struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Version == "" {
		http.Error(w, `{"error":"version required"}`, http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	n.version = req.Version
	n.updates = append(n.updates, req.Version)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"updating"}`))
}
