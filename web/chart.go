package web

import (
	"strconv"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// Chart is a line chart of CPU, memory and disk usage drawn as SVG on the
// server: it needs no JavaScript and no inline style.
type Chart struct {
	Width, Height int
	Left, Top     float64 // the plot area's top-left corner
	Right, Bottom float64 // and its bottom-right corner
	Series        []ChartSeries
	YTicks        []ChartTick
	XTicks        []ChartTick
	// Reports is the number of reports the chart is drawn from.
	Reports int
	// Points are tap (and hover) targets, one per bucket, that show its
	// values: a phone has no hover.
	Points []ChartPoint
}

// ChartPoint is a bucket's band: tapping it shows Label at the top.
type ChartPoint struct {
	X, Width float64
	Label    string
	// LabelX keeps the label inside the chart.
	LabelX float64
	Anchor string
}

// ChartSeries is one line of the chart, split where the node was silent.
type ChartSeries struct {
	Name  string
	Class string
	// Lines are SVG polyline point lists.
	Lines  []string
	Latest string
}

// ChartTick is a grid line with its label at X (vertical) or Y (horizontal).
type ChartTick struct {
	X, Y  float64
	Label string
}

// Chart geometry in SVG user units; the SVG scales to the page width.
const (
	chartWidth   = 720
	chartHeight  = 240
	chartLeft    = 72
	chartRight   = 712
	chartTop     = 10
	chartBottom  = 212
	chartBuckets = 240
)

// buildChart averages the points into buckets over [from, to), each
// weighted by the reports it stands for, and draws each metric as polylines
// that break where reports are missing for long.
func buildChart(points []hub.MetricPoint, from, to time.Time, loc *time.Location) Chart {
	c := Chart{Width: chartWidth, Height: chartHeight, Left: chartLeft, Top: chartTop,
		Right: chartRight, Bottom: chartBottom}
	period := to.Sub(from)
	if period <= 0 {
		return c
	}
	bucket := max(period/chartBuckets, 15*time.Minute)
	// A silence longer than this breaks the line: an hour is when a node
	// counts as down; long periods have wide buckets and allow more.
	maxGap := max(3*bucket, time.Hour)

	type sum struct {
		at                time.Time
		cpu, mem, disk    float64
		n                 int
		cpuN, memN, diskN int
	}
	var buckets []sum
	for _, p := range points {
		if p.Samples <= 0 || !p.Time.Before(to) {
			continue
		}
		c.Reports += p.Samples
		at := p.Time // a rolled-up point may start before from: it counts at from
		if at.Before(from) {
			at = from
		}
		start := from.Add(at.Sub(from) / bucket * bucket)
		if len(buckets) == 0 || !buckets[len(buckets)-1].at.Equal(start) {
			buckets = append(buckets, sum{at: start})
		}
		b := &buckets[len(buckets)-1]
		n := float64(p.Samples)
		// A metric the reports did not give readably is left out, not
		// drawn as 0 %.
		if p.Unread&hub.UnreadCPU == 0 {
			b.cpu += p.CPUAvg * n
			b.cpuN += p.Samples
		}
		if p.Unread&hub.UnreadMem == 0 {
			b.mem += p.MemAvg * n
			b.memN += p.Samples
		}
		if p.Unread&hub.UnreadDisk == 0 {
			b.disk += p.DiskAvg * n
			b.diskN += p.Samples
		}
		b.n += p.Samples
	}

	x := func(t time.Time) float64 {
		return chartLeft + float64(t.Sub(from))/float64(period)*(chartRight-chartLeft)
	}
	y := func(v float64) float64 {
		v = min(max(v, 0), 100)
		return chartBottom - v/100*(chartBottom-chartTop)
	}
	avg := func(total float64, n int) (float64, bool) {
		if n == 0 {
			return 0, false
		}
		return total / float64(n), true
	}
	metrics := []struct {
		name, class string
		value       func(sum) (float64, bool)
	}{
		{"CPU", "s-cpu", func(b sum) (float64, bool) { return avg(b.cpu, b.cpuN) }},
		{"Memory", "s-mem", func(b sum) (float64, bool) { return avg(b.mem, b.memN) }},
		{"Disk", "s-disk", func(b sum) (float64, bool) { return avg(b.disk, b.diskN) }},
	}
	for _, m := range metrics {
		s := ChartSeries{Name: m.name, Class: m.class}
		var line []string
		flush := func() {
			if len(line) == 1 { // a lone point: draw it as a dot
				line = append(line, line[0])
			}
			if len(line) > 0 {
				s.Lines = append(s.Lines, strings.Join(line, " "))
			}
			line = nil
		}
		var last time.Time
		for _, b := range buckets {
			v, ok := m.value(b)
			if !ok {
				continue
			}
			if !last.IsZero() && b.at.Sub(last) > maxGap {
				flush()
			}
			last = b.at
			mid := b.at.Add(bucket / 2)
			line = append(line, coord(x(mid))+","+coord(y(v)))
		}
		flush()
		if len(buckets) > 0 {
			if v, ok := m.value(buckets[len(buckets)-1]); ok {
				s.Latest = formatPercent(v)
			}
		}
		c.Series = append(c.Series, s)
	}
	width := float64(bucket) / float64(period) * (chartRight - chartLeft)
	for _, b := range buckets {
		label := b.at.In(loc).Format("Jan 2 15:04")
		for _, m := range metrics {
			if v, ok := m.value(b); ok {
				label += " · " + m.name + " " + formatPercent(v)
			} else {
				label += " · " + m.name + " –"
			}
		}
		px := x(b.at)
		pt := ChartPoint{X: px, Width: max(width, 2), Label: label, LabelX: px, Anchor: "middle"}
		switch {
		case px < chartLeft+(chartRight-chartLeft)/3:
			pt.LabelX, pt.Anchor = chartLeft+2, "start"
		case px > chartRight-(chartRight-chartLeft)/3:
			pt.LabelX, pt.Anchor = chartRight-2, "end"
		}
		c.Points = append(c.Points, pt)
	}

	for _, v := range []float64{0, 25, 50, 75, 100} {
		c.YTicks = append(c.YTicks, ChartTick{X: chartLeft, Y: y(v), Label: strconv.Itoa(int(v)) + "%"})
	}
	for _, t := range timeTicks(from, to, loc) {
		c.XTicks = append(c.XTicks, ChartTick{X: x(t.at), Y: chartBottom, Label: t.label})
	}
	return c
}

type timeTick struct {
	at    time.Time
	label string
}

// timeTicks returns labelled times within (from, to) at round local times:
// every 6 hours for a day, every day for a week, every 5 days beyond.
func timeTicks(from, to time.Time, loc *time.Location) []timeTick {
	period := to.Sub(from)
	local := from.In(loc)
	var next func(time.Time) time.Time
	var start time.Time
	layout := "Jan 2"
	switch {
	case period <= 36*time.Hour:
		start = time.Date(local.Year(), local.Month(), local.Day(), local.Hour()/6*6, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.Add(6 * time.Hour) }
		layout = "15:04"
	case period <= 10*24*time.Hour:
		start = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	default:
		start = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 5) }
	}
	var out []timeTick
	for t := start; t.Before(to); t = next(t) {
		if t.After(from) {
			out = append(out, timeTick{at: t, label: t.Format(layout)})
		}
	}
	return out
}

// coord formats an SVG coordinate with one decimal.
func coord(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// PlotHeight is the height of the plot area.
func (c Chart) PlotHeight() float64 { return c.Bottom - c.Top }
