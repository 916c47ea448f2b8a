//go:build !linux

package main

import (
	"errors"
	"os"
)

// isTerminal reports false where the hub cannot switch echo off: the
// password is then read as a plain line.
func isTerminal(*os.File) bool { return false }

func withoutEcho(*os.File, func() (string, error)) (string, error) {
	return "", errors.New("no terminal support on this system")
}
