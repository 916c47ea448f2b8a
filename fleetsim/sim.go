package fleetsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Behaviour is how a simulated node acts over time.
type Behaviour string

// The behaviours a fleet mixes, so that a demo shows every status.
const (
	Steady  Behaviour = "steady"  // reports every interval
	Silent  Behaviour = "silent"  // reported once, then went quiet (DOWN)
	Warning Behaviour = "warning" // reports a filling disk: health warn (WARN)
	Flappy  Behaviour = "flappy"  // misses reports now and then
	Paused  Behaviour = "paused"  // monitoring_enabled=false (DISABLED)
	Blocked Behaviour = "blocked" // blocked by the operator, still reports
	Manual  Behaviour = "manual"  // reports under the global key, no config
	Pending Behaviour = "pending" // has a config, never reports
)

// pattern spreads behaviours over the fleet: every run of 20 customers
// holds each of them, so even a small demo fleet shows every status.
var pattern = []Behaviour{
	Steady, Steady, Warning, Steady, Silent, Steady, Paused, Steady, Manual, Steady,
	Flappy, Steady, Blocked, Steady, Pending, Steady, Warning, Steady, Manual, Steady,
}

func behaviourFor(i int) Behaviour { return pattern[i%len(pattern)] }

// Options configure a simulated fleet.
type Options struct {
	Prefix     string // customer id prefix
	Customers  int
	ReportSize int // approximate controller report size in bytes
	Seed       uint64
	// AllSteady makes every node steady (for load tests).
	AllSteady bool
	// Controllers, when set, serves each node's controller API.
	Controllers *Controllers
	Log         io.Writer
}

// SimNode is a node with its credentials and behaviour.
type SimNode struct {
	*Node
	Behaviour Behaviour
	Key       string // the node's API key; the global key for manual nodes
	HostID    string
	HostKey   string
}

// Fleet is a registered simulated fleet.
type Fleet struct {
	Client *Client
	Nodes  []*SimNode
	opts   Options

	optional *optionalEndpoints
}

// Register creates the fleet's customers through the admin API (reusing
// existing ones) and mints a host for every node that has a config.
func Register(ctx context.Context, c *Client, opts Options) (*Fleet, error) {
	if opts.Prefix == "" {
		opts.Prefix = "sim"
	}
	if opts.ReportSize == 0 {
		opts.ReportSize = 20 << 10
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	f := &Fleet{Client: c, opts: opts, optional: &optionalEndpoints{disabled: map[string]bool{}}}
	for i := range opts.Customers {
		id := fmt.Sprintf("%s-%05d", opts.Prefix, i)
		b := behaviourFor(i)
		if opts.AllSteady {
			b = Steady
		}
		size := opts.ReportSize
		if !opts.AllSteady { // a realistic spread: 2 KB to 40 KB around the target
			size = max(2<<10, min(40<<10, opts.ReportSize/2+(i*7919)%opts.ReportSize))
		}
		n := &SimNode{Node: NewNode(id, opts.Seed+uint64(i), size), Behaviour: b}
		n.DisplayName = displayName(i)
		if b == Warning {
			n.diskUsed[1] = 0.88
		}
		if err := f.register(ctx, n); err != nil {
			return nil, fmt.Errorf("register %s: %w", id, err)
		}
		f.Nodes = append(f.Nodes, n)
		if (i+1)%500 == 0 {
			fmt.Fprintf(opts.Log, "registered %d/%d customers\n", i+1, opts.Customers)
		}
	}
	return f, nil
}

var surnames = []string{"Kovács", "Szabó", "Tóth", "Nagy", "Horváth", "Varga", "Kiss", "Molnár", "Németh", "Farkas", "Balogh", "Papp", "Takács", "Juhász", "Lakatos", "Mészáros", "Oláh", "Simon", "Rácz", "Fekete"}

func displayName(i int) string {
	name := surnames[i%len(surnames)]
	if i%3 == 1 {
		return name + " Kft."
	}
	return name + " család"
}

func (f *Fleet) register(ctx context.Context, n *SimNode) error {
	c := f.Client
	if n.Behaviour == Manual {
		n.Key = c.GlobalKey
	} else {
		var created struct {
			APIKey string `json:"api_key"`
		}
		err := c.Do(ctx, "POST", "/api/v1/admin/customers", c.AdminKey, map[string]any{
			"customer_id": n.CustomerID, "display_name": n.DisplayName, "domain": n.CustomerID + ".felhom.eu",
		}, &created)
		switch {
		case err == nil:
			n.Key = created.APIKey
		case IsStatus(err, http.StatusConflict):
			var existing struct {
				APIKey string `json:"api_key"`
			}
			if err := c.Do(ctx, "GET", "/api/v1/admin/customers/"+n.CustomerID, c.AdminKey, nil, &existing); err != nil {
				return err
			}
			n.Key = existing.APIKey
		default:
			return err
		}
		if n.Behaviour == Blocked {
			if err := c.Do(ctx, "POST", "/api/v1/admin/customers/"+n.CustomerID+"/block", c.AdminKey, nil, nil); err != nil {
				return err
			}
		}
	}
	if f.opts.Controllers != nil {
		n.URL = f.opts.Controllers.Add(n.CustomerID, n.Key, n.Version, []byte("customer:\n  id: "+n.CustomerID+"\n"))
	} else {
		n.URL = "https://" + n.CustomerID + ".felhom.eu"
	}
	return nil
}

// LoadResult summarizes a load run.
type LoadResult struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Bytes    int64
}

// Rate is requests per second.
func (r LoadResult) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r LoadResult) String() string {
	return fmt.Sprintf("%d reports in %s: %.0f/s, p50 %s, p99 %s, %d errors, avg %d bytes",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.Rate(), r.P50.Round(10*time.Microsecond),
		r.P99.Round(10*time.Microsecond), r.Errors, r.Bytes/int64(max(1, r.Requests)))
}

// Load posts controller reports as fast as the hub takes them from
// concurrency workers until requests are sent or duration passes.
func (f *Fleet) Load(ctx context.Context, concurrency, requests int, duration time.Duration, path string) (LoadResult, error) {
	if len(f.Nodes) == 0 {
		return LoadResult{}, errors.New("no nodes")
	}
	if path == "" {
		path = "/api/v1/report"
	}
	// Pre-render bodies so the client spends its CPU on HTTP, not JSON.
	now := time.Now()
	bodies := make([][]byte, len(f.Nodes))
	for i, n := range f.Nodes {
		bodies[i] = n.Report(now, true)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	var next, errs atomic.Int64
	var sent atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if requests > 0 && i >= requests {
					break
				}
				k := i % len(f.Nodes)
				t0 := time.Now()
				err := f.Client.Do(ctx, "POST", path, f.Nodes[k].Key, bodies[k], nil)
				if ctx.Err() != nil {
					break
				}
				lat = append(lat, time.Since(t0))
				sent.Add(int64(len(bodies[k])))
				if err != nil {
					errs.Add(1)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res := LoadResult{Requests: len(all), Errors: int(errs.Load()), Elapsed: time.Since(start), Bytes: sent.Load()}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		res.P50 = all[len(all)*50/100]
		res.P99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return res, nil
}
