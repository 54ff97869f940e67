#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer (with the libFuzzer
# targets), runs the store's tests under ThreadSanitizer, then runs CTest:
# unit tests, fuzz seed replays and bounded fuzz runs, and the end-to-end
# tests against the loopback test world, which CTest starts and stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MXC_TEST_BUILD:-$root/build-test}

scripts/install-deps.sh

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
	-DMXC_SANITIZE=ON -DMXC_FUZZ=ON -DMXC_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

# The threads (the store's committer, the validator's verification threads)
# under ThreadSanitizer first, in a tree of their own (TSan cannot be
# combined with ASan).
tsan=${build}-tsan
CC=clang cmake -S "$root" -B "$tsan" -DCMAKE_BUILD_TYPE=Debug -DMXC_TSAN=ON >/dev/null
tsan_tests=(test_store test_store_mem test_validator_pool)
cmake --build "$tsan" -j"$(nproc)" --target "${tsan_tests[@]}"
for t in "${tsan_tests[@]}"; do
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$tsan/tests/$t"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure --timeout 900 "$@"
