package hub

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// MaxRecoveryLinkTTL is the longest a single-use recovery link may live
// (SPEC §7.3).
const MaxRecoveryLinkTTL = 24 * time.Hour

// MaxRecoveryLinkReason bounds the reason an operator gives for a link.
const MaxRecoveryLinkReason = 500

// RecoveryLink is a single-use link that downloads a customer's recovery
// bundle. Only the SHA-256 of its token is stored.
type RecoveryLink struct {
	ID         int64
	CustomerID string
	// TokenHash is HashSecret of the token; the token itself is shown once.
	TokenHash string
	Reason    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is zero until the link is used.
	UsedAt time.Time
}

// NewRecoveryLink validates reason and ttl and returns a link with a fresh
// token, and the token.
func NewRecoveryLink(customerID, reason, createdBy string, ttl time.Duration, now time.Time) (*RecoveryLink, string, error) {
	if err := ValidateCustomerID(customerID); err != nil {
		return nil, "", err
	}
	reason = cleanLine(reason)
	switch {
	case reason == "":
		return nil, "", Errorf(EINVALID, "reason is required: say why the link is needed")
	case len([]rune(reason)) > MaxRecoveryLinkReason:
		return nil, "", Errorf(EINVALID, "reason is longer than %d characters", MaxRecoveryLinkReason)
	case ttl <= 0:
		return nil, "", Errorf(EINVALID, "ttl must be a positive duration such as \"1h\"")
	case ttl > MaxRecoveryLinkTTL:
		return nil, "", Errorf(EINVALID, "ttl must be at most 24h")
	}
	token := RandomHex(32)
	return &RecoveryLink{CustomerID: customerID, TokenHash: HashSecret(token), Reason: reason,
		CreatedBy: createdBy, CreatedAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}, token, nil
}

// cleanLine replaces control characters with spaces and trims.
func cleanLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		out = append(out, r)
	}
	for len(out) > 0 && out[0] == ' ' {
		out = out[1:]
	}
	for len(out) > 0 && out[len(out)-1] == ' ' {
		out = out[:len(out)-1]
	}
	return string(out)
}

// What a retrieval fetched and how it was authorized.
const (
	RetrievalConfig   = "config"
	RetrievalRecovery = "recovery"

	RetrievalByPassword = "password"
	RetrievalByLink     = "link"
)

// Outcomes of a retrieval.
const (
	RetrievalOK          = "ok"
	RetrievalDenied      = "denied"       // wrong or missing password, unknown link
	RetrievalRateLimited = "rate_limited" // too many failures
	RetrievalExpired     = "expired"      // the link's time is up
	RetrievalUsed        = "used"         // the link was used already
	RetrievalError       = "error"        // the hub could not serve it
)

// Retrieval is the audit row of one retrieval of /config/{id} or
// /recovery/{id}, successful or not. It never holds a password or token.
type Retrieval struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	CustomerID string    `json:"customer_id"`
	Resource   string    `json:"resource"`
	Via        string    `json:"via"`
	Outcome    string    `json:"outcome"`
	// Client is the client's address, behind the trusted proxies.
	Client string `json:"client"`
	// Detail is the link's reason, or why the retrieval failed.
	Detail string `json:"detail,omitempty"`
}

// RecoveryLinkConsumed is what consuming a link tells.
type RecoveryLinkConsumed struct {
	// Outcome is RetrievalOK, RetrievalDenied (no such link for the
	// customer), RetrievalExpired or RetrievalUsed.
	Outcome string
	Link    *RecoveryLink
}

// RecoveryAccessService keeps recovery links and the retrieval audit.
type RecoveryAccessService interface {
	// CreateRecoveryLink stores a new link.
	CreateRecoveryLink(ctx context.Context, l *RecoveryLink) error
	// ConsumeRecoveryLink marks the customer's link with tokenHash used,
	// atomically: of any number of concurrent calls, on any replica, one
	// gets RetrievalOK.
	ConsumeRecoveryLink(ctx context.Context, customerID, tokenHash string) (*RecoveryLinkConsumed, error)
	// CreateRetrieval appends a retrieval audit row; At is the database's
	// clock.
	CreateRetrieval(ctx context.Context, r *Retrieval) error
	// FindRetrievals returns a customer's retrievals, newest first.
	FindRetrievals(ctx context.Context, customerID string, limit int) ([]*Retrieval, error)
}

// RecoveryNotifier tells a customer that their recovery data was
// downloaded (at most once an hour).
type RecoveryNotifier interface {
	NotifyRecoveryRetrieved(ctx context.Context, customerID string, at time.Time) error
}

// RecoveryLinkURL is a single-use recovery link: base is server.public_url
// or the request's own origin. The token travels in the query, which the
// request log never writes (it logs the path only), and the metrics count
// the route's pattern only.
func RecoveryLinkURL(base, customerID, token string) string {
	return strings.TrimRight(base, "/") + "/api/v1/recovery/" + url.PathEscape(customerID) + "/link?token=" + url.QueryEscape(token)
}
