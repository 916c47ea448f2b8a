#!/usr/bin/env bash
# build.sh VERSION — a static hub binary with the version stamped in.
set -euo pipefail
version="${1:-dev}"
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
built="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${version} -X main.Commit=${commit} -X main.BuildTime=${built}" -o bin/hub ./cmd/hub
echo "bin/hub:"; bin/hub version
