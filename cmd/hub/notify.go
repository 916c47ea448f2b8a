package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/felhom/hub/config"
	"github.com/felhom/hub/notify"
)

// newNotifier parses the mail templates and builds the dispatcher that
// decides and queues every event's mails (the API relays through it too)
// and the sender that delivers them. The store's wake-up hook is set here,
// before anything serves; Open starts the sender later.
func (m *Main) newNotifier() error {
	cfg := &m.Config.Notifications
	templates, err := notify.ParseTemplates()
	if err != nil {
		return err
	}
	policy := notify.Policy{
		OperatorEnabled:         cfg.OperatorEnabled,
		OperatorEmail:           cfg.OperatorEmail,
		OperatorCooldown:        cfg.OperatorCooldown.D(),
		CustomerEnabled:         cfg.CustomerEnabled,
		DefaultCustomerCooldown: time.Duration(cfg.DefaultCooldownHours) * time.Hour,
		EscalationEmail:         cfg.EscalationEmail,
		Noise: notify.NoisePolicy{
			FlapThreshold: m.Config.Alerting.FlapThreshold,
			DigestWindow:  cfg.CustomerDigestWindow.D(),
		},
	}
	m.notifier, err = notify.NewDispatcher(m.DB, policy, templates, m.Config.Server.PublicURL)
	if err != nil {
		return err
	}
	m.notifier.Observe = m.countNotification
	return m.newMailSender()
}

// countNotification counts a notification outcome in the metrics.
func (m *Main) countNotification(channel, outcome string) {
	if m.Metrics != nil {
		m.Metrics.Notifications.WithLabelValues(channel, outcome).Inc()
	}
}

// newMailSender picks the mail provider and builds the sender, which the
// store wakes whenever mails are queued.
func (m *Main) newMailSender() error {
	cfg := &m.Config.Notifications
	logger := m.Logger.With("component", "notify")
	provider, err := newMailProvider(cfg, logger, m.Now)
	if err != nil {
		return err
	}
	logger.Info("notifications", "provider", provider.Name(), "from", cfg.FromEmail,
		"operator_enabled", cfg.OperatorEnabled, "operator_email_set", cfg.OperatorEmail != "",
		"customer_enabled", cfg.CustomerEnabled)
	if provider.Name() == notify.ProviderLog {
		logger.Warn("no mail provider is configured: mails are written to the log, not sent; set notifications.resend_api_key or notifications.smtp.host")
	}
	if cfg.OperatorEnabled && cfg.OperatorEmail == "" {
		logger.Warn("notifications.operator_email is not set: operator mails are skipped")
	}
	m.mailSender = notify.NewSender(m.DB, provider, cfg.FromEmail, cfg.MaxAttempts, logger)
	m.mailSender.Now = m.Now
	m.mailSender.Concurrency = cfg.SendConcurrency
	m.mailSender.SendTimeout = cfg.SendTimeout.D()
	m.mailSender.Lease = cfg.SendTimeout.D() + time.Minute // outlasts a send
	m.mailSender.Observe = m.countNotification
	m.DB.NotificationsQueued = m.mailSender.Notify
	return nil
}

// newMailProvider builds the configured provider (notify.ChooseProvider).
// Secrets go into the provider only, never into a log line.
func newMailProvider(cfg *config.Notifications, logger *slog.Logger, now func() time.Time) (notify.Provider, error) {
	switch name := notify.ChooseProvider(cfg.Provider, cfg.ResendAPIKey, cfg.SMTP.Host); name {
	case notify.ProviderLog:
		return &notify.Log{Logger: logger}, nil
	case notify.ProviderResend:
		return notify.NewResend(cfg.ResendAPIKey, cfg.ResendBaseURL), nil
	case notify.ProviderSMTP:
		return &notify.SMTP{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			Security: cfg.SMTP.Security, Now: now,
		}, nil
	default:
		return nil, fmt.Errorf("notifications.provider %q is not log, resend or smtp", name)
	}
}
