package registry

import (
	"net/url"
	"regexp"
	"strings"
)

// TemplateFile is the controller.yaml template's path in the controller's
// repository, as Gitea serves raw files from the main branch.
const TemplateFile = "raw/branch/main/controller.yaml.example"

var (
	// hostRE is a registry host with an optional port.
	hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
	// pathSegmentRE is one path segment of an image name (OCI distribution
	// grammar, lower case).
	pathSegmentRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*$`)
)

// TemplateURL derives where the controller's repository serves its
// controller.yaml template from the registry image the controller is
// published as (SPEC 2.8): <host>/<owner>/<repo>[:tag][@digest] →
// https://<host>/<owner>/<repo>/raw/branch/main/controller.yaml.example.
// Gitea names a container image after its owner and, by convention, its
// repository, so an image with a deeper path (<owner>/<repo>/<variant>)
// uses its first two segments. It returns "" when image is empty or not
// an image name; the hub then serves the stored or built-in template.
func TemplateURL(image string) string {
	image = strings.TrimSpace(image)
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i] // a digest pins an image, not a branch
	}
	host, name, ok := strings.Cut(image, "/")
	if !ok || !hostRE.MatchString(host) {
		return ""
	}
	segments := strings.Split(name, "/")
	if len(segments) < 2 {
		return ""
	}
	last := len(segments) - 1
	if repo, _, tagged := strings.Cut(segments[last], ":"); tagged {
		segments[last] = repo
	}
	for _, s := range segments {
		if !pathSegmentRE.MatchString(s) {
			return ""
		}
	}
	u := url.URL{Scheme: "https", Host: strings.ToLower(host), Path: "/" + segments[0] + "/" + segments[1] + "/" + TemplateFile}
	return u.String()
}

// Host returns the registry host (with its port) of an image name; "" when
// there is none.
func Host(image string) string {
	host, _, ok := strings.Cut(strings.TrimSpace(image), "/")
	if !ok || !hostRE.MatchString(host) {
		return ""
	}
	return strings.ToLower(host)
}
