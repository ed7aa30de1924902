# Every C and C++ source of the project follows the repository's .clang-format (clang-format 14).
# Run as a ctest test (cmake -P) with SOURCE_DIR and CLANG_FORMAT set. SCAN_DIRS overrides the
# directories (used by the test that proves the check can fail).
if(NOT SCAN_DIRS)
  set(SCAN_DIRS apps bench bindings examples include lib platform tests)
  list(TRANSFORM SCAN_DIRS PREPEND "${SOURCE_DIR}/")
endif()
set(files "")
foreach(d IN LISTS SCAN_DIRS)
  file(GLOB_RECURSE more "${d}/*.c" "${d}/*.h" "${d}/*.cpp" "${d}/*.hpp" "${d}/*.cc")  # .cc: the fixture only
  list(APPEND files ${more})
endforeach()
list(FILTER files EXCLUDE REGEX "/tests/fixtures/(impure_core|sodium_init_elsewhere)/|/tests/fuzz/corpus/")
if(NOT SCAN_DIRS MATCHES "fixtures")
  list(FILTER files EXCLUDE REGEX "/tests/fixtures/")
endif()
list(LENGTH files n)
if(n EQUAL 0)
  message(FATAL_ERROR "no source files found under ${SCAN_DIRS}")
endif()
execute_process(COMMAND "${CLANG_FORMAT}" --style=file --dry-run --Werror ${files}
                WORKING_DIRECTORY "${SOURCE_DIR}"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  string(LENGTH "${err}" len)
  if(len GREATER 4000)
    string(SUBSTRING "${err}" 0 4000 err)
    string(APPEND err "\n...")
  endif()
  message(FATAL_ERROR "files not formatted with .clang-format (run scripts/format.sh):\n${err}")
endif()
message(STATUS "${n} files follow .clang-format")
