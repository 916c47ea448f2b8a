package registry_test

import (
	"testing"

	"github.com/felhom/hub/registry"
)

func TestTemplateURL(t *testing.T) {
	const want = "https://gitea.dooplex.hu/admin/felhom-controller/raw/branch/main/controller.yaml.example"
	for _, tt := range []struct {
		name, image, want string
	}{
		{"the default image", "gitea.dooplex.hu/admin/felhom-controller", want},
		{"with a tag", "gitea.dooplex.hu/admin/felhom-controller:v0.7.0", want},
		{"with latest", "gitea.dooplex.hu/admin/felhom-controller:latest", want},
		{"with a digest", "gitea.dooplex.hu/admin/felhom-controller@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want},
		{"tag and digest", "gitea.dooplex.hu/admin/felhom-controller:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want},
		{"with a port", "git.example.com:3000/admin/felhom-controller", "https://git.example.com:3000/admin/felhom-controller/raw/branch/main/controller.yaml.example"},
		{"port and tag", "git.example.com:3000/ops/ctl:1.2.3", "https://git.example.com:3000/ops/ctl/raw/branch/main/controller.yaml.example"},
		{"upper-case host", "Gitea.Dooplex.HU/admin/felhom-controller", want},
		{"deeper path uses owner and repository", "gitea.dooplex.hu/admin/felhom-controller/arm64:v1", want},
		{"surrounding space", "  gitea.dooplex.hu/admin/felhom-controller  ", want},
		{"empty image: no URL, only the built-in", "", ""},
		{"no owner", "gitea.dooplex.hu/felhom-controller", ""},
		{"no path", "felhom-controller", ""},
		{"a scheme", "https://gitea.dooplex.hu/admin/felhom-controller", ""},
		{"query smuggled", "gitea.dooplex.hu/admin/x?token=1", ""},
		{"userinfo smuggled", "user:pw@gitea.dooplex.hu/admin/x", ""},
		{"path traversal", "gitea.dooplex.hu/admin/../x", ""},
		{"control character", "gitea.dooplex.hu/admin/x\n", "https://gitea.dooplex.hu/admin/x/raw/branch/main/controller.yaml.example"},
		{"tab inside", "gitea.dooplex.hu/ad\tmin/x", ""},
		{"empty segment", "gitea.dooplex.hu//x", ""},
		{"bad port", "gitea.dooplex.hu:http/admin/x", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := registry.TemplateURL(tt.image); got != tt.want {
				t.Errorf("TemplateURL(%q) = %q, want %q", tt.image, got, tt.want)
			}
		})
	}
}

func TestHost(t *testing.T) {
	for image, want := range map[string]string{
		"gitea.dooplex.hu/admin/felhom-controller": "gitea.dooplex.hu",
		"git.example.com:3000/a/b":                 "git.example.com:3000",
		"":                                         "",
		"no-slash":                                 "",
	} {
		if got := registry.Host(image); got != want {
			t.Errorf("Host(%q) = %q, want %q", image, got, want)
		}
	}
}
