# A thin layer over the CMake presets. `make demo` runs Cairn; `make test` runs every test.
JOBS ?= 2
FUZZ_SECONDS ?= 30
.PHONY: setup build release test test-all demo fuzz clean

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

demo: setup release
	./build/release/src/app/cairn demo

fuzz:
	./scripts/fuzz-short 300

clean:
	rm -rf build
