# Thin driver over CMake. The two commands of the README:
#   make image   install what is needed, build the tools, write the default images into out/
#   make check   build (warnings are errors) and run the whole suite, then again under ASan+UBSan
#   make deb     build $(DEB_BUILD)/appliance-builder_<version>_<arch>.deb and run lintian on it
BUILD ?= build
DEB_BUILD ?= build-deb
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
OUT ?= out
PROFILE ?= minimal

.PHONY: all build deps check check-fast image deb clean

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

# The package: a build of its own (prefix /usr, no source-tree fallbacks), then dpkg-deb.
deb:
	cmake -S . -B $(DEB_BUILD) -DWERROR=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DSOURCE_TREE_DATA=OFF
	cmake --build $(DEB_BUILD) -j $(JOBS) --target appliance-builder appliance-agent appliance-env man
	sh packaging/make-deb.sh $(DEB_BUILD) .
	@if command -v lintian >/dev/null; then lintian --fail-on error $(DEB_BUILD)/appliance-builder_*.deb; \
	 else echo "make deb: lintian not installed, not checked"; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(DEB_BUILD)
