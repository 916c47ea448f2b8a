package k8s

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/felhom/hub/config"
)

// checkProbes checks a hub container's probes: a startup probe, liveness on
// /livez (never the database: an outage must not restart the pod),
// readiness on /readyz (the write path, and unready while draining), and a
// preStop pause.
func checkProbes(t *testing.T, name string, c any) {
	t.Helper()
	for probe, path := range map[string]string{"startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"} {
		if got := get(c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s: %s is %v, want %s", name, probe, got, path)
		}
		if got := get(c, probe, "httpGet", "port"); got != "http" {
			t.Errorf("%s: %s on port %v, want http (the probes are on the main listener)", name, probe, got)
		}
	}
	if n, _ := get(c, "startupProbe", "failureThreshold").(int); n < 12 {
		t.Errorf("%s: the startup probe gives up after %d failures: a migration needs minutes", name, n)
	}
	if preStopSeconds(c) <= 0 {
		t.Errorf("%s: no preStop pause", name)
	}
}

// preStopSeconds is the container's preStop sleep.
func preStopSeconds(c any) int {
	n, _ := get(c, "lifecycle", "preStop", "sleep", "seconds").(int)
	return n
}

// hubConfig is the configuration the hub container's literal environment
// gives (secrets left out), validated field by field by the hub itself.
func hubConfig(t *testing.T, name string, d doc) *config.Config {
	t.Helper()
	var environ []string
	for k, e := range containerEnv(d) {
		if v, ok := get(e, "value").(string); ok && strings.HasPrefix(k, config.EnvPrefix) {
			environ = append(environ, k+"="+v)
		}
	}
	c := config.Default()
	if err := c.ApplyEnv(environ); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// The pod's grace period outlasts what the hub does after it is told to
// stop: the preStop pause, the drain and the shutdown.
func TestGracePeriodCoversTheShutdown(t *testing.T) {
	all := manifests(t, ".")
	for _, set := range []string{"", "replicas/"} {
		name := set + "deployment.yaml"
		d := deployment(t, name, all[name])
		c := hubConfig(t, name, d)
		grace, _ := get(d, "spec", "template", "spec", "terminationGracePeriodSeconds").(int)
		for _, ctr := range get(d, "spec", "template", "spec", "containers").([]any) {
			need := time.Duration(preStopSeconds(ctr))*time.Second + c.Server.DrainPeriod.D() + c.Server.ShutdownTimeout.D()
			if time.Duration(grace)*time.Second <= need {
				t.Errorf("%s: terminationGracePeriodSeconds %d, but preStop + drain_period + shutdown_timeout = %s",
					name, grace, need)
			}
		}
	}
}

// /metrics listens on a port of its own, which the container declares as
// "metrics"; no ingress routes to it.
func TestMetricsNotExposed(t *testing.T) {
	all := manifests(t, ".")
	for _, set := range []string{"", "replicas/"} {
		name := set + "deployment.yaml"
		d := deployment(t, name, all[name])
		c := hubConfig(t, name, d)
		if err := c.Validate(); err != nil && strings.HasPrefix(err.Error(), "server.") {
			t.Errorf("%s: %v", name, err)
		}
		_, metricsPort, err := net.SplitHostPort(c.Server.MetricsListen)
		if err != nil {
			t.Errorf("%s: HUB_SERVER_METRICS_LISTEN %q: /metrics would be served beside the dashboard, through the ingress", name, c.Server.MetricsListen)
			continue
		}
		_, httpPort, _ := net.SplitHostPort(c.Server.Listen)
		ports := map[string]string{}
		for _, ctr := range get(d, "spec", "template", "spec", "containers").([]any) {
			for _, p := range get(ctr, "ports").([]any) {
				ports[fmt.Sprint(get(p, "name"))] = fmt.Sprint(get(p, "containerPort"))
			}
		}
		if ports["metrics"] != metricsPort || ports["http"] != httpPort {
			t.Errorf("%s: container ports %v, want http %s and metrics %s", name, ports, httpPort, metricsPort)
		}
		ingress := set + "ingress.yaml"
		for _, ing := range all[ingress] {
			for _, rule := range asList(get(ing, "spec", "rules")) {
				for _, path := range asList(get(rule, "http", "paths")) {
					port := get(path, "backend", "service", "port")
					if get(port, "name") != "http" {
						t.Errorf("%s: a path goes to port %v, want the http port only", ingress, port)
					}
				}
			}
			if get(ing, "spec", "defaultBackend") != nil {
				t.Errorf("%s: a default backend may reach any port", ingress)
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
