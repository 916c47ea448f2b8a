package hub

import (
	"strconv"
	"time"
)

// History periods the API accepts: 1h to 90d.
const (
	MinPeriod     = time.Hour
	MaxPeriod     = 90 * 24 * time.Hour
	DefaultPeriod = 24 * time.Hour
)

// ParsePeriod parses a history period such as "24h", "7d" or "90d"; "" is
// the default. Anything else, or a period outside 1h..90d, is EINVALID.
func ParsePeriod(s string) (time.Duration, error) {
	if s == "" {
		return DefaultPeriod, nil
	}
	bad := Errorf(EINVALID, "period must be a number of hours or days between 1h and 90d, such as 24h or 7d")
	if len(s) < 2 || len(s) > 6 {
		return 0, bad
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || s[0] == '+' {
		return 0, bad
	}
	var d time.Duration
	switch s[len(s)-1] {
	case 'h':
		d = time.Duration(n) * time.Hour
	case 'd':
		d = time.Duration(n) * 24 * time.Hour
	default:
		return 0, bad
	}
	if d < MinPeriod || d > MaxPeriod {
		return 0, bad
	}
	return d, nil
}
