#!/usr/bin/env bash
# Tests the installed Kiln package as an outside project uses it (see CMakeLists.txt):
#   consumer_test.sh wordcount|new_plugin|walkthrough BUILD_DIR SOURCE_DIR CMAKE GENERATOR MAKE_PROGRAM CXX
# Both modes install BUILD_DIR into a temporary prefix first.
#   wordcount:  builds samples/wordcount with find_package(Kiln) and runs it with the
#               installed kiln; builds a program linking Kiln::core and Kiln::runners and
#               checks Kiln::kiln and KILN_PLUGIN_DIR.
#   new_plugin: `kiln new plugin demo`, built as its README says and run with no
#               --plugin-path.
#   walkthrough: samples/walkthrough (a node, a runner and a hook plugin) built outside the
#               tree and run with its own runner and hook, the shipped DryRunner and --trace.
# With a KILN_SANITIZE build the consumers' plugins must get the sanitizer flags from the
# package: the installed kiln refuses plugins whose build key differs.
set -euo pipefail
mode=$1 build=$2 src=$3 cmake=$4 generator=$5 make_program=$6 cxx=$7

work=$(mktemp -d "$build/package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
kiln=$prefix/bin/kiln
unset KILN_PLUGIN_PATH  # plugins come from the install and the consumer builds only

fail() {
    echo "FAIL: $1" >&2
    [ $# -gt 1 ] && [ -f "$2" ] && sed 's/^/    /' "$2" >&2
    exit 1
}

# run LOG COMMAND...: runs it with its output in LOG; fails the test (showing LOG) if it fails.
run() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 || fail "exit code $? from: $*" "$log"
}

# configure_and_build SOURCE BINARY [CMAKE ARGS...]: as an outside project, with the compiler
# Kiln was built with. The package prints nothing, and it must be the one just installed.
configure_and_build() {
    run "$2.configure.log" "$cmake" -S "$1" -B "$2" -G "$generator" -DCMAKE_MAKE_PROGRAM="$make_program" \
        -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "${@:3}"
    if grep -q "CMake \(Warning\|Deprecation\)" "$2.configure.log" ||
        grep -v "Build files have been written" "$2.configure.log" | grep -q "Kiln\|kiln_"; then
        fail "find_package(Kiln) is not quiet" "$2.configure.log"
    fi
    grep -qx "Kiln_DIR:PATH=$prefix/lib/cmake/Kiln" "$2/CMakeCache.txt" ||
        fail "the project did not find the installed package: $(grep Kiln_DIR "$2/CMakeCache.txt")"
    run "$2.build.log" "$cmake" --build "$2"
}

run "$work/install.log" "$cmake" --install "$build" --prefix "$prefix"
for f in bin/kiln lib/kiln/plugins/kiln_datasets.so include/kiln/sdk.hpp include/kiln/version.hpp \
    include/kiln/embed.hpp lib/cmake/Kiln/KilnConfig.cmake \
    lib/cmake/Kiln/KilnConfigVersion.cmake lib/cmake/Kiln/KilnPlugin.cmake; do
    [ -e "$prefix/$f" ] || fail "cmake --install did not install $f" "$work/install.log"
done

case "$mode" in
wordcount)
    project=$work/wordcount
    cp -r "$src/samples/wordcount" "$project"
    rm -rf "$project/data/02_intermediate" "$project/data/03_primary" "$project/data/08_reporting" "$project/.kiln"
    configure_and_build "$project" "$work/wordcount-build"
    plugins=$work/wordcount-build/plugins
    [ -f "$plugins/wordcount.so" ] || fail "no wordcount.so in $plugins" "$work/wordcount-build.build.log"

    # The installed kiln loads its own dataset plugin from the prefix, and the consumer's.
    run "$work/plugins.log" "$kiln" plugins --project "$project" --plugin-path "$plugins"
    grep -q "$prefix/lib/kiln/plugins/kiln_datasets.so" "$work/plugins.log" &&
        grep -q "wordcount.so" "$work/plugins.log" || fail "kiln plugins does not list both plugins" "$work/plugins.log"

    run "$work/run.log" "$kiln" run --project "$project" --plugin-path "$plugins"
    grep -q "Completed 8 out of 8 tasks" "$work/run.log" || fail "not every node ran" "$work/run.log"
    counts=$project/data/02_intermediate/word_counts.json
    grep -q '"kiln": 4' "$counts" && grep -q '"clay": 4' "$counts" && ! grep -q '"the":' "$counts" ||
        fail "wrong word counts" "$counts"
    head -1 "$project/data/08_reporting/report.md" | grep -qx "# Word count report" ||
        fail "no report" "$project/data/08_reporting/report.md"
    echo "word counts of the sample, built against the installed package:"
    sed -n '/^| rank/,$p' "$project/data/08_reporting/report.md"

    # Embedding Kiln, the imported kiln and the plugin folder.
    mkdir "$work/embed"
    cat >"$work/embed/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(kiln_embed LANGUAGES CXX)
