# ctest -P script: install the build tree into a scratch prefix, then compile a C11 consumer with
# the flags `pkg-config --cflags --libs sotto` gives for that prefix, and run it.
set(prefix "${BUILD_DIR}/packaging-test-c/prefix")
file(REMOVE_RECURSE "${BUILD_DIR}/packaging-test-c")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
file(GLOB_RECURSE pc_files "${prefix}/sotto.pc")
list(LENGTH pc_files n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected exactly one installed sotto.pc, found: ${pc_files}")
endif()
get_filename_component(pc_dir "${pc_files}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
set(ENV{PKG_CONFIG_LIBDIR} "${pc_dir}")  # only the scratch prefix, never a system-wide sotto
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs sotto OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(rc)
  message(FATAL_ERROR "pkg-config --cflags --libs sotto failed: ${rc}")
endif()
execute_process(COMMAND ${PKG_CONFIG} --variable=libdir sotto OUTPUT_VARIABLE libdir
                OUTPUT_STRIP_TRAILING_WHITESPACE)
separate_arguments(flags UNIX_COMMAND "${flags}")
execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror -pedantic "${SOURCE_DIR}/consumer.c"
                        ${flags} "-Wl,-rpath,${libdir}" -o "${BUILD_DIR}/packaging-test-c/consumer"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "compiling the C consumer failed: ${rc}")
endif()
execute_process(COMMAND "${BUILD_DIR}/packaging-test-c/consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the C consumer failed: ${rc}")
endif()
