# ctest -P script: install the build tree into a scratch prefix, then configure consumers of
# find_package(sotto ... COMPONENTS ...) (tests/packaging/components):
#   * core alone, with CURL, sdbus-c++ and Protobuf disabled and only libsodium visible to
#     pkg-config (no SQLCipher, no libzip): found, builds, runs; no other component's target;
#   * the neighbour: core and store under the same conditions is refused (REQUIRED) naming
#     SQLCipher;
#   * QUIET with a hidden dependency: sotto_FOUND is FALSE and configuring goes on;
#   * an unknown component is refused;
#   * the umbrella sotto::sotto alone builds the full consumer (tests/packaging/main.cpp);
#   * internal libraries are not installed as targets or archives of their own.
set(prefix "${BUILD_DIR}/packaging-test-components/prefix")
set(work "${BUILD_DIR}/packaging-test-components")
file(REMOVE_RECURSE "${work}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()

# pkg-config sees libsodium only.
execute_process(COMMAND ${PKG_CONFIG} --variable=pcfiledir libsodium OUTPUT_VARIABLE pcdir
                OUTPUT_STRIP_TRAILING_WHITESPACE)
file(MAKE_DIRECTORY "${work}/pc")
file(COPY "${pcdir}/libsodium.pc" DESTINATION "${work}/pc")
set(hide -DCMAKE_DISABLE_FIND_PACKAGE_CURL=ON -DCMAKE_DISABLE_FIND_PACKAGE_sdbus-c++=ON
         -DCMAKE_DISABLE_FIND_PACKAGE_Protobuf=ON)

function(consumer name expect_ok)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_LIBDIR=${PKG_LIBDIR}
                          ${CMAKE_COMMAND} -S "${SOURCE_DIR}/components" -B "${work}/${name}"
                          -DCMAKE_PREFIX_PATH=${prefix} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${name}_out "${out}${err}" PARENT_SCOPE)
  if(expect_ok AND rc)
    message(FATAL_ERROR "${name}: configuring failed:\n${out}${err}")
  elseif(NOT expect_ok AND NOT rc)
    message(FATAL_ERROR "${name}: configuring should have failed:\n${out}${err}")
  endif()
  if(expect_ok AND (EXISTS "${work}/${name}/build.ninja" OR EXISTS "${work}/${name}/Makefile"))
    execute_process(COMMAND ${CMAKE_COMMAND} --build "${work}/${name}" RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc)
      message(FATAL_ERROR "${name}: building failed:\n${out}${err}")
    endif()
    if(EXISTS "${work}/${name}/consumer")
      execute_process(COMMAND "${work}/${name}/consumer" RESULT_VARIABLE rc)
      if(rc)
        message(FATAL_ERROR "${name}: the consumer failed: ${rc}")
      endif()
    endif()
  endif()
  message(STATUS "${name}: as expected")
endfunction()

set(PKG_LIBDIR "${work}/pc")
consumer(core_hidden_deps TRUE "-DSOTTO_TEST_COMPONENTS=core" -DSOTTO_TEST_EXPECT=found
         "-DSOTTO_TEST_ABSENT=store|keyfile|fetch|tracer|platform_bluez|match" ${hide})
if(NOT EXISTS "${work}/core_hidden_deps/consumer")
  message(FATAL_ERROR "core_hidden_deps: no consumer was built")
endif()
consumer(core_store_hidden_sqlcipher FALSE "-DSOTTO_TEST_COMPONENTS=core|store"
         -DSOTTO_TEST_EXPECT=found ${hide})
if(NOT core_store_hidden_sqlcipher_out MATCHES "SQLCipher")
  message(FATAL_ERROR "the refusal does not name SQLCipher:\n${core_store_hidden_sqlcipher_out}")
endif()
consumer(quiet_hidden_curl TRUE "-DSOTTO_TEST_COMPONENTS=core|fetch"
         -DSOTTO_TEST_EXPECT=quiet-missing ${hide})
if(NOT quiet_hidden_curl_out MATCHES "sotto_FOUND=FALSE as expected: .*CURL")
  message(FATAL_ERROR "QUIET: no soft failure naming CURL:\n${quiet_hidden_curl_out}")
endif()
consumer(unknown_component FALSE "-DSOTTO_TEST_COMPONENTS=core|teleport" -DSOTTO_TEST_EXPECT=found)
if(NOT unknown_component_out MATCHES "no component 'teleport'")
  message(FATAL_ERROR "an unknown component is not named:\n${unknown_component_out}")
endif()

# With every dependency visible: QUIET finds core+fetch (the neighbour of the soft failure),
# and the umbrella builds the full consumer.
unset(ENV{PKG_CONFIG_LIBDIR})
execute_process(COMMAND ${PKG_CONFIG} --variable=pc_path pkg-config OUTPUT_VARIABLE PKG_LIBDIR
                OUTPUT_STRIP_TRAILING_WHITESPACE)
consumer(core_fetch_visible TRUE "-DSOTTO_TEST_COMPONENTS=core|fetch" -DSOTTO_TEST_EXPECT=found
         "-DSOTTO_TEST_ABSENT=store|tracer")
consumer(umbrella TRUE -DSOTTO_TEST_EXPECT=found)
if(NOT EXISTS "${work}/umbrella/consumer")
  message(FATAL_ERROR "umbrella: no consumer was built")
endif()

file(GLOB_RECURSE internal "${prefix}/*keyfile_proto*" "${prefix}/*bluez_decode*")
if(internal)
  message(FATAL_ERROR "internal libraries were installed: ${internal}")
endif()
file(GLOB_RECURSE cmake_files "${prefix}/*.cmake")
foreach(f IN LISTS cmake_files)
  file(READ "${f}" text)
  if(text MATCHES "keyfile_proto|bluez_decode")
    message(FATAL_ERROR "${f} names an internal library")
  endif()
endforeach()
