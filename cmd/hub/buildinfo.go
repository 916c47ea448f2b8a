package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Commit and BuildTime are set at build time, as Version is:
// -ldflags "-X main.Commit=$(git rev-parse --short HEAD) -X main.BuildTime=…"
// (make build and the Dockerfile do). Without them the hub reads the
// commit the go tool stamped into the binary, if any.
var (
	Commit    = ""
	BuildTime = ""
)

// buildInfo is what `hub version`, the logs and hub_build_info say about
// this binary.
type buildInfo struct {
	Version, Commit, BuildTime, Go string
}

// currentBuild returns this binary's build info; unknown parts read
// "unknown".
func currentBuild() buildInfo {
	b := buildInfo{Version: Version, Commit: Commit, BuildTime: BuildTime, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
				if len(b.Commit) > 12 {
					b.Commit = b.Commit[:12]
				}
			case s.Key == "vcs.time" && b.BuildTime == "":
				b.BuildTime = s.Value // the commit's time: the best a plain go build knows
			}
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.BuildTime == "" {
		b.BuildTime = "unknown"
	}
	return b
}

// printVersion writes `hub version`'s answer.
func printVersion(w io.Writer) {
	b := currentBuild()
	fmt.Fprintf(w, "hub %s\ncommit: %s\nbuilt: %s\ngo: %s\n", b.Version, b.Commit, b.BuildTime, b.Go)
}
