# kiln_add_plugin(<name> SOURCES <files...> [OUTPUT_DIRECTORY <dir>] [LINK_LIBRARIES <libs...>]
#                 [PRECOMPILE_SDK])
#
# Builds a Kiln plugin: a MODULE library linking only the SDK, with hidden visibility so
# the one entry point is all it exports. The file is <name>.so in OUTPUT_DIRECTORY
# (default: KILN_PLUGIN_OUTPUT_DIRECTORY, or the current binary folder).
#
# PRECOMPILE_SDK parses <kiln/sdk.hpp> once into a precompiled header: the first build
# takes a few seconds more, each rebuild after an edit about 40% less.
#
# Used inside the Kiln tree and, installed, through find_package(Kiln): then it first checks
# that this project's compiler and nlohmann_json match the host's build key.
function(kiln_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "PRECOMPILE_SDK" "OUTPUT_DIRECTORY" "SOURCES;LINK_LIBRARIES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "kiln_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    if(KILN_PLUGIN_OUTPUT_DIRECTORY)
      set(ARG_OUTPUT_DIRECTORY "${KILN_PLUGIN_OUTPUT_DIRECTORY}")
    else()
      set(ARG_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    endif()
  endif()
  if(KILN_BUILD_CXX_COMPILER_ID)  # an installed Kiln (KilnConfig.cmake) says how its host was built
    kiln_detail_check_build_key(${name})
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Kiln::sdk ${ARG_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX "" SUFFIX ".so"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  if(ARG_PRECOMPILE_SDK)
    target_precompile_headers(${name} PRIVATE <kiln/sdk.hpp>)
  endif()
  # Undefined symbols are a link error, not a surprise at load time.
  target_link_options(${name} PRIVATE -Wl,-z,defs)
  if(COMMAND kiln_target_defaults)
    kiln_target_defaults(${name})
  else()
    target_compile_features(${name} PRIVATE cxx_std_20)
  endif()
endfunction()

# The host refuses a plugin whose build key differs (kiln/abi.hpp): say so at configure time
# rather than when kiln loads the plugin.
function(kiln_detail_check_build_key name)
  string(REGEX MATCH "^[0-9]+" host_major "${KILN_BUILD_CXX_COMPILER_VERSION}")
  string(REGEX MATCH "^[0-9]+" our_major "${CMAKE_CXX_COMPILER_VERSION}")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL KILN_BUILD_CXX_COMPILER_ID OR NOT our_major STREQUAL host_major)
    message(FATAL_ERROR "kiln_add_plugin(${name}): Kiln was built with ${KILN_BUILD_CXX_COMPILER_ID} "
                        "${KILN_BUILD_CXX_COMPILER_VERSION} but this project compiles with ${CMAKE_CXX_COMPILER_ID} "
                        "${CMAKE_CXX_COMPILER_VERSION} (${CMAKE_CXX_COMPILER}); kiln refuses plugins built by another "
                        "compiler or major version. Configure with -DCMAKE_CXX_COMPILER=<the ${KILN_BUILD_CXX_COMPILER_ID} "
                        "${host_major} compiler>.")
  endif()
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" host_json "${KILN_BUILD_JSON_VERSION}")
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" our_json "${nlohmann_json_VERSION}")
  if(nlohmann_json_VERSION AND NOT our_json STREQUAL host_json)
    message(FATAL_ERROR "kiln_add_plugin(${name}): Kiln was built with nlohmann_json ${KILN_BUILD_JSON_VERSION} but "
                        "this project found ${nlohmann_json_VERSION} (${nlohmann_json_DIR}); kiln refuses plugins "
                        "built with another major.minor version. Point nlohmann_json_DIR at version ${host_json}.")
  endif()
endfunction()
