# A thin layer over the CMake presets. `make demo` runs Cairn; `make test` runs every test.
JOBS ?= 2
FUZZ_SECONDS ?= 30
.PHONY: setup build release test test-all test-tsan demo fuzz clean

setup:
	./scripts/setup

build:
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

release:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# The whole suite CI runs: unit, integration, recovery (kill -9 loop), real clients and the browser,
# all on the ASan + UBSan build, then a short fuzz run of the ingest parser.
test: setup build
	ctest --test-dir build/dev --output-on-failure -j $(JOBS) -LE 'slow|pg|clickhouse'
	./scripts/fuzz-short $(FUZZ_SECONDS)

# Everything, slow suites included.
test-all: test
	ctest --test-dir build/dev --output-on-failure -j $(JOBS) -L slow

# ThreadSanitizer, by hand (not in CI: its own build, ~5-15 × slower): the unit tests of the
# threaded core (store, ingest, api, journey) and the server black-box suite, on build/tsan. Every
# report (the test binaries' and the servers' they start) lands in build/tsan/tsan-reports; any
# report fails the target. docs/reliability.md, "Data races".
TSAN_TESTS = wal_test segment_test store_test store_erasure_test store_fault_test ingest_parse_test \
             identity_test journey_test api_test cairn_blackbox_test
test-tsan:
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS) --target $(TSAN_TESTS)
	rm -rf build/tsan/tsan-reports && mkdir -p build/tsan/tsan-reports
	TSAN_OPTIONS="log_path=$(CURDIR)/build/tsan/tsan-reports/report second_deadlock_stack=1 $(TSAN_OPTIONS)" \
	  ctest --test-dir build/tsan --output-on-failure -j $(JOBS) -R '^($(subst $(eval) ,|,$(strip $(TSAN_TESTS))))$$'; \
	  s=$$?; if ls build/tsan/tsan-reports/report* >/dev/null 2>&1; then \
	    cat build/tsan/tsan-reports/report*; echo "test-tsan: ThreadSanitizer reports above"; exit 1; fi; exit $$s

demo: setup release
	./build/release/src/app/cairn demo

fuzz:
	./scripts/fuzz-short 300

clean:
	rm -rf build
