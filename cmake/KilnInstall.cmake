# `cmake --install` layout and the CMake package (find_package(Kiln)):
#
#   bin/kiln                        the host
#   lib/kiln/plugins/*.so           the plugins Kiln ships (kiln finds them relative to itself)
#   include/kiln/...                the SDK, and kiln/embed.hpp for embedding
#   lib/libkiln_core.a, ...         the static libraries, for embedding
#   lib/cmake/Kiln/                 KilnConfig.cmake: Kiln::sdk, Kiln::core, Kiln::runners,
#                                   Kiln::kiln, KILN_PLUGIN_DIR and kiln_add_plugin()
#
# Each component installs its own targets into the export set KilnTargets; this file
# writes the package around them. Included before the components, for the two helpers.
include(CMakePackageConfigHelpers)

# Fixed, not CMAKE_INSTALL_LIBDIR: the kiln binary looks for ../lib/kiln/plugins.
set(KILN_INSTALL_PLUGINDIR "lib/kiln/plugins")
set(KILN_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/Kiln")

# kiln_install_shipped_plugin(<target>): installs a plugin Kiln ships next to the
# installed kiln, which loads it with no --plugin-path.
function(kiln_install_shipped_plugin target)
  install(TARGETS ${target} LIBRARY DESTINATION "${KILN_INSTALL_PLUGINDIR}")
endfunction()

# kiln_install_library(<target> <export name> [<public include dir>]): installs a Kiln
# library as Kiln::<export name>, with the headers under <dir>/kiln when a dir is given
# (found through Kiln::sdk's include/, which every Kiln library links).
function(kiln_install_library target export_name)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  install(TARGETS ${target} EXPORT KilnTargets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  if(ARGC GREATER 2)
    install(DIRECTORY "${ARGV2}/kiln" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" FILES_MATCHING PATTERN "*.hpp")
  endif()
endfunction()

install(EXPORT KilnTargets NAMESPACE Kiln:: DESTINATION "${KILN_INSTALL_CMAKEDIR}")
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/KilnConfig.cmake.in" "${PROJECT_BINARY_DIR}/KilnConfig.cmake"
                              INSTALL_DESTINATION "${KILN_INSTALL_CMAKEDIR}"
                              PATH_VARS KILN_INSTALL_PLUGINDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/KilnConfigVersion.cmake"
                                 COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/KilnConfig.cmake" "${PROJECT_BINARY_DIR}/KilnConfigVersion.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/KilnPlugin.cmake"
        DESTINATION "${KILN_INSTALL_CMAKEDIR}")
