# ctest -P script: install the build tree into a scratch prefix, then configure, build and run
# the consumer project against it. In a cross build (TOOLCHAIN_FILE set) the consumer uses the same
# toolchain and sysroot, finds sotto through sotto_DIR (the toolchain confines find_package to the
# sysroot) and runs under EMULATOR ("|"-separated command).
set(prefix "${BUILD_DIR}/packaging-test/prefix")
set(consumer "${BUILD_DIR}/packaging-test/consumer")
file(REMOVE_RECURSE "${BUILD_DIR}/packaging-test")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
set(cross_args "")
if(TOOLCHAIN_FILE)
  set(cross_args -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE} -DSOTTO_SYSROOT=${SYSROOT}
                 -Dsotto_DIR=${prefix}/${LIBDIR}/cmake/sotto)
endif()
string(REPLACE "|" ";" emulator "${EMULATOR}")
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${consumer}" -DCMAKE_PREFIX_PATH=${prefix}
                        ${cross_args}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${consumer}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${emulator} "${consumer}/consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
