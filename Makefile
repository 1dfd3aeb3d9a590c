# Peregrine: the two commands are `make run` and `make test` (see README.md).
.PHONY: all bootstrap build release debug test test-debug test-release bench clean

JOBS ?= $(shell nproc)

all: release

bootstrap:
	@scripts/bootstrap

release: bootstrap
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

debug: bootstrap
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)

build: release

## test: installs what is missing, builds debug (ASan+UBSan) and release, runs every test in both.
test: test-debug test-release

test-debug: debug
	ctest --preset debug -j $(JOBS)

test-release: release
	ctest --preset release -j $(JOBS)

## bench: regenerates docs/benchmarks.md from real runs.
bench: bootstrap
	scripts/bench-micro

clean:
	rm -rf build
