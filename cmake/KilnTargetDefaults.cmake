# Per-target settings shared by everything Kiln builds: C++20, warnings, and the
# sanitizers when KILN_SANITIZE or KILN_SANITIZE_THREAD is on (plugins must match the host: the build key checks).
function(kiln_target_defaults target)
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF POSITION_INDEPENDENT_CODE ON)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(KILN_SANITIZE)
    # -O1: the usual level for sanitizers, and much quicker to build than -O2.
    target_compile_options(${target} PRIVATE -O1 -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(KILN_SANITIZE_THREAD)
    target_compile_options(${target} PRIVATE -O1 -fsanitize=thread)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
  if(KILN_BUILD_FUZZERS)
    # Coverage feedback for libFuzzer in everything the harnesses reach.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# For Kiln's own libraries of many files: a unity build when KILN_UNITY_BUILD is on (8 files
# a translation unit), over a precompiled header of the big headers nearly every file
# includes (plus ARGN). Two files whose file-local helpers share a name then clash in a
# "redefinition" error: share the helper or rename one (grouping files by folder instead
# was tried, and was 7% slower).
function(kiln_batch_build target)
  if(KILN_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
  target_precompile_headers(${target} PRIVATE <filesystem> <map> <memory> <nlohmann/json.hpp> <string> <vector> ${ARGN})
endfunction()
