//go:build !linux

package main

import (
	"errors"
	"os"
)

// isTerminal is false off Linux: the password is read as a line of stdin.
func isTerminal(*os.File) bool { return false }

func readNoEcho(*os.File) (string, error) { return "", errors.New("no terminal support") }
