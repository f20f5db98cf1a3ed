# swarmrun: run `make demo` to see it work, `make test` to run every test.
GO        ?= go
BIN       := bin/swarmrun
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOTEST_TIMEOUT ?= 25m

.PHONY: all build swarm images vet unit test demo bench fuzz clean

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/swarmrun

# A single-node swarm on this machine: installs docker.io, starts dockerd, swarm init (idempotent).
swarm:
	bash scripts/swarm-up.sh

# The probe images every test and the demo use (built FROM scratch, skipped when present).
images: swarm
	bash scripts/build-images.sh

vet:
	$(GO) vet ./...

# Unit tests only: no swarm needed, tests that need one are skipped.
unit:
	$(GO) test -race -count=1 ./...

# Everything: vet, unit tests with -race, and the integration tests on the real swarm, which
# fail (never skip) when the swarm is missing.
test: images vet
	SWARMRUN_REQUIRE_SWARM=1 $(GO) test -race -count=1 -timeout $(GOTEST_TIMEOUT) ./...

demo: build images
	bash scripts/demo.sh

bench: build images
	bash scripts/bench.sh

clean:
	rm -rf bin
