package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/internal/loop"
)

// Defaults of the Sender.
const (
	DefaultPollInterval = 30 * time.Second
	// DefaultSendTimeout bounds one attempt, whatever the provider's own
	// time-outs: a provider that hangs costs a worker this long, then the
	// mail is retried with back-off.
	DefaultSendTimeout = 15 * time.Second
	DefaultBaseDelay   = 30 * time.Second
	DefaultMaxDelay    = 30 * time.Minute
	DefaultMaxAttempts = 8
	// DefaultConcurrency is how many mails are sent at once, so that one
	// recipient whose provider hangs does not hold the others.
	DefaultConcurrency = 4
	// DefaultDrainTimeout is how long Close lets sends under way finish
	// before it cancels them.
	DefaultDrainTimeout = 2 * time.Second
)

// Delivery outcomes reported to Sender.Observe.
const (
	OutcomeSent    = "sent"
	OutcomeRetried = "retried"
	OutcomeFailed  = "failed"
)

// minWait keeps the loop from spinning on a mail that is due right now
// but could not be claimed.
const minWait = 50 * time.Millisecond

// markTimeout bounds recording an outcome after the send, which happens
// even when the sender is being stopped.
const markTimeout = 5 * time.Second

// Sender delivers the outbox with Concurrency workers: each wakes when mails
// are queued (Notify), when the next retry is due, and every PollInterval.
// A worker claims one mail at a time with a lease, so two workers or
// senders (or a sender restarted after a crash) never hold one mail at
// once, and a crashed sender's mail is claimed again when its lease ends.
type Sender struct {
	Queue    hub.NotificationQueue
	Provider Provider
	// From is the sender address (notifications.from_email).
	From string
	// MaxAttempts is the number of attempts before a mail is failed.
	MaxAttempts int
	// Now is the clock retries are scheduled by.
	Now func() time.Time
	// Jitter returns a number in [0, 1) that spreads retries.
	Jitter       func() float64
	BaseDelay    time.Duration
	MaxDelay     time.Duration
	PollInterval time.Duration
	// SendTimeout bounds one attempt (notifications.send_timeout).
	SendTimeout time.Duration
	// Concurrency is how many mails are sent at once
	// (notifications.send_concurrency).
	Concurrency int
	// DrainTimeout is how long Close waits for sends under way before it
	// cancels them; a cancelled mail goes back to the queue.
	DrainTimeout time.Duration
	// Lease is how long a claim lasts; it must outlast a send.
	Lease time.Duration
	// Owner names this sender in the leases it takes.
	Owner  string
	Logger *slog.Logger
	// Observe, when set, is told each delivery attempt's outcome: its
	// channel and OutcomeSent, OutcomeRetried or OutcomeFailed.
	Observe func(channel, outcome string)

	// loop runs the workers; its ctx ends when Close starts, and they stop
	// claiming. abort ends the claims, sends and records under way.
	loop  loop.Loop
	abort context.CancelFunc
}

// NewSender returns a Sender with the default settings.
func NewSender(queue hub.NotificationQueue, provider Provider, from string, maxAttempts int, logger *slog.Logger) *Sender {
	if maxAttempts < 1 {
		maxAttempts = DefaultMaxAttempts
	}
	return &Sender{
		Queue: queue, Provider: provider, From: from, MaxAttempts: maxAttempts,
		Now:          time.Now,
		Jitter:       rand.Float64,
		BaseDelay:    DefaultBaseDelay,
		MaxDelay:     DefaultMaxDelay,
		PollInterval: DefaultPollInterval,
		SendTimeout:  DefaultSendTimeout,
		Concurrency:  DefaultConcurrency,
		DrainTimeout: DefaultDrainTimeout,
		Lease:        DefaultSendTimeout + time.Minute,
		Owner:        "sender-" + hub.RandomHex(8),
		Logger:       logger,
	}
}

// Notify wakes a worker; it never blocks, and wake-ups coalesce. A worker
// that finds a mail wakes another in turn, so a full queue gets every
// worker.
func (s *Sender) Notify() { s.loop.Wake() }

func (s *Sender) workers() int { return max(s.Concurrency, 1) }

// Open starts the workers; they deliver what is due at once, so mails
// queued before a restart go out first. Each then sleeps until woken, until
// the next mail is due, or PollInterval.
func (s *Sender) Open() error {
	work, abort := context.WithCancel(context.Background())
	s.abort = abort
	err := s.loop.Open(loop.Config{
		Run: func(stop context.Context) error {
			_, err := s.run(stop, work)
			return err
		},
		Next:     func() time.Duration { return s.nextWait(work) },
		Interval: s.PollInterval,
		Workers:  s.workers(),
		Logger:   s.Logger,
		Level:    slog.LevelError,
		Message:  "mail delivery failed; retrying at the next poll",
		Name:     "mail delivery",
	})
	if err != nil {
		abort()
	}
	return err
}

