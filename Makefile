# Thin wrapper: every target installs missing Debian packages (tools/install-deps, the list
# is tools/debian-packages.txt), configures and builds into build/, then does its job.
MAKEFLAGS += --no-print-directory
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_BUILD_TYPE ?= RelWithDebInfo

.PHONY: all deps build run test unit system format clean

all: build

deps:
	@tools/install-deps

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts a two-SP array on the simulated platform and prints its management address.
run: build
	@tools/run-pair

# Builds and runs every test (unit and system) through CTest.
test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure --timeout 600

unit: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L unit

system: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L system

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
