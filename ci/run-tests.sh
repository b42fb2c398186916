#!/bin/sh
# Runs the whole suite: an ASan+UBSan build with the unit, fuzz-replay and integration tests, the
# env loader's libFuzzer target for 60 s, then the -Werror build with every test, boot tests
# included (its ctest summary is the last thing printed).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)

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

# --- env loader fuzzing (60 s, libFuzzer; only where clang is installed) ---
if command -v clang >/dev/null 2>&1; then
	echo "== fuzz-env for 60 s (clang, libFuzzer)"
	if CC=clang cmake -S . -B build-fuzz -DFUZZ=ON -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug &&
		cmake --build build-fuzz -j "$jobs" --target fuzz-env-libfuzzer; then
		rm -rf build-fuzz/corpus-copy && cp -r tests/fuzz/corpus/env build-fuzz/corpus-copy
		# libFuzzer reports every new input; keep its log and show the verdict.
		if (cd build-fuzz && ./fuzz-env-libfuzzer -max_total_time=60 corpus-copy >fuzz-env.log 2>&1); then
			tail -n 1 build-fuzz/fuzz-env.log
		else
			tail -n 60 build-fuzz/fuzz-env.log
			status=1
		fi
	else
		status=1
	fi
fi
# --- end of env loader fuzzing ---

echo "== whole suite"
(cd build && ctest --output-on-failure -j "$jobs") || status=1

exit $status
