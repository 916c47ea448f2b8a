package web

import (
	"context"
	"log/slog"
	"time"

	hub "github.com/felhom/hub"
)

// Login attempts allowed per client address and per account: a burst, then
// one attempt per interval. The account limit stops a guesser that spreads
// over many addresses; bcrypt's cost slows each guess further.
const (
	addressBurst    = 5
	addressInterval = 20 * time.Second
	accountBurst    = 20
	accountInterval = 6 * time.Second
)

// operatorAccount is the name of the dashboard's only account.
const operatorAccount = "operator"

// loginLimits are the rate limits of a login attempt from address for
// account, in keys of their own in the shared table.
func loginLimits(address, account string) []hub.RateLimit {
	return []hub.RateLimit{
		{Key: "login:addr:" + address, Burst: addressBurst, Every: addressInterval},
		{Key: "login:account:" + account, Burst: accountBurst, Every: accountInterval},
	}
}

// allowLogin reports whether a login attempt from address for account may
// go ahead now, and counts it if so. The database checks and counts both
// limits in one step, so that every replica of the hub shares them and a
// refusal by one limit does not use up the other. When it cannot, the
// attempt is refused: a guesser must not get unlimited tries while the
// database fails.
func (s *Server) allowLogin(ctx context.Context, address, account string) bool {
	ok, err := s.RateLimits.TakeRateLimitEvents(ctx, loginLimits(address, account)...)
	if err != nil {
		s.Logger.Error("login throttle cannot be checked; attempt refused", "remote", address, slog.Any("error", err))
		return false
	}
	return ok
}
