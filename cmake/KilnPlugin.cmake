# kiln_add_plugin(<name> SOURCES <files...> [OUTPUT_DIRECTORY <dir>] [LINK_LIBRARIES <libs...>])
#
# Builds a Kiln plugin: a MODULE library linking only the SDK, with hidden visibility so
# the one entry point is all it exports. The file is <name>.so in OUTPUT_DIRECTORY
# (default: KILN_PLUGIN_OUTPUT_DIRECTORY, or the current binary folder).
function(kiln_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIRECTORY" "SOURCES;LINK_LIBRARIES")
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
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Kiln::sdk ${ARG_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX "" SUFFIX ".so"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  # Undefined symbols are a link error, not a surprise at load time.
  target_link_options(${name} PRIVATE -Wl,-z,defs)
  if(COMMAND kiln_target_defaults)
    kiln_target_defaults(${name})
  else()
    target_compile_features(${name} PRIVATE cxx_std_20)
  endif()
endfunction()
