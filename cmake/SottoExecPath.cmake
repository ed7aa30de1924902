# sotto_exec_path(<var> <target>): sets <var> to the path that test code should execute to run the
# program <target> (with fork/execv, posix_spawn, ...): normally $<TARGET_FILE:target>. In a cross
# build whose programs run under an emulator (CMAKE_CROSSCOMPILING_EMULATOR, see
# cmake/SottoCrossLinux.cmake) it is a generated launcher script, <build>/emulated/<target>, that
# execs the emulator on the real program with the same arguments: the host kernel runs the script,
# and without binfmt_misc it could not run a foreign binary directly. The launcher replaces itself
# with the emulator (exec), so the child's pid, exit status and fatal signals are the program's.
function(sotto_exec_path var target)
  if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR)
    set(emulator "")
    foreach(arg IN LISTS CMAKE_CROSSCOMPILING_EMULATOR)
      string(APPEND emulator "'${arg}' ")
    endforeach()
    set(launcher "${PROJECT_BINARY_DIR}/emulated/${target}")
    file(GENERATE OUTPUT "${launcher}"
         CONTENT "#!/bin/sh\nexec ${emulator}'$<TARGET_FILE:${target}>' \"$@\"\n"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                          WORLD_READ WORLD_EXECUTE)
    set(${var} "${launcher}" PARENT_SCOPE)
  else()
    set(${var} "$<TARGET_FILE:${target}>" PARENT_SCOPE)
  endif()
endfunction()
