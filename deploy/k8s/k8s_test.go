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
		if get(c, "readinessProbe", "httpGet", "path") != "/healthz" {
			t.Errorf("%s: readiness is not /healthz", name)
		}
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
