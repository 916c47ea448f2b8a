package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
)

// The RFC 6238 appendix B vectors for SHA-1 (8 digits there; the hub's 6
// are the last six of each).
func TestTOTPCodeRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tt := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		if got := hub.TOTPCode(secret, hub.TOTPStepAt(time.Unix(tt.unix, 0))); got != tt.want {
			t.Errorf("at %d: %s, want %s", tt.unix, got, tt.want)
		}
	}
}

// TestMatchTOTPWindow: the step before and after are accepted, two steps
// away is not, and the step matched is the one the code belongs to.
func TestMatchTOTPWindow(t *testing.T) {
	secret := hub.NewTOTPSecret()
	now := time.Date(2026, 12, 4, 18, 0, 15, 0, time.UTC)
	step := hub.TOTPStepAt(now)
	for d, ok := range map[int64]bool{-2: false, -1: true, 0: true, 1: true, 2: false} {
		got, matched := hub.MatchTOTP(secret, hub.TOTPCode(secret, step+d), now)
		if matched != ok || (ok && got != step+d) {
			t.Errorf("offset %d: matched %v at %d, want %v at %d", d, matched, got, ok, step+d)
		}
	}
	// Window edges: the last second of a step still takes the next one's
	// code; the first second of the next step still takes the previous.
	edge := time.Unix((step+1)*30-1, 0)
	if _, ok := hub.MatchTOTP(secret, hub.TOTPCode(secret, step+2), edge); ok {
		t.Error("two steps ahead accepted at the edge")
	}
	if _, ok := hub.MatchTOTP(secret, hub.TOTPCode(secret, step+1), edge); !ok {
		t.Error("the next step refused at the edge")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "\x00\x00\x00\x00\x00\x00"} {
		if _, ok := hub.MatchTOTP(secret, bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	back, err := hub.ParseTOTPSecretText(hub.TOTPSecretText(secret))
	if err != nil || string(back) != string(secret) {
		t.Errorf("secret text does not round-trip: %v", err)
	}
}
