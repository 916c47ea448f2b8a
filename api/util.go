package api

import (
	"bytes"
	"io"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// unknownFieldMessage turns encoding/json's unknown-field error into a
// client-facing message.
func unknownFieldMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + name
	}
	return "malformed JSON"
}
