# Peregrine: the two commands are `make run` and `make test` (see README.md).
.PHONY: all bootstrap build release debug tsan run check test test-debug test-release test-tsan bench fuzz image image-bench clean

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

## run: installs, builds release, starts the engine on localhost with the demo instruments.
## ARGS: more flags for peregrine, e.g. ARGS='--ouch-listen 127.0.0.1:19001' when 9001 is taken.
run: release
	@echo "Starting Peregrine with config/demo.yaml (Ctrl-C stops it: End of Session, exit 0)."
	@echo "Send a first order from another terminal:  scripts/send-order B 100 600519 1700.00"
	@echo "Then look at the book:  curl 'http://127.0.0.1:8080/admin/depth?symbol=600519&levels=5'"
	build/release/peregrine --config config/demo.yaml $(ARGS)

## check: the developer loop: builds release, runs its unit and integration tests (not the crash,
## deployment, image, fuzz, Kubernetes API server or RabbitMQ tests; make test runs everything).
check: release
	ctest --preset release -j $(JOBS) -LE 'crash|fuzz|deploy|kube|rabbitmq'

## test: installs what is missing, builds debug (ASan+UBSan) and release, runs every test in both,
## then the tests of every thread (app, ring, ops, journal, integration) under ThreadSanitizer.
## The Go tools, the image base and the tests' image are fetched and built beside the debug build (scripts/test-tools,
## at nice 19 until that build is done, then at normal priority: root may lower a nice value, other
## users keep 19), not first when a test asks. Stopped with make (its own session: a signal to make
## does not reach it).
test: bootstrap
	@mkdir -p build; setsid nice -n 19 scripts/test-tools > build/test-tools.log 2>&1 & pf=$$!; \
	  trap 'kill -- -$$pf 2>/dev/null' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; \
	  $(MAKE) debug; [ "$$(id -u)" = 0 ] && renice -n 0 -g $$pf > /dev/null; \
	  $(MAKE) test-debug test-release test-tsan

test-debug: debug
	ctest --preset debug -j $(JOBS)

test-release: release
	ctest --preset release -j $(JOBS)

# ThreadSanitizer: only what has threads of its own (the server binary; the tests' process launcher,
# which forks beside other threads; the app, ring, agent, ops, journal, replay and egress units;
# the integration tests without the crash and DPDK ones; the drop copy's broker tests, for its
# publisher thread); tests whose binaries are not built here carry no label and are left out by -L.
TSAN_TARGETS = peregrine support_tests app_tests ring_tests agent_tests ops_tests journal_tests replay_tests egress_tests ha_tests ha_replication_tests dropcopy_broker_tests integration_tests journal_startup_tests exchange_clock_integration_tests idle_cpu_integration_tests startup_integration_tests
tsan: bootstrap
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS) --target $(TSAN_TARGETS)

test-tsan: tsan
	ctest --preset tsan -j $(JOBS) -L 'tsan|integration|rabbitmq' -LE 'crash|dpdk'

## fuzz: builds the libFuzzer targets and runs each for FUZZ_SECONDS (default 60).
FUZZ_SECONDS ?= 60
fuzz: release
	cmake --build --preset release --target peregrine_fuzz
	for t in soupbintcp_ouch ouch42 itch50 moldudp64 sessions udp_ingress journal engine_snapshot egress_snapshot; do scripts/fuzz $$t $(FUZZ_SECONDS) || exit 1; done

## bench: regenerates docs/benchmarks.md from real runs: the core micro benchmarks
## (scripts/bench-micro), the end-to-end scenarios of peregrine-bench (scripts/bench-report), and
## the call-auction uncross (scripts/bench-auction), journal replay speed (scripts/bench-replay),
## latency by journal durability policy (scripts/bench-journal) and the drop copy's throughput and
## lag (scripts/bench-dropcopy).
bench: bootstrap
	scripts/bench-micro
	scripts/bench-report
	scripts/bench-auction
	scripts/bench-replay
	scripts/bench-journal
	scripts/bench-dropcopy
	if pkg-config --exists libdpdk; then scripts/bench-dpdk; else echo "make bench: no libdpdk, DPDK section left as it is"; fi

## image: builds the container image peregrine:$(IMAGE_TAG) locally (scripts/image: a debootstrapped
## Debian 12 base imported into Docker when no registry is reachable, then deploy/docker/Dockerfile).
IMAGE_TAG ?= dev
image: bootstrap
	scripts/image peregrine:$(IMAGE_TAG)

## image-bench: regenerates the image section of docs/benchmarks.md (size, docker run -> ready).
image-bench: bootstrap
	scripts/image-bench

clean:
	rm -rf build
