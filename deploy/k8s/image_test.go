package k8s

import (
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile pins every base image by digest, caches modules and
// builds in cache mounts, labels the image the OCI way and stamps the
// version, commit and build time that the Makefile passes it.
func TestDockerfile(t *testing.T) {
	dockerfile := readFile(t, "../../Dockerfile")
	pinned := regexp.MustCompile(`^FROM (--platform=\S+ )?\S+:\S+@sha256:[0-9a-f]{64}( AS \S+)?$`)
	froms := 0
	for _, line := range strings.Split(dockerfile, "\n") {
		if strings.HasPrefix(line, "FROM ") {
			froms++
			if !pinned.MatchString(line) {
				t.Errorf("not pinned by digest (image:tag@sha256:…): %s", line)
			}
		}
	}
	if froms < 2 {
		t.Errorf("%d FROM lines, want a build stage and a runtime stage", froms)
	}
	for _, want := range []string{
		"--mount=type=cache,target=/go/pkg/mod",
		"--mount=type=cache,target=/root/.cache/go-build",
		"org.opencontainers.image.source=",
		`org.opencontainers.image.version="${VERSION}"`,
		`org.opencontainers.image.revision="${COMMIT}"`,
		`org.opencontainers.image.created="${BUILD_TIME}"`,
		"-X main.Version=${VERSION} -X main.Commit=${COMMIT} -X main.BuildTime=${BUILD_TIME}",
		"USER nonroot",
	} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("the Dockerfile has no %s", want)
		}
	}
	makefile := readFile(t, "../../Makefile")
	for _, want := range []string{
		"-X main.Commit=$(COMMIT) -X main.BuildTime=$(BUILD_TIME)",
		"--build-arg COMMIT=$(COMMIT) --build-arg BUILD_TIME=$(BUILD_TIME)",
	} {
		if !strings.Contains(makefile, want) {
			t.Errorf("the Makefile has no %s", want)
		}
	}
}
