// Package k8s holds the hub's Kubernetes manifests; its test checks that
// they parse and keep the promises each set makes.
package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/hub/config"
	"go.yaml.in/yaml/v4"
)

// doc is one decoded YAML document of a manifest file.
type doc = map[string]any

// decodeAll decodes every document of a YAML stream.
func decodeAll(t *testing.T, name string, data []byte) []doc {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []doc
	for {
		var d doc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// get walks a path of map keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// manifests decodes every YAML file under dir, by path.
func manifests(t *testing.T, dir string) map[string][]doc {
	t.Helper()
	out := map[string][]doc{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(path)] = decodeAll(t, path, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deployment returns the one Deployment among docs.
func deployment(t *testing.T, name string, docs []doc) doc {
	t.Helper()
	var found doc
	for _, d := range docs {
		if d["kind"] == "Deployment" {
			if found != nil {
				t.Fatalf("%s: two Deployments", name)
			}
			found = d
		}
	}
	if found == nil {
		t.Fatalf("%s: no Deployment", name)
	}
	return found
}

// checkDeployment checks the promises of a Deployment: SQLite (a volume
// claim) means exactly one replica that is never run twice; PostgreSQL
// means several, the DSN from a Secret and never a literal.
func checkDeployment(t *testing.T, name string, d doc) {
	t.Helper()
	spec := get(d, "spec", "template", "spec")
	replicas, _ := get(d, "spec", "replicas").(int)
	claim := false
	for _, v := range get(spec, "volumes").([]any) {
		claim = claim || get(v, "persistentVolumeClaim") != nil
	}
	var dsn any
	for _, c := range get(spec, "containers").([]any) {
		for _, e := range get(c, "env").([]any) {
			if get(e, "name") == "HUB_DATABASE_DSN" {
				dsn = e
			}
		}
		checkProbes(t, name, c)
	}
	if get(spec, "automountServiceAccountToken") != false {
		t.Errorf("%s: automountServiceAccountToken must be false: the hub never calls the Kubernetes API", name)
	}
	if dsn != nil && (get(dsn, "value") != nil || get(dsn, "valueFrom", "secretKeyRef", "key") == nil) {
		t.Errorf("%s: HUB_DATABASE_DSN must come from a secretKeyRef, not a literal: %v", name, dsn)
	}
	switch {
	case claim:
		if replicas != 1 || get(d, "spec", "strategy", "type") != "Recreate" {
			t.Errorf("%s: SQLite on a volume claim needs replicas 1 and strategy Recreate", name)
		}
	case dsn == nil:
		t.Errorf("%s: no volume claim and no HUB_DATABASE_DSN: where is the state?", name)
	default:
		if replicas < 2 {
			t.Errorf("%s: PostgreSQL set with %d replicas, want several", name, replicas)
		}
		if get(d, "spec", "strategy", "rollingUpdate", "maxUnavailable") != 1 {
			t.Errorf("%s: rolling update must take down one pod at a time", name)
		}
		if get(spec, "topologySpreadConstraints") == nil && get(spec, "affinity", "podAntiAffinity") == nil {
			t.Errorf("%s: replicas are not spread across nodes", name)
		}
	}
}

// TestManifests decodes every file under deploy/k8s and checks each set's
// Deployment and the replicas set's PodDisruptionBudget and copies.
func TestManifests(t *testing.T) {
	all := manifests(t, ".")
	if len(all) == 0 {
		t.Fatal("no manifests")
	}
	for name, docs := range all {
		for _, d := range docs {
			if d["apiVersion"] == nil || d["kind"] == nil {
				t.Errorf("%s: a document without apiVersion and kind", name)
			}
		}
	}
	for _, set := range []string{"", "replicas/"} {
		checkDeployment(t, set+"deployment.yaml", deployment(t, set+"deployment.yaml", all[set+"deployment.yaml"]))
	}
	pdb := all["replicas/pdb.yaml"]
	if len(pdb) != 1 || pdb[0]["kind"] != "PodDisruptionBudget" || get(pdb[0], "spec", "minAvailable") != 2 ||
		get(pdb[0], "spec", "selector", "matchLabels", "app") != "hub" {
		t.Errorf("replicas/pdb.yaml: want a PodDisruptionBudget of app hub with minAvailable 2, got %v", pdb)
	}
	if _, ok := all["replicas/pvc.yaml"]; ok {
		t.Error("the replicas set has a volume claim")
	}
	secret := all["replicas/secret.example.yaml"]
	if len(secret) != 1 || get(secret[0], "stringData", "dsn") != "" {
		t.Errorf("replicas/secret.example.yaml: want an example Secret with an empty dsn")
	}
	for _, copied := range []string{"namespace.yaml", "service.yaml", "ingress.yaml"} {
		if fmt.Sprint(all[copied]) != fmt.Sprint(all["replicas/"+copied]) {
			t.Errorf("replicas/%s differs from %s: keep the copy equal", copied, copied)
		}
	}
}

// TestKustomizeBuild renders both sets with kubectl when it is installed:
// the replicas set has no volume claim and a DSN from the Secret.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: kustomize builds not checked")
	}
	for _, dir := range []string{".", "replicas"} {
		out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
		}
		docs := decodeAll(t, dir, out)
		checkDeployment(t, "kustomize "+dir, deployment(t, dir, docs))
		kinds := map[any]int{}
		for _, d := range docs {
			kinds[d["kind"]]++
		}
		if dir == "replicas" && (kinds["PersistentVolumeClaim"] != 0 || kinds["PodDisruptionBudget"] != 1) {
			t.Errorf("replicas renders %v", kinds)
		}
	}
}

// containerEnv returns the hub container's environment variables by name.
func containerEnv(d doc) map[string]any {
	env := map[string]any{}
	for _, c := range get(d, "spec", "template", "spec", "containers").([]any) {
		if get(c, "name") != "hub" {
			continue
		}
		for _, e := range get(c, "env").([]any) {
			env[fmt.Sprint(get(e, "name"))] = e
		}
	}
	return env
}

// Behind the ingress every request comes from the ingress's address: each
// set trusts the ingress's pod network for X-Forwarded-For, with a value
// the hub accepts and the way to find it for a cluster written beside it.
func TestTrustedProxies(t *testing.T) {
	all := manifests(t, ".")
	for _, set := range []string{"", "replicas/"} {
		name := set + "deployment.yaml"
		e := containerEnv(deployment(t, name, all[name]))["HUB_SERVER_TRUSTED_PROXIES"]
		value, _ := get(e, "value").(string)
		if value == "" {
			t.Errorf("%s: HUB_SERVER_TRUSTED_PROXIES is not set", name)
			continue
		}
		c := config.Default()
		if err := c.ApplyEnv([]string{"HUB_SERVER_TRUSTED_PROXIES=" + value}); err != nil {
			t.Fatal(err)
		}
		prefixes, err := c.Server.TrustedProxyPrefixes()
		if err != nil || len(prefixes) == 0 {
			t.Errorf("%s: HUB_SERVER_TRUSTED_PROXIES=%q: %v", name, value, err)
		}
		for _, p := range prefixes {
			if p.Bits() == 0 {
				t.Errorf("%s: trusting %s trusts every client's X-Forwarded-For", name, p)
			}
		}
		raw := readFile(t, name)
		for _, how := range []string{"cluster-cidr", "podCIDR"} {
			if !strings.Contains(raw, how) {
				t.Errorf("%s: no word on how to find the cluster's value (%s)", name, how)
			}
		}
	}
}

// The geo-restriction needs a server snippet, which a default
// ingress-nginx refuses: whoever keeps the annotation must find, next to
// it, exactly what to enable on the controller. The snippet's country
// variable must be one the documented GeoIP2 databases define.
func TestGeoRestrictionDocumented(t *testing.T) {
	all := manifests(t, ".")
	for _, set := range []string{"", "replicas/"} {
		name := set + "ingress.yaml"
		raw := readFile(t, name)
		annotations, _ := get(all[name][0], "metadata", "annotations").(map[string]any)
		for key, v := range annotations {
			if !strings.HasSuffix(key, "-snippet") {
				continue
			}
			for _, needed := range []string{
				`allow-snippet-annotations: "true"`,
				"annotations-risk-level: Critical",
				`use-geoip2: "true"`,
				"--maxmind-license-key",
			} {
				if !strings.Contains(raw, needed) {
					t.Errorf("%s: %s needs the ingress controller's %s, which the file does not say", name, key, needed)
				}
			}
			snippet := fmt.Sprint(v)
			if strings.Contains(snippet, "$geoip2_country_code") && !strings.Contains(raw, "--maxmind-edition-ids=GeoLite2-Country") {
				t.Errorf("%s: $geoip2_country_code exists only with the GeoLite2-Country database (--maxmind-edition-ids)", name)
			}
			if strings.Contains(snippet, "$geoip2_city_country_code") && !strings.Contains(raw, "GeoLite2-City") {
				t.Errorf("%s: $geoip2_city_country_code needs the GeoLite2-City database, which the file does not name", name)
			}
		}
	}
}

// The Makefile names the image once (IMAGE); both Deployments run a
// release of it.
func TestImageIsTheMakefiles(t *testing.T) {
	makefile := readFile(t, "../../Makefile")
	vars := map[string]string{}
	for _, line := range strings.Split(makefile, "\n") {
		if k, v, ok := strings.Cut(line, "?="); ok && !strings.ContainsAny(k, "\t:") {
			vars[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	image := strings.ReplaceAll(vars["IMAGE"], "$(REGISTRY)", vars["REGISTRY"])
	if image == "" || strings.Contains(image, "$(") {
		t.Fatalf("the Makefile's IMAGE is %q", vars["IMAGE"])
	}
	if !strings.Contains(makefile, "docker-push:") || !strings.Contains(makefile, "docker push $(IMAGE):$(TAG)") {
		t.Error("the Makefile has no docker-push of $(IMAGE):$(TAG)")
	}
	all := manifests(t, ".")
	for _, set := range []string{"", "replicas/"} {
		name := set + "deployment.yaml"
		for _, c := range get(deployment(t, name, all[name]), "spec", "template", "spec", "containers").([]any) {
			got := fmt.Sprint(get(c, "image"))
			repo, tag, _ := strings.Cut(got, ":v")
			if repo != image || tag == "" {
				t.Errorf("%s runs %s, want %s:vX.Y.Z (the Makefile's IMAGE)", name, got, image)
			}
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
