# ctest -P script: install the build tree into a scratch prefix, pip-install bindings/python
# (no compiler, no network: --no-build-isolation --no-index) into a scratch directory, and run it
# against the installed libsotto found through the dynamic loader (LD_LIBRARY_PATH, no
# SOTTO_LIBRARY).
set(work "${BUILD_DIR}/packaging-test-python")
file(REMOVE_RECURSE "${work}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
file(COPY "${SOURCE_DIR}/" DESTINATION "${work}/src" PATTERN "__pycache__" EXCLUDE)
execute_process(COMMAND ${PYTHON} -m pip install --quiet --no-build-isolation --no-deps --no-index
                        --target "${work}/site" "${work}/src"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "pip install failed: ${rc}")
endif()
file(GLOB_RECURSE libs "${work}/prefix/libsotto.so.1")
list(GET libs 0 lib)
get_filename_component(libdir "${lib}" DIRECTORY)
set(ENV{LD_LIBRARY_PATH} "${libdir}")
set(ENV{PYTHONPATH} "${work}/site")
unset(ENV{SOTTO_LIBRARY})
execute_process(COMMAND ${PYTHON} -c
  "import sotto; assert sotto.derive_rpis(bytes.fromhex('75c734c6dd1a782de7a965da5eb93125'), 2642976, 1)[0].hex() == '8be6cd371c5c891604bfbe49df845096'; print('python package ok against', sotto._lib.lib._name)"
  WORKING_DIRECTORY "${work}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the installed package failed: ${rc}")
endif()
# The neighbour: without the loader path (and no system-wide libsotto) the import fails with the
# package's own message, so the success above came from the installed library.
unset(ENV{LD_LIBRARY_PATH})
execute_process(COMMAND ${PYTHON} -c "import sotto" WORKING_DIRECTORY "${work}"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc OR NOT err MATCHES "libsotto not found")
  message(FATAL_ERROR "importing without a findable libsotto should fail with 'libsotto not found': ${rc} ${err}")
endif()
