VERSION ?= dev
LDFLAGS := -s -w -X main.Version=$(VERSION)

.PHONY: build run test race fmt vet bench docker

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hub ./cmd/hub

run:
	go run ./cmd/hub serve

test:
	go test ./...

race:
	go test -race ./...

vet:
	gofmt -l . && go vet ./...

docker:
	docker build --build-arg VERSION=$(VERSION) -t felhom-hub:$(VERSION) .
