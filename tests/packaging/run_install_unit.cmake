# ctest -P script: `cmake --install` into a scratch prefix, then systemd-analyze verify the
# sottod.service it wrote, as written (no substitution): ExecStart, Documentation= and the
# EnvironmentFile/credential paths must name that prefix, and the first two must exist there.
set(prefix "${BUILD_DIR}/packaging-test-unit/prefix")
file(REMOVE_RECURSE "${BUILD_DIR}/packaging-test-unit")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
set(unit "${prefix}/lib/systemd/system/sottod.service")
if(NOT EXISTS "${unit}")
  message(FATAL_ERROR "no unit at ${unit}")
endif()
file(READ "${unit}" text)
foreach(line IN ITEMS "ExecStart=${prefix}/bin/sottod " "Documentation=file:${prefix}/share/doc/sotto/daemon.md"
                      "EnvironmentFile=-${prefix}/etc/default/sottod"
                      "LoadCredential=store-key:${prefix}/etc/sotto/store.key")
  string(FIND "${text}" "${line}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the installed unit lacks '${line}':\n${text}")
  endif()
endforeach()
foreach(f IN ITEMS bin/sottod share/doc/sotto/daemon.md share/dbus-1/system.d/sotto.conf
                   lib/sysusers.d/sotto.conf)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "${prefix}/${f} was not installed")
  endif()
endforeach()
execute_process(COMMAND ${SYSTEMD_ANALYZE} verify "${unit}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT out STREQUAL "" OR NOT err STREQUAL "")
  message(FATAL_ERROR "systemd-analyze verify on the installed unit: rc=${rc}\n${out}${err}")
endif()
# The neighbour: the same unit once its program is gone is refused.
file(REMOVE "${prefix}/bin/sottod")
execute_process(COMMAND ${SYSTEMD_ANALYZE} verify "${unit}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 AND out STREQUAL "" AND err STREQUAL "")
  message(FATAL_ERROR "systemd-analyze verify accepted a unit whose ExecStart is missing")
endif()
message(STATUS "the installed unit verifies; without its program it is refused: ${err}")
