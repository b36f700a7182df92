#!/usr/bin/env bash
# The two README commands, and a few more for developers:
#   ./build.sh sample     install what is missing, build, run the word-count samples
#   ./build.sh test       install what is missing, build, run every test (also under ASan/UBSan,
#                         the unit tests under TSan), then fuzz the config loaders for a minute
#   ./build.sh fuzz [S]   build the libFuzzer harnesses with clang and run each for S seconds
#   ./build.sh tsan       build and run the unit tests (the threaded parts) under ThreadSanitizer
#   ./build.sh bench      build and run the benchmarks
#   ./build.sh build      just build (into build/)
set -euo pipefail
cd "$(dirname "$0")"

packages=(g++ cmake ninja-build libboost-dev nlohmann-json3-dev libspdlog-dev doctest-dev libcli11-dev libxxhash-dev)
# The MpiRunner plugin and its tests need Open MPI; the sample does not.
mpi_packages=(libopenmpi-dev openmpi-bin)
# The fuzzers need clang and its libFuzzer runtime; the tests also run them.
fuzz_packages=(clang libclang-rt-14-dev)
jobs=$(nproc 2>/dev/null || echo 2)

install_missing() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "== installing: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo=sudo
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR [cmake options...]
build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

# The unit tests hold the threaded parts (ThreadRunner, lifecycle, hooks, progress line,
# the journal's writer): built and run under ThreadSanitizer.
tsan() {
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-g1 -DKILN_SANITIZE_THREAD=ON \
        -DKILN_BUILD_SAMPLES=OFF -DKILN_BUILD_BENCHMARKS=OFF >/dev/null
    cmake --build build-tsan -j "$jobs" --target kiln_unit_tests
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
        ctest --test-dir build-tsan -R '^unit[.]' --output-on-failure -j "$jobs"
}

# fuzz SECONDS: each harness in tests/fuzz for that long, from the seed corpus in the repo
# (new inputs it finds go to build-fuzz/corpus/, a crash to build-fuzz/crash-*): any crash,
# leak, undefined behaviour or uncaught exception fails.
fuzz() {
    local seconds=$1
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=None \
        -DCMAKE_CXX_FLAGS=-gline-tables-only -DKILN_SANITIZE=ON -DKILN_BUILD_FUZZERS=ON \
        -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_SAMPLES=OFF -DKILN_BUILD_BENCHMARKS=OFF >/dev/null
    cmake --build build-fuzz -j "$jobs" --target kiln_config_fuzzer
    mkdir -p build-fuzz/corpus/config
    build-fuzz/bin/kiln_config_fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix=build-fuzz/ build-fuzz/corpus/config tests/fuzz/corpus/config \
        2>build-fuzz/config_fuzzer.log || { tail -60 build-fuzz/config_fuzzer.log >&2; exit 1; }
    grep -E "^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss" build-fuzz/config_fuzzer.log || true
}

case "${1:-}" in
sample)
    install_missing
    build build
    build/bin/kiln run --project samples/wordcount --plugin-path build/samples/wordcount/plugins
    echo "== outputs:" && find samples/wordcount/data -newer samples/wordcount/pipelines.json -type f | sort
    # The same nodes as a Kedro-style project: conf/ environments, dataset factories, one
    # pipeline reused for two corpora, a versioned report, a folder of notes (partitions).
    build/bin/kiln run --project samples/corpora --plugin-path build/samples/wordcount/plugins --env prod
    echo "== outputs:" && find samples/corpora/data -newer samples/corpora/conf/base/pipelines.json -type f | sort
    ;;
test)
    packages+=("${mpi_packages[@]}" "${fuzz_packages[@]}")
    install_missing
    build build
    ctest --test-dir build --output-on-failure -j "$jobs"
    build build-asan -DKILN_SANITIZE=ON -DKILN_BUILD_BENCHMARKS=OFF
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
    tsan
    fuzz 60
    ;;
tsan)
    install_missing
    tsan
    ;;
fuzz)
    packages+=("${fuzz_packages[@]}")
    install_missing
    fuzz "${2:-60}"
    ;;
bench)
    packages+=("${mpi_packages[@]}")
    install_missing
    build build
    cmake --build build --target bench
    ;;
build)
    install_missing
    build build
    ;;
*)
    echo "usage: $0 sample|test|bench|build|tsan|fuzz [seconds]" >&2
    exit 2
    ;;
esac
