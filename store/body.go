package store

import (
	"bytes"
	"fmt"
	"hash/fnv"
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

// Bodies of the full tier are deltas: zstd frames that use a keyframe (the
// first report of the subject's day) as a raw dictionary. A frame names its
// dictionary by id; the id is a hash of the keyframe, so that a body read
// against the wrong keyframe fails instead of decoding to garbage (the
// frame's checksum would catch it too).
func keyframeDictID(keyframe []byte) uint32 {
	h := fnv.New32a()
	h.Write(keyframe)
	if id := h.Sum32(); id != 0 {
		return id
	}
	return 1
}

// isPlainJSON reports whether a stored body is JSON as received (written by
// a version that did not compress), not a zstd frame.
func isPlainJSON(stored []byte) bool {
	return len(stored) > 0 && !bytes.HasPrefix(stored, zstdMagic)
}

// decodeDelta returns the JSON of a body stored as a delta against keyframe.
// It builds a decoder for the one read: deltas are read rarely (forensics),
// never on the ingest or fleet-view paths.
func decodeDelta(stored, keyframe []byte) ([]byte, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20),
		zstd.WithDecoderDictRaw(keyframeDictID(keyframe), keyframe))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	out, err := dec.DecodeAll(stored, nil)
	if err != nil {
		return nil, fmt.Errorf("decode stored report delta: %w", err)
	}
	return out, nil
}

// deltaCodec encodes bodies against one keyframe at a time and checks each
// delta by decoding it. It is owned by one goroutine (the compactor):
// switching keyframes resets the encoder rather than building a new one,
// which costs milliseconds and megabytes.
type deltaCodec struct {
	keyframe []byte
	enc      *zstd.Encoder
	dec      *zstd.Decoder
}

// use makes keyframe the dictionary of the next encodes.
func (c *deltaCodec) use(keyframe []byte) error {
	if c.enc != nil && bytes.Equal(c.keyframe, keyframe) {
		return nil
	}
	id := keyframeDictID(keyframe)
	var err error
	if c.enc == nil {
		c.enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<20), zstd.WithEncoderDictRaw(id, keyframe))
		if err != nil {
			return err
		}
		c.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20),
			zstd.WithDecoderDictRaw(id, keyframe))
	} else {
		if err = c.enc.ResetWithOptions(nil, zstd.WithEncoderDictRaw(id, keyframe)); err == nil {
			err = c.dec.ResetWithOptions(nil, zstd.WithDecoderDictDelete(), zstd.WithDecoderDictRaw(id, keyframe))
		}
	}
	if err != nil {
		c.close()
		return fmt.Errorf("delta codec: %w", err)
	}
	c.keyframe = keyframe
	return nil
}

// encode returns raw as a delta against the current keyframe, after
// checking that it decodes back to raw.
func (c *deltaCodec) encode(raw []byte) ([]byte, error) {
	delta := c.enc.EncodeAll(raw, make([]byte, 0, 1024))
	back, err := c.dec.DecodeAll(delta, nil)
	if err != nil || !bytes.Equal(back, raw) {
		return nil, fmt.Errorf("delta codec: a delta does not decode back to its report (%v)", err)
	}
	return delta, nil
}

func (c *deltaCodec) close() {
	if c.enc != nil {
		c.enc.Close()
		c.dec.Close()
	}
	c.enc, c.dec, c.keyframe = nil, nil, nil
}
