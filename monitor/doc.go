// Package monitor holds the hub's background checks: the dead man's switch
// for nodes and hosts, and the daily jobs (backup deadline check, prune).
// The decisions are the domain's (hub.Watch.Evaluate and Report); the loops
// around them only read, decide and write.
package monitor