find_package(Kiln 0.1 REQUIRED)
foreach(target IN ITEMS Kiln::sdk Kiln::core Kiln::runners Kiln::kiln)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "find_package(Kiln) did not define ${target}")
  endif()
endforeach()
add_executable(embed main.cpp)
target_link_libraries(embed PRIVATE Kiln::runners)
file(GENERATE OUTPUT kiln_paths.txt CONTENT "$<TARGET_FILE:Kiln::kiln>\n${KILN_PLUGIN_DIR}\n")
CMAKE
    cat >"$work/embed/main.cpp" <<'CPP'
#include <iostream>
#include <kiln/embed.hpp>
#include <kiln/version.hpp>

int main() {
    std::cout << "Kiln " KILN_VERSION_STRING ":";
    for (const auto& name : kiln::builtin_runner_names()) std::cout << ' ' << name;
    std::cout << '\n';
}
CPP
    configure_and_build "$work/embed" "$work/embed-build"
    run "$work/embed.log" "$work/embed-build/embed"
    grep -q "SequentialRunner" "$work/embed.log" || fail "the embedding program does not list runners" "$work/embed.log"
    printf '%s\n%s\n' "$prefix/bin/kiln" "$prefix/lib/kiln/plugins" | cmp -s - "$work/embed-build/kiln_paths.txt" ||
        fail "Kiln::kiln or KILN_PLUGIN_DIR do not point into the prefix" "$work/embed-build/kiln_paths.txt"
    ;;
new_plugin)
    set +e
    "$kiln" new plugin demo --dir "$work/projects" >"$work/new.log" 2>&1
    rc=$?
    set -e
    [ $rc -eq 0 ] || fail "kiln new plugin demo: exit code $rc" "$work/new.log"
    project=$work/projects/demo
    for f in CMakeLists.txt src/demo.cpp pipelines.json catalog.json parameters.json README.md .gitignore; do
        [ -f "$project/$f" ] || fail "kiln new did not write $f" "$work/new.log"
    done
    # Refusals: an existing folder, a name that is not a C identifier.
    for args in "demo" "9lives"; do
        set +e
        "$kiln" new plugin $args --dir "$work/projects" >"$work/refused.log" 2>&1
        rc=$?
        set -e
        [ $rc -eq 2 ] || fail "kiln new plugin $args: exit code $rc, expected 2" "$work/refused.log"
    done
    grep -q "C identifier" "$work/refused.log" || fail "no reason given for refusing 9lives" "$work/refused.log"

    # The commands its README gives, in the project folder; a plugin-only project does not
    # need spdlog (hidden from find_package here).
    (cd "$project" && configure_and_build . build -DCMAKE_DISABLE_FIND_PACKAGE_spdlog=ON)
    [ -f "$project/plugins/demo.so" ] || fail "the build did not write plugins/demo.so" "$project/build.build.log"
    run "$work/run.log" "$kiln" run --project "$project"
    summary=$project/data/08_reporting/summary.json
    grep -q '"count": 5' "$summary" && grep -q '"mean": 13.5' "$summary" && grep -q '"above_threshold": 3' "$summary" ||
        fail "wrong summary" "$summary"
    run "$work/run2.log" "$kiln" run --project "$project" --params threshold=20
    grep -q '"above_threshold": 1' "$summary" || fail "--params threshold=20 was not used" "$summary"
    echo "kiln new plugin demo: built against the installed package and run:"
    cat "$summary"
    ;;
walkthrough)
    project=$work/walkthrough
    cp -r "$src/samples/walkthrough" "$project"
    rm -rf "$project/data/02_model" "$project/data/03_reporting" "$project/.kiln" "$project/build"
    configure_and_build "$project" "$project/build"
    plugins=$project/build/plugins
    for p in weather shuffle_runner slow_nodes; do
        [ -f "$plugins/$p.so" ] || fail "no $p.so in $plugins" "$project/build.build.log"
    done
    (cd "$project" && KILN_SHUFFLE_SEED=3 run "$work/run.log" "$kiln" run --project . --plugin-path build/plugins \
        --runner ShuffleRunner --trace run.json)
    grep -q "with shuffle.ShuffleRunner" "$work/run.log" && grep -q "slowest nodes:" "$work/run.log" ||
        fail "the walkthrough's runner or hook did not run" "$work/run.log"
    grep -qx "cairo" "$project/data/03_reporting/warmest.txt" || fail "wrong result" "$project/data/03_reporting/warmest.txt"
    grep -q '"traceEvents"' "$project/run.json" || fail "no trace written" "$work/run.log"
    (cd "$project" && run "$work/dry.log" "$kiln" run --project . --plugin-path build/plugins --runner DryRunner)
    grep -q "3. warmest (weather.warmest_station)" "$work/dry.log" || fail "the installed DryRunner did not list the nodes" "$work/dry.log"
    echo "walkthrough built against the installed package: runner, hook, DryRunner and trace work"
    ;;
*)
    fail "unknown mode '$mode'"
    ;;
esac
