package hub

import "strings"

// ValidateDomain accepts "" or a DNS name of letters, digits, '-' and '.'.
func ValidateDomain(domain string) error {
	if domain == "" {
		return nil
	}
	bad := Errorf(EINVALID, "domain must be a DNS name such as kovacs-csalad.felhom.eu")
	if len(domain) > 253 || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return bad
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad
		}
		for _, r := range label {
			ok := r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				return bad
			}
		}
	}
	return nil
}
