# Install rules and the CMake package (find_package(sotto CONFIG [COMPONENTS ...])), guarded by
# SOTTO_INSTALL.
#
# Every library is one component with an export set of its own (sotto-<component>-targets.cmake),
# so sottoConfig.cmake looks for the dependencies of the components asked for and nothing else.
# The component names are the target names after "sotto::"; "bluez" and "simulated" are short
# for platform_bluez and platform_simulated.
include(CMakePackageConfigHelpers)

# component -> target, the components it links (in this package), its external dependencies
# (keys of the dependency table in sottoConfig.cmake.in).
set(_sotto_components "")
macro(_sotto_component comp target)
  cmake_parse_arguments(_c "" "" "NEEDS;DEPS" ${ARGN})
  if(TARGET ${target})
    list(APPEND _sotto_components ${comp})
    set(_sotto_target_${comp} ${target})
    set(_sotto_needs_${comp} ${_c_NEEDS})
    set(_sotto_deps_${comp} ${_c_DEPS})
  endif()
endmacro()
_sotto_component(core sotto_core DEPS sodium openssl)
_sotto_component(log sotto_log)
_sotto_component(match sotto_match NEEDS core DEPS threads)
_sotto_component(keyfile sotto_keyfile NEEDS core DEPS protobuf libzip openssl)
_sotto_component(store sotto_store NEEDS core DEPS sqlcipher sodium)
_sotto_component(ble sotto_ble NEEDS core)
_sotto_component(tracer sotto_tracer NEEDS core store keyfile match ble log)
_sotto_component(host sotto_host NEEDS store keyfile)
_sotto_component(platform_simulated sotto_platform_simulated NEEDS ble)
_sotto_component(platform_bluez sotto_platform_bluez NEEDS core DEPS sdbus threads)
_sotto_component(fetch sotto_fetch NEEDS core DEPS curl sodium)
_sotto_component(update sotto_update NEEDS tracer fetch keyfile core)
_sotto_component(c sotto_c)  # shared: its dependencies are the shared library's own

# Internal libraries stay private: their objects go into the archive of the library that uses
# them, and the installed interface no longer names them (the build tree still links them).
macro(_sotto_fold_private internal into)
  if(TARGET ${internal} AND TARGET ${into})
    target_sources(${into} PRIVATE $<TARGET_OBJECTS:${internal}>)
    get_target_property(_links ${into} INTERFACE_LINK_LIBRARIES)
    list(TRANSFORM _links REPLACE "^\\$<LINK_ONLY:${internal}>$"
                                  "$<LINK_ONLY:$<BUILD_INTERFACE:${internal}>>")
    set_target_properties(${into} PROPERTIES INTERFACE_LINK_LIBRARIES "${_links}")
  endif()
endmacro()
_sotto_fold_private(sotto_keyfile_proto sotto_keyfile)
_sotto_fold_private(sotto_platform_bluez_decode sotto_platform_bluez)

set(_sotto_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/sotto)
set(SOTTO_COMPONENT_TABLE "")
foreach(comp IN LISTS _sotto_components)
  set(lib ${_sotto_target_${comp}})
  string(REPLACE "sotto_" "" short ${lib})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${short})
  install(TARGETS ${lib} EXPORT sotto-${comp}-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT sotto-${comp}-targets NAMESPACE sotto:: DESTINATION ${_sotto_cmake_dir})
  string(APPEND SOTTO_COMPONENT_TABLE
    "set(_sotto_needs_${comp} \"${_sotto_needs_${comp}}\")\n"
    "set(_sotto_deps_${comp} \"${_sotto_deps_${comp}}\")\n")
endforeach()
set(SOTTO_COMPONENTS "${_sotto_components}")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sottoConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sottoConfig.cmake
  INSTALL_DESTINATION ${_sotto_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sottoConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sottoConfig.cmake ${PROJECT_BINARY_DIR}/sottoConfigVersion.cmake
  DESTINATION ${_sotto_cmake_dir})

# sotto.pc: the C ABI (libsotto.so) for pkg-config. Relocatable: the prefix is found from the
# .pc file's own location, so the installed tree may be moved.
if(TARGET sotto_c)
  file(RELATIVE_PATH SOTTO_PC_RELPREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
  string(REGEX REPLACE "/$" "" SOTTO_PC_RELPREFIX "${SOTTO_PC_RELPREFIX}")
  file(RELATIVE_PATH SOTTO_PC_LIBDIR "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_LIBDIR}")
  file(RELATIVE_PATH SOTTO_PC_INCLUDEDIR "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/sotto.pc.in ${PROJECT_BINARY_DIR}/sotto.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/sotto.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/sotto)
endif()
