package dr

import (
	"context"
	"fmt"
	"time"

	hub "github.com/felhom/hub"
)

// Links mints single-use recovery links: for a reinstall the operator does
// themselves, without the customer's retrieval password.
type Links struct {
	Customers interface {
		FindCustomerConfig(ctx context.Context, id string) (*hub.CustomerConfig, error)
	}
	Access hub.RecoveryAccessService
	Audit  hub.AuditService
	Now    func() time.Time
}

// MintRecoveryLink stores a link for a managed customer and records it in
// the audit log with its reason (never the token). It returns the link and
// the token, which exists nowhere else.
func (l *Links) MintRecoveryLink(ctx context.Context, actor, customerID, reason string, ttl time.Duration) (*hub.RecoveryLink, string, error) {
	link, token, err := hub.NewRecoveryLink(customerID, reason, actor, ttl, l.Now())
	if err != nil {
		return nil, "", err
	}
	if _, err := l.Customers.FindCustomerConfig(ctx, customerID); err != nil {
		return nil, "", err
	}
	if err := l.Access.CreateRecoveryLink(ctx, link); err != nil {
		return nil, "", err
	}
	entry := &hub.AuditEntry{Actor: actor, Action: "recovery_link", CustomerID: customerID, Result: hub.AuditOK,
		Detail: fmt.Sprintf("single-use recovery link, expires %s; reason: %s", link.ExpiresAt.Format(time.RFC3339), link.Reason)}
	if err := l.Audit.CreateAuditEntry(ctx, entry); err != nil {
		return nil, "", err
	}
	return link, token, nil
}
