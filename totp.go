package hub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP parameters (RFC 6238 with the defaults every authenticator app
// reads): HMAC-SHA1, 30-second steps, 6 digits; a code of the step before
// or after is accepted too, for clocks a little apart.
const (
	TOTPStep       = 30 * time.Second
	TOTPDigits     = 6
	TOTPSkew       = 1
	totpSecretSize = 20 // 160 bits, as RFC 4226 recommends
)

// NewTOTPSecret mints a shared secret.
func NewTOTPSecret() []byte {
	b := make([]byte, totpSecretSize)
	_, _ = rand.Read(b)
	return b
}

// totpEncoding is the base32 of authenticator apps: no padding.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPSecretText is the secret as a person types it into an app.
func TOTPSecretText(secret []byte) string { return totpEncoding.EncodeToString(secret) }

// ParseTOTPSecretText reads the text form back; spaces and case are ignored.
func ParseTOTPSecretText(s string) ([]byte, error) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	b, err := totpEncoding.DecodeString(s)
	if err != nil || len(b) != totpSecretSize {
		return nil, Errorf(EINVALID, "the two-factor secret is not valid; start the set-up again")
	}
	return b, nil
}

// TOTPStepAt returns the time step t falls in.
func TOTPStepAt(t time.Time) int64 { return t.Unix() / int64(TOTPStep/time.Second) }

// TOTPCode returns the code of step (RFC 4226 HOTP over the step counter).
func TOTPCode(secret []byte, step int64) string {
	mac := hmac.New(sha1.New, secret)
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(step))
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	value := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", value%1_000_000)
}

// MatchTOTP returns the step whose code code is, within TOTPSkew steps of
// now, and whether there is one. It compares in constant time and looks
// at every step of the window, whichever matches.
func MatchTOTP(secret []byte, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != TOTPDigits || len(secret) == 0 {
		return 0, false
	}
	current := TOTPStepAt(now)
	var found int64
	ok := false
	for d := int64(-TOTPSkew); d <= TOTPSkew; d++ {
		if subtle.ConstantTimeCompare([]byte(TOTPCode(secret, current+d)), []byte(code)) == 1 {
			found, ok = current+d, true
		}
	}
	return found, ok
}

// TOTPURI is the otpauth:// URI an authenticator app reads from the QR code.
func TOTPURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{}
	q.Set("secret", TOTPSecretText(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(int(TOTPStep/time.Second)))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
