# Checks the generated sottod.service (apps/sottod/sottod.service.in) with systemd-analyze (works
# without systemd as PID 1). The unit as installed is verified, unchanged, by
# tests/packaging/run_install_unit.cmake and scripts/package-test.sh; here ExecStart points at the
# built program so that the checks below run before anything is installed:
#   * the unit verifies with no message at all (warnings count as failures),
#   * its offline security exposure is at most 2.0 ("OK"),
#   * the hardening lines docs/daemon.md explains are all present,
#   * broken copies of it ARE rejected (so the check itself can fail).
# Usage: cmake -DUNIT=<sottod.service> -DINSTALLED_EXEC=<its ExecStart binary>
#              -DEXEC=<an existing executable> -DWORK=<dir> -P check_unit.cmake
find_program(SYSTEMD_ANALYZE systemd-analyze REQUIRED)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
file(READ "${UNIT}" unit)
# verify insists that ExecStart's binary exists: point it at a built program.
string(FIND "${unit}" "ExecStart=${INSTALLED_EXEC} " at)
if(at EQUAL -1)
  message(FATAL_ERROR "sottod.service: ExecStart is not ${INSTALLED_EXEC}")
endif()
string(REPLACE "ExecStart=${INSTALLED_EXEC} " "ExecStart=${EXEC} " unit "${unit}")

function(verify name text expect_ok)
  file(WRITE "${WORK}/${name}.service" "${text}")
  execute_process(COMMAND ${SYSTEMD_ANALYZE} verify "${WORK}/${name}.service"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 AND out STREQUAL "" AND err STREQUAL "")
    set(accepted TRUE)
  else()
    set(accepted FALSE)
  endif()
  if(expect_ok AND NOT accepted)
    message(FATAL_ERROR "${name}.service should verify cleanly but: rc=${rc}\n${out}${err}")
  endif()
  if(NOT expect_ok AND accepted)
    message(FATAL_ERROR "${name}.service is broken but systemd-analyze verify accepted it")
  endif()
  message(STATUS "${name}.service: accepted=${accepted} ${err}")
endfunction()

verify(sottod "${unit}" TRUE)

execute_process(COMMAND ${SYSTEMD_ANALYZE} security --offline=yes --threshold=20 "${WORK}/sottod.service"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sottod.service: security exposure above 2.0:\n${out}${err}")
endif()

foreach(line IN ITEMS
    "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes"
    "StateDirectory=sotto" "RuntimeDirectory=sotto" "LoadCredential=store-key:${SYSCONFDIR}/sotto/store.key"
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "CapabilityBoundingSet=\n"
    "SystemCallFilter=@system-service" "DynamicUser=yes" "Group=sotto" "UMask=0077"
    "--key-file \${CREDENTIALS_DIRECTORY}/store-key" "--store \${STATE_DIRECTORY}/store.db")
  string(FIND "${unit}" "${line}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "sottod.service lacks '${line}'")
  endif()
endforeach()

# No supplementary group: a group that does not exist (no BlueZ, no "bluetooth") fails the start
# with 216/GROUP; the only group named is "sotto", which the package's sysusers.d creates.
foreach(line IN ITEMS "SupplementaryGroups=" "User=")
  string(FIND "${unit}" "\n${line}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "sottod.service must not set ${line}")
  endif()
endforeach()

# Negative neighbours: each must be rejected.
string(REPLACE "ProtectSystem=strict" "ProtectSytem=strict" b "${unit}")
verify(broken-misspelled-key "${b}" FALSE)
string(REPLACE "NoNewPrivileges=yes" "NoNewPrivileges=perhaps" b "${unit}")
verify(broken-bad-boolean "${b}" FALSE)
string(REPLACE "${EXEC}" "/nonexistent/sottod" b "${unit}")
verify(broken-missing-binary "${b}" FALSE)
string(REPLACE "RestrictAddressFamilies=AF_UNIX" "RestrictAddressFamilies=AF_NOPE" b "${unit}")
verify(broken-address-family "${b}" FALSE)
string(REPLACE "[Service]" "[Servcie]" b "${unit}")
verify(broken-section "${b}" FALSE)
