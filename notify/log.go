package notify

import (
	"context"
	"log/slog"
)

// Log is the provider of a hub with no mail configured: it records each
// mail in the log instead of sending it, and counts it as sent.
type Log struct {
	Logger *slog.Logger
}

// Name returns "log".
func (*Log) Name() string { return ProviderLog }

// Send logs the rendered mail.
func (l *Log) Send(ctx context.Context, m *Message) error {
	l.Logger.LogAttrs(ctx, slog.LevelInfo, "mail not sent: the log provider records it instead",
		slog.String("from", m.From), slog.String("to", m.To), slog.String("subject", m.Subject),
		slog.String("idempotency_key", m.IdempotencyKey), slog.String("text", m.Text))
	return nil
}
