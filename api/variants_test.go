package api_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealWorldVariants posts every body of testdata/variants (each line of
// its INDEX.tsv says what the body imitates) to its endpoint: each is
// stored (SPEC §2.2) and the response names exactly the problems listed.
func TestRealWorldVariants(t *testing.T) {
	dir := filepath.Join("..", "testdata", "variants")
	index, err := os.Open(filepath.Join(dir, "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer index.Close()
	e := newEnv(t)
	customerKey, _ := e.createCustomer("kovacs")
	host := e.do("POST", "/api/v1/admin/hosts", testAdminKey, `{"customer_id":"kovacs"}`).mustStatus(t, http.StatusCreated)
	hostID, hostKey := host.json["host_id"].(string), host.json["api_key"].(string)

	want := map[string]int{"report": 200, "host-report": 200, "event": 201, "infra-backup": 201, "preferences": 200, "notify": 200}
	n := 0
	lines := bufio.NewScanner(index)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.SplitN(line, "\t", 4)
		if len(fields) != 4 || fields[3] == "" {
			t.Fatalf("INDEX.tsv line %q: want file, endpoint, problems and what it imitates", line)
		}
		file, endpoint, problems := fields[0], fields[1], fields[2]
		n++
		t.Run(file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			key := customerKey
			if endpoint == "host-report" {
				key, body = hostKey, []byte(strings.ReplaceAll(string(body), "HOSTID", hostID))
			}
			r := e.do("POST", "/api/v1/"+endpoint, key, string(body)).mustStatus(t, want[endpoint])
			var got []string
			if raw, ok := r.json["field_problems"].([]any); ok {
				for _, p := range raw {
					got = append(got, p.(map[string]any)["path"].(string))
				}
			}
			if problems == "-" {
				problems = ""
			}
			if strings.Join(got, " ") != problems {
				pretty, _ := json.Marshal(r.json["field_problems"])
				t.Errorf("problems at %q, want %q: %s", strings.Join(got, " "), problems, pretty)
			}
		})
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Fatalf("%d variants, want at least 30", n)
	}
}
