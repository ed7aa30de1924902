# Install rules and the CMake package (find_package(sotto CONFIG)), guarded by SOTTO_INSTALL.
include(CMakePackageConfigHelpers)

# Libraries exported as sotto::<name>.
set(SOTTO_EXPORTED_LIBS sotto_core sotto_match)
foreach(lib IN ITEMS sotto_store sotto_keyfile sotto_keyfile_proto sotto_log sotto_host sotto_tracer sotto_ble
                    sotto_platform_simulated sotto_platform_bluez_decode sotto_platform_bluez sotto_fetch sotto_update sotto_c)
  if(TARGET ${lib})
    list(APPEND SOTTO_EXPORTED_LIBS ${lib})
  endif()
endforeach()
foreach(lib IN LISTS SOTTO_EXPORTED_LIBS)
  string(REPLACE "sotto_" "" short ${lib})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${short})
endforeach()

install(TARGETS ${SOTTO_EXPORTED_LIBS} EXPORT sotto-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT sotto-targets NAMESPACE sotto:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sotto)

set(SOTTO_CONFIG_EXTRA "")
if(TARGET sotto_store)
  string(APPEND SOTTO_CONFIG_EXTRA "pkg_check_modules(sqlcipher REQUIRED IMPORTED_TARGET sqlcipher)\n")
endif()
if(TARGET sotto_keyfile)
  string(APPEND SOTTO_CONFIG_EXTRA "find_dependency(Protobuf 3.21)\npkg_check_modules(libzip REQUIRED IMPORTED_TARGET libzip>=1.7)\n")
endif()
if(TARGET sotto_platform_bluez)
  string(APPEND SOTTO_CONFIG_EXTRA "find_dependency(sdbus-c++ 1.2)\n")
endif()
if(TARGET sotto_fetch)
  string(APPEND SOTTO_CONFIG_EXTRA "find_dependency(CURL 7.85)\n")
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sottoConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sottoConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sotto)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sottoConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sottoConfig.cmake ${PROJECT_BINARY_DIR}/sottoConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sotto)

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
