# Thin driver over CMake. The two commands of the README:
#   make image   install what is needed, build the tools, write the default images into out/
#   make check   build (warnings are errors) and run the whole suite, then again under ASan+UBSan
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
OUT ?= out
PROFILE ?= minimal

.PHONY: all build deps check check-fast image clean

all: build

deps:
	@if [ "$$(id -u)" -eq 0 ]; then sh ci/install-deps.sh; \
	 else echo "make: not root, skipping ci/install-deps.sh"; fi

build:
	cmake -S . -B $(BUILD) -DWERROR=ON
	cmake --build $(BUILD) -j $(JOBS)

check: deps
	sh ci/run-tests.sh

# The suite without boot tests (quick iteration).
check-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE boot

image: deps build
	sh builder/make-image.sh --build $(BUILD) --profile $(PROFILE) -o $(OUT)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
