#!/usr/bin/env bash
# The two README commands, and a few more for developers:
#   ./build.sh sample     install what is missing, build, run the word-count sample
#   ./build.sh test       install what is missing, build, run every test (also under ASan/UBSan)
#   ./build.sh bench      build and run the benchmarks
#   ./build.sh build      just build (into build/)
set -euo pipefail
cd "$(dirname "$0")"

packages=(g++ cmake ninja-build libboost-dev nlohmann-json3-dev libspdlog-dev doctest-dev libcli11-dev)
# The MpiRunner plugin and its tests need Open MPI; the sample does not.
mpi_packages=(libopenmpi-dev openmpi-bin)
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

case "${1:-}" in
sample)
    install_missing
    build build
    build/bin/kiln run --project samples/wordcount --plugin-path build/samples/wordcount/plugins
    echo "== outputs:" && find samples/wordcount/data -newer samples/wordcount/pipelines.json -type f | sort
    ;;
test)
    packages+=("${mpi_packages[@]}")
    install_missing
    build build
    ctest --test-dir build --output-on-failure -j "$jobs"
    build build-asan -DKILN_SANITIZE=ON -DKILN_BUILD_BENCHMARKS=OFF
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
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
    echo "usage: $0 sample|test|bench|build" >&2
    exit 2
    ;;
esac
