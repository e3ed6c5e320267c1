# Thin wrapper: every target installs missing Debian packages (tools/install-deps, the list
# is tools/debian-packages.txt), configures and builds into build/, then does its job.
MAKEFLAGS += --no-print-directory
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_BUILD_TYPE ?= RelWithDebInfo

FIRMWARE_ARCH ?= arm64

.PHONY: all deps build firmware run test unit system qemu chaos format clean

all: build

deps:
	@tools/install-deps

# CivetWeb is built into spweb from Debian's source package, with our patches (CMakeLists.txt
# says why); the firmware build (Makefile.cross) uses the same tree, prepared by the same
# script. The stamp depends on the patch: an existing unpatched tree gets patched.
CIVETWEB_SRC := build/cross/src/civetweb
CIVETWEB_INPUTS := tools/firmware/civetweb-source tools/firmware/debfetch \
  tools/firmware/civetweb-mbedtls-options.patch
$(CIVETWEB_SRC)/.dualsp-patched: $(CIVETWEB_INPUTS)
	@tools/firmware/civetweb-source --apt-dir build/cross/apt --into $(CIVETWEB_SRC)

build: deps $(CIVETWEB_SRC)/.dualsp-patched
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) \
	  -DCIVETWEB_SOURCE_DIR=$(abspath $(CIVETWEB_SRC)) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts a two-SP array on the simulated platform and prints its management address.
run: build
	@tools/run-pair

# The firmware image the QEMU tests boot (Makefile.cross, docs/FIRMWARE.md).
firmware: deps
	@$(MAKE) -f Makefile.cross ARCH=$(FIRMWARE_ARCH)

# Builds and runs every test (unit, system and QEMU firmware) through CTest.
test: build firmware
	@ctest --test-dir $(BUILD_DIR) --output-on-failure --timeout 600

unit: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L unit

system: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L system

qemu: build firmware
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L qemu

# The randomized fault campaign (tests/chaos, docs/CHAOS.md) for as long as you like, beside
# anything else on the machine (private namespaces): make chaos MINUTES=30 SEED=7
MINUTES ?= 30
SEED ?= 1
chaos: build
	@DUALSP_BUILD_DIR=$(abspath $(BUILD_DIR)) /usr/bin/python3 tests/chaos --minutes $(MINUTES) --seed $(SEED) --private-ns

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
