# swarmrun: run `make demo` to see it work, `make test` to run every test.
GO        ?= go
BIN       := bin/swarmrun
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOTEST_TIMEOUT ?= 25m

.PHONY: all build swarm images chromium vet lint unit test demo bench fuzz clean

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/swarmrun

# A single-node swarm on this machine: installs docker.io, starts dockerd, swarm init (idempotent).
swarm:
	bash scripts/swarm-up.sh

# The probe images every test and the demo use (built FROM scratch, skipped when present).
images: swarm
	bash scripts/build-images.sh

# Debian's chromium, for the status page's browser test (idempotent).
chromium:
	bash scripts/chromium-up.sh

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

# staticcheck (pinned in tools/go.mod) over every package, integration tests included. The
# architecture's import rules (the Docker SDK only under deploy/, zap only under cmd/, ...)
# are a test: internal/archtest.
lint:
	$(GO) tool -modfile=tools/go.mod staticcheck -tags integration ./...

# Unit tests only: no swarm needed, none touched (the real-swarm tests are behind the build
# tag integration).
unit:
	$(GO) test -race -count=1 ./...

# Everything: vet, lint, unit tests with -race, and the integration tests on the real swarm
# and in headless Chromium, which fail (never skip) when the swarm or Chromium is missing.
test: images chromium vet lint
	$(GO) test -race -count=1 -tags integration -timeout $(GOTEST_TIMEOUT) ./...

# KEEP=1 leaves what the mission made (its data directory and warm stack) for a look after.
demo: build images
	$(GO) build -o bin/swarmrun-demo ./demo/mission
	bash scripts/demo.sh

bench: build images
	bash scripts/bench.sh

clean:
	rm -rf bin
