package configgen_test

import (
	"strings"
	"testing"

	"github.com/felhom/hub/configgen"
)

func TestMaskSecrets(t *testing.T) {
	in := `customer:
  id: kovacs
  name: Kovács család
hub:
  url: https://hub.felhom.eu
  api_key: 0123456789abcdef
cloudflare:
  tunnel_token: ""
session:
  secret: s3cret
smtp:
  passwords: [one, two]
  password: null
`
	out, err := configgen.MaskSecrets([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, secret := range []string{"0123456789abcdef", "s3cret", "one", "two"} {
		if strings.Contains(got, secret) {
			t.Errorf("secret %q not masked:\n%s", secret, got)
		}
	}
	for _, kept := range []string{"id: kovacs", "name: Kovács család", "url: https://hub.felhom.eu",
		"api_key: '********'", `tunnel_token: ""`, "password: null"} {
		if !strings.Contains(got, kept) {
			t.Errorf("lacks %q:\n%s", kept, got)
		}
	}
	if _, err := configgen.MaskSecrets([]byte("a: [")); err == nil {
		t.Error("invalid YAML masked without an error")
	}
}
