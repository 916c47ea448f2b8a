package web

import (
	"time"

	hub "github.com/felhom/hub"
)

// Failed logins allowed per account from one client address, and per
// client address over all accounts: a burst, then one per interval. Only
// failures count (the password and the second factor alike), and never
// per account alone: someone guessing from elsewhere cannot lock the real
// operator out. bcrypt's cost slows each guess further.
const (
	pairBurst       = 5
	pairInterval    = 20 * time.Second
	addressBurst    = 20
	addressInterval = 6 * time.Second
)

// loginLimits are the rate limits of failed logins from address for
// account, in keys of their own in the shared table.
func loginLimits(address, account string) []hub.RateLimit {
	return []hub.RateLimit{
		{Key: "login:account-addr:" + account + "|" + address, Burst: pairBurst, Every: pairInterval},
		{Key: "login:addr:" + address, Burst: addressBurst, Every: addressInterval},
	}
}
