VERSION ?= dev
# The commit and the build time go into `hub version`, the start-up log
# line and hub_build_info, as the version does.
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_TIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.Version=$(VERSION) -X main.Commit=$(COMMIT) -X main.BuildTime=$(BUILD_TIME)

# The hub's image, named here only: docker and docker-push use it, the
# Deployments in deploy/k8s run it (a test there keeps them equal), and the
# README's deploy steps print it with `make image`. Releases are tagged
# vX.Y.Z: `make VERSION=0.7.0 docker docker-push` (or VERSION=v0.7.0)
# pushes gitea.dooplex.hu/admin/felhom-hub:v0.7.0.
REGISTRY ?= gitea.dooplex.hu
IMAGE ?= $(REGISTRY)/admin/felhom-hub
TAG := $(if $(filter dev,$(VERSION)),dev,v$(patsubst v%,%,$(VERSION)))

.PHONY: build run test race fmt vet bench docker docker-push image

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hub ./cmd/hub

run:
	go run ./cmd/hub serve

test:
	go test ./...

race:
	go test -race ./...

# gofmt -l only lists files; vet fails when it lists any, and on what
# staticcheck's default checks find (dead code, U1000, among them).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg BUILD_TIME=$(BUILD_TIME) -t $(IMAGE):$(TAG) .

# Log in first: docker login $(REGISTRY) (the Gitea user and a token with
# package write access).
docker-push:
	docker push $(IMAGE):$(TAG)

image:
	@echo $(IMAGE):$(TAG)
