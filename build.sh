#!/usr/bin/env bash
# build.sh VERSION — a static hub binary with the version stamped in.
set -euo pipefail
version="${1:-dev}"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${version}" -o bin/hub ./cmd/hub
echo "bin/hub $(bin/hub version)"
