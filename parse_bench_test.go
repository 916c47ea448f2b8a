package hub_test

import (
	"testing"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/fleetsim"
)

// BenchmarkParseReport reads a realistic 20 KB controller report with the
// tolerant reader, as every POST /api/v1/report does.
func BenchmarkParseReport(b *testing.B) {
	now := time.Date(2026, 11, 22, 9, 46, 0, 0, time.UTC)
	body := fleetsim.NewNode("kovacs-csalad", 7, 20<<10).Report(now, true)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hub.ParseReport(body, now); err != nil {
			b.Fatal(err)
		}
	}
}