// Close stops claiming mails and lets sends under way finish for at most
// DrainTimeout (and half of what is left of ctx), then cancels them: their
// mails go back to the queue, due at once, to be sent again (with the same
// idempotency key) by this hub's next run or another replica. A cancelled
// send is not an error.
func (s *Sender) Close(ctx context.Context) error {
	if s.abort == nil {
		return nil
	}
	defer s.abort()
	drain := s.DrainTimeout
	if deadline, ok := ctx.Deadline(); ok {
		drain = min(drain, time.Until(deadline)/2)
	}
	drainCtx, cancel := context.WithTimeout(ctx, max(drain, 0))
	defer cancel()
	if s.loop.Close(drainCtx) == nil {
		return nil
	}
	s.abort()
	return s.loop.Close(ctx)
}

// nextWait is how long the loop sleeps: until the next mail is due, at
// most PollInterval.
func (s *Sender) nextWait(ctx context.Context) time.Duration {
	wait := s.PollInterval
	next, ok, err := s.Queue.NextOutboxDue(ctx)
	if err == nil && ok {
		if d := next.Sub(s.Now()); d < wait {
			wait = max(d, minWait)
		}
	}
	return wait
}

// RunOnce delivers every mail due now with Concurrency workers and returns
// how many it delivered.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for range s.workers() {
		wg.Go(func() {
			n, err := s.run(ctx, ctx)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// run claims and delivers due mails one at a time until none is due or
// stop ends; work carries the claims, sends and outcome records.
func (s *Sender) run(stop, work context.Context) (int, error) {
	sent := 0
	for stop.Err() == nil {
		claimed, err := s.Queue.ClaimOutbox(work, s.Owner, 1, s.Lease)
		if err != nil {
			return sent, err
		}
		if len(claimed) == 0 {
			return sent, nil
		}
		s.Notify() // more may be due: an idle worker looks too
		for _, m := range claimed {
			ok, err := s.deliver(work, m)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

// deliver sends one claimed mail and records the outcome: sent, retry at a
// backed-off time, or failed for good. A send cancelled because the sender
// is stopping puts the mail back, due at once. It reports whether the mail
// went.
func (s *Sender) deliver(ctx context.Context, m *hub.OutboxMessage) (bool, error) {
	sendCtx, cancel := context.WithTimeout(ctx, s.SendTimeout)
	sendErr := s.Provider.Send(sendCtx, &Message{
		From: s.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, IdempotencyKey: m.IdempotencyKey,
	})
	timedOut := sendErr != nil && sendCtx.Err() == context.DeadlineExceeded && ctx.Err() == nil
	cancel()
	// The outcome is recorded even while stopping, so that a delivered mail
	// is not sent again.
	markCtx, cancelMark := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancelMark()
	log := s.Logger.With("outbox_id", m.ID, "customer_id", m.CustomerID, "channel", m.Channel,
		"attempt", m.Attempts, "provider", s.Provider.Name())
	if sendErr == nil {
		if err := s.Queue.CompleteOutbox(markCtx, m.ID, s.Owner); err != nil {
			return true, err
		}
		s.observe(m.Channel, OutcomeSent)
		log.Info("mail sent")
		return true, nil
	}
	if ctx.Err() != nil {
		log.Info("mail send cancelled by shutdown; it goes back to the queue")
		s.observe(m.Channel, OutcomeRetried)
		return false, s.Queue.RetryOutbox(markCtx, m.ID, s.Owner, s.Now(), "cancelled by the hub's shutdown; will be sent again")
	}
	msg := truncate(sendErr.Error(), 500)
	if timedOut {
		msg = truncate(fmt.Sprintf("no answer within %s: %s", s.SendTimeout, sendErr.Error()), 500)
	}
	if IsPermanent(sendErr) || m.Attempts >= s.MaxAttempts {
		log.Warn("mail failed for good", "permanent", IsPermanent(sendErr), slog.String("error", msg))
		s.observe(m.Channel, OutcomeFailed)
		return false, s.Queue.FailOutbox(markCtx, m.ID, s.Owner, msg)
	}
	delay := Backoff(m.Attempts, s.BaseDelay, s.MaxDelay, retryAfter(sendErr), s.Jitter())
	log.Info("mail not sent; will retry", "retry_in", delay.Round(time.Second).String(), slog.String("error", msg))
	s.observe(m.Channel, OutcomeRetried)
	return false, s.Queue.RetryOutbox(markCtx, m.ID, s.Owner, s.Now().Add(delay), msg)
}

func (s *Sender) observe(channel, outcome string) {
	if s.Observe != nil {
		s.Observe(channel, outcome)
	}
}

// Backoff returns the wait after a failed attempt (1 for the first):
// base doubled per attempt up to limit, with "equal jitter" (the upper half
// spread by jitter in [0, 1)), and at least the provider's hint, capped at
// limit.
func Backoff(attempt int, base, limit, hint time.Duration, jitter float64) time.Duration {
	d := limit
	if attempt >= 1 && attempt < 32 {
		if b := base << (attempt - 1); b > 0 && b < limit {
			d = b
		}
	}
	d = d/2 + time.Duration(jitter*float64(d/2))
	if hint > d {
		d = min(hint, limit)
	}
	return d
}
