# A thin layer over the CMake presets. `make demo` runs Cairn; `make test` runs every test.
JOBS ?= 2
.PHONY: setup build release test test-all demo fuzz clean

setup:
	./scripts/setup

build:
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

release:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# The whole suite CI runs: unit, integration, recovery, clients, e2e (debug + sanitizers), the
# crash loop against the release binary, and a short fuzz run.
test: setup build release
	ctest --test-dir build/dev --output-on-failure -j $(JOBS) -LE 'slow|pg|clickhouse|release'
	ctest --test-dir build/release --output-on-failure -L release
	./scripts/fuzz-short

# Everything, slow suites included.
test-all: test
	ctest --test-dir build/dev --output-on-failure -j $(JOBS) -L slow

demo: setup release
	./build/release/src/app/cairn demo

fuzz:
	./scripts/fuzz-short 300

clean:
	rm -rf build
