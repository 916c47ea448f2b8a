package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/felhom/hub/fleetsim"
	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkBodyCodecs compares the ways of storing report bodies that
// issue 10 weighed, on a day of fleetsim's realistic reports (30 nodes,
// every 15 minutes, controller and host streams): zstd per body (what
// ingest writes), zstd with a dictionary trained on the fleet's previous
// day, and the keyframe delta the compactor writes (the node's first
// report of the day as a raw dictionary; keyframes counted in). It reports
// stored bytes per report and the ratio to the JSON.
//
//	go test -run X -bench BodyCodecs -benchtime 3x ./store/
func BenchmarkBodyCodecs(b *testing.B) {
	const nodes = 30
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	type report struct {
		node int
		body []byte
	}
	streams := map[string][2][]report{} // stream → [training day, measured day]
	sim := make([]*fleetsim.Node, nodes)
	for i := range sim {
		sim[i] = fleetsim.NewNode(fmt.Sprintf("sim-%05d", i), uint64(i+1), max(2<<10, min(40<<10, 10<<10+(i*7919)%(20<<10))))
	}
	for day := range 2 {
		for q := range 96 {
			now := start.Add(time.Duration(day*96+q) * 15 * time.Minute)
			for i, n := range sim {
				n.Tick(15 * time.Minute)
				for name, body := range map[string][]byte{"controller": n.Report(now, true), "host": n.HostReport(n.CustomerID+"-host", now)} {
					days := streams[name]
					days[day] = append(days[day], report{i, body})
					streams[name] = days
				}
			}
		}
	}
	for _, name := range []string{"controller", "host"} {
		training, measured := streams[name][0], streams[name][1]
		raw := 0
		for _, r := range measured {
			raw += len(r.body)
		}
		result := func(b *testing.B, stored int) {
			b.ReportMetric(float64(stored)/float64(len(measured)), "B/report")
			b.ReportMetric(float64(raw)/float64(stored), "ratio")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(measured)), "ns/report")
			b.ReportMetric(float64(raw)/float64(len(measured)), "JSON-B/report")
		}
		b.Run(name+"/zstd-per-body", func(b *testing.B) {
			stored := 0
			for b.Loop() {
				stored = 0
				for _, r := range measured {
					stored += len(encodeBody(r.body))
				}
			}
			result(b, stored)
		})
		b.Run(name+"/zstd-fleet-dictionary", func(b *testing.B) {
			var samples [][]byte
			for _, r := range training {
				samples = append(samples, r.body)
			}
			d, err := dict.BuildZstdDict(samples, dict.Options{MaxDictSize: 64 << 10, HashBytes: 6, ZstdDictID: 1, ZstdLevel: zstd.SpeedFastest})
			if err != nil {
				b.Fatal(err)
			}
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithEncoderDict(d))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			stored := 0
			for b.Loop() {
				stored = 0
				for _, r := range measured {
					stored += len(enc.EncodeAll(r.body, nil))
				}
			}
			result(b, stored)
		})
		b.Run(name+"/keyframe-delta", func(b *testing.B) {
			var codec deltaCodec
			defer codec.close()
			stored := 0
			for b.Loop() {
				stored = 0
				keyframes := map[int][]byte{}
				for _, r := range measured {
					if keyframes[r.node] == nil {
						keyframes[r.node] = r.body
						stored += len(encodeBody(r.body))
					}
					if err := codec.use(keyframes[r.node]); err != nil {
						b.Fatal(err)
					}
					delta, err := codec.encode(r.body)
					if err != nil {
						b.Fatal(err)
					}
					stored += len(delta)
				}
			}
			result(b, stored)
		})
	}
}
