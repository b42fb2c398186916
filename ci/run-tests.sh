#!/bin/sh
# Runs the whole suite: an ASan+UBSan build with the unit, fuzz-replay and integration tests, every
# libFuzzer target for 30 s (ci/fuzz-soak), then the -Werror build with every test, boot tests
# included (its ctest summary is the last thing printed).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
# Two VMs at a time in the whole suite (the boot tests each take one "vm").
resources=$PWD/ci/ctest-resources.json

echo "== build (warnings are errors)"
cmake -S . -B build -DWERROR=ON
cmake --build build -j "$jobs"

echo "== ASan+UBSan build"
cmake -S . -B build-asan -DWERROR=ON -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j "$jobs"

export ASAN_OPTIONS=detect_stack_use_after_return=1:strict_string_checks=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
echo "== suite under ASan+UBSan (without boot tests)"
(cd build-asan && ctest --output-on-failure -j "$jobs" -LE boot) || status=1

# --- fuzzing: every libFuzzer target for 30 s (ci/fuzz-soak; only where clang is installed) ---
if command -v clang >/dev/null 2>&1; then
	echo "== every fuzz target for 30 s (clang, libFuzzer)"
	ci/fuzz-soak -s 30 -j "$jobs" || status=1
fi
# --- end of fuzzing ---

echo "== whole suite"
(cd build && ctest --output-on-failure -j "$((jobs + 1))" --resource-spec-file "$resources") ||
	status=1

exit $status
