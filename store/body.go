package store

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Report bodies are stored zstd-compressed. A stored body is told apart by
// its first bytes: a zstd frame starts with its magic number, JSON never
// does, so bodies written before compression stay readable as they are.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

var (
	encoderOnce sync.Once
	encoder     *zstd.Encoder
	decoder     *zstd.Decoder
)

func codecs() (*zstd.Encoder, *zstd.Decoder) {
	encoderOnce.Do(func() {
		var err error
		// SpeedFastest: ~55 µs and ~15x on a 20 KB report here; the better
		// levels gain 2 % for twice to six times the CPU.
		encoder, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err) // only on invalid options
		}
		decoder, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
		if err != nil {
			panic(err)
		}
	})
	return encoder, decoder
}

// encodeBody compresses a report body for storage.
func encodeBody(raw []byte) []byte {
	enc, _ := codecs()
	return enc.EncodeAll(raw, make([]byte, 0, len(raw)/8))
}

// decodeBody returns a stored body as the JSON received.
func decodeBody(stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, zstdMagic) {
		return stored, nil
	}
	_, dec := codecs()
	out, err := dec.DecodeAll(stored, nil)
	if err != nil {
		return nil, fmt.Errorf("decode stored report body: %w", err)
	}
	return out, nil
}
