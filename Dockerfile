# Multi-stage build: a static, pure-Go binary on a distroless base, non-root.
#
# The base images are pinned by digest (the tag says what the image is, the
# digest which build of it), so that a rebuild of the same commit uses the
# same bases; bumping one is a reviewed commit. The builder's Go must be at
# least go.mod's go line: the official image sets GOTOOLCHAIN=local. Check a
# digest (or find the current one) with
#   docker buildx imagetools inspect golang:1.26.8
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
FROM golang:1.26.8@sha256:6c2a5538f964f1c82f97ad14988bf05de100d922d159d0e398b54c7b0ca0c6c9 AS build
WORKDIR /src
COPY go.mod go.sum ./
# Cache mounts (BuildKit): the module and build caches outlive the layers,
# so a source change recompiles only what changed.
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_TIME=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.Version=${VERSION} -X main.Commit=${COMMIT} -X main.BuildTime=${BUILD_TIME}" \
    -o /out/hub ./cmd/hub

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_TIME=unknown
LABEL org.opencontainers.image.title="felhom-hub" \
      org.opencontainers.image.description="The felhom fleet hub: ingests controller and agent reports, watches for silent nodes, serves the operator's dashboard" \
      org.opencontainers.image.source="https://gitea.dooplex.hu/admin/felhom-hub" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_TIME}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/hub /hub
ENV HUB_SERVER_DATA_DIR=/data \
    HUB_LOG_FORMAT=json
VOLUME /data
# 8080: the API, the dashboard and the probes; 9090: /metrics when
# HUB_SERVER_METRICS_LISTEN=:9090 (as the Kubernetes manifests set it).
EXPOSE 8080 9090
USER nonroot:nonroot
ENTRYPOINT ["/hub"]
CMD ["serve"]
