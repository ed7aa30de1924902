# ctest -P script (java.installed): installs the build tree into a scratch prefix and runs a
# short JniStress with the INSTALLED sotto.jar and libsotto_jni.so only (no build-tree library
# path: libsotto_jni finds libsotto.so.1 through its $ORIGIN/.. run path).
set(prefix "${BUILD_DIR}/java-install-test/prefix")
file(REMOVE_RECURSE "${BUILD_DIR}/java-install-test")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
set(jar "${prefix}/${DATADIR}/java/sotto.jar")
set(jni "${prefix}/${LIBDIR}/jni/libsotto_jni.so")
foreach(f IN ITEMS "${jar}" "${jni}")
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
set(ENV{LD_LIBRARY_PATH} "")
execute_process(COMMAND ${JAVA} -Djava.library.path=${prefix}/${LIBDIR}/jni
                        -cp "${jar}:${TESTS_JAR}" org.sotto.JniStress 20000
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT out MATCHES "calls 20000")
  message(FATAL_ERROR "the installed binding failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "${out}")
